"""Bounds on costly work in flight: photo scans per process and per member, video audits on the site
and per member. Over capacity the request is refused at once with a status and a ``Retry-After`` —
nothing waits in an unbounded queue, so ten uploads at once cost at most the bound, not ten scans."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from facecoach.members.models import AuditJob, utcnow

#: Seconds a refused client is told to wait: about one photo scan.
SCAN_RETRY_AFTER_S = 5
#: Seconds a refused audit is told to wait: about one short audit.
AUDIT_RETRY_AFTER_S = 60


class Busy(Exception):
    """Over capacity: ``status`` 503 (the server's bound) or 429 (this member's), with ``retry_after_s``."""

    def __init__(self, status: int, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after_s = retry_after_s

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class Slots:
    """At most ``total`` holders at once in this process, and ``per_member`` for one member."""

    def __init__(self, total: int, per_member: int, retry_after_s: int = SCAN_RETRY_AFTER_S) -> None:
        self.total = total
        self.per_member = per_member
        self.retry_after_s = retry_after_s
        self._lock = threading.Lock()
        self._held: Counter[int] = Counter()

    @property
    def in_flight(self) -> int:
        with self._lock:
            return sum(self._held.values())

    @contextmanager
    def hold(self, member_id: int) -> Iterator[None]:
        """One slot for the ``with`` block; :class:`Busy` at once when there is none."""
        with self._lock:
            if self._held[member_id] >= self.per_member:
                raise Busy(
                    429,
                    "Your previous scan is still running: try again in a few seconds.",
                    self.retry_after_s,
                )
            if sum(self._held.values()) >= self.total:
                raise Busy(
                    503,
                    "The server is busy with other scans: try again in a few seconds.",
                    self.retry_after_s,
                )
            self._held[member_id] += 1
        try:
            yield
        finally:
            with self._lock:
                self._held[member_id] -= 1
                if self._held[member_id] <= 0:
                    del self._held[member_id]


def check_audit_capacity(
    db: Session, member_id: int, per_member: int, pending: int, stale_after_s: float
) -> None:
    """Raise :class:`Busy` when the member already has ``per_member`` audits waiting or running, or the
    site ``pending`` ones (rows in the database, so it holds across workers). Rows older than
    ``stale_after_s`` (the longest an audit may take) no longer count: a job orphaned by a restart must
    not lock its member out."""
    since = utcnow() - dt.timedelta(seconds=stale_after_s)
    open_jobs = select(func.count(AuditJob.id)).where(
        AuditJob.status.in_(("queued", "running")), AuditJob.created_at >= since
    )
    if (db.scalar(open_jobs.where(AuditJob.user_id == member_id)) or 0) >= per_member:
        raise Busy(
            429,
            f"You already have {per_member} audits running: wait until one has finished.",
            AUDIT_RETRY_AFTER_S,
        )
    if (db.scalar(open_jobs) or 0) >= pending:
        raise Busy(503, "The server is busy with other audits: try again in a minute.", AUDIT_RETRY_AFTER_S)
