"""Account mail off the request path: a reset request and a sign-up answer at once, the same for an
address with an account and one without, and the work that differs (a token, rows, the mail itself) is
done here, on one background thread per process. The routes queue a job only once their answer has been
sent (a Starlette background task), and a job starts ``delay_s`` after it was queued: a job running
beside the request would slow its answer by as much as the job's work, which differs (measured in
tests/security/test_accounts_timing.py: 5.0 against 3.2 ms with the job started at once).

Mail is sent after its transaction commits. A mail that cannot be sent is logged by address and subject
only: a link never reaches a log. A process that stops with work queued loses it (the person asks again).
"""

from __future__ import annotations

import logging
import smtplib
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

from sqlalchemy.orm import Session

from facecoach.members import auth, signup
from facecoach.members.db import Database
from facecoach.members.mail import Mail, Mailer

log = logging.getLogger(__name__)


class MailJobs:
    """Runs account-mail jobs in order on one thread; at most ``max_pending`` wait (more are dropped and
    logged: the rate limits keep honest use far below that)."""

    def __init__(
        self, db: Database, mailer: Mailer, base_url: str, max_pending: int = 1000, delay_s: float = 0.05
    ) -> None:
        self.db = db
        self.delay_s = delay_s
        self.mailer = mailer
        self.base_url = base_url
        self.max_pending = max_pending
        self._pool: ThreadPoolExecutor | None = None
        self._futures: set[Future[None]] = set()
        self._lock = threading.Lock()

    def reset(self, email: str) -> None:
        self._submit(lambda s: auth.request_reset(s, email, self.base_url))

    def signup(self, email: str, name: str, password_hash: str) -> None:
        self._submit(lambda s: signup.request_signup(s, email, name, password_hash, self.base_url))

    def send_later(self, job: Callable[[Session], Mail | None]) -> None:
        """Queue any mail job: ``job(session)`` records what it must and returns the mail (or None)."""
        self._submit(job)

    def _submit(self, job: Callable[[Session], Mail | None]) -> None:
        with self._lock:
            if len(self._futures) >= self.max_pending:
                log.warning("account mail queue full (%d jobs): a request was dropped", len(self._futures))
                return
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="facecoach-mail")
            future = self._pool.submit(self._run, job, time.monotonic() + self.delay_s)
            self._futures.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._futures.discard(future)

    def _run(self, job: Callable[[Session], Mail | None], not_before: float) -> None:
        time.sleep(max(0.0, not_before - time.monotonic()))
        try:
            with self.db.session() as s:
                mail = job(s)
        except Exception:
            log.exception("account mail job failed")
            return
        if mail is None:
            return
        try:
            self.mailer.send(mail)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("mail %r to %s not sent: %s", mail.subject, mail.to, exc)

    def drain(self, timeout_s: float = 30.0) -> bool:
        """Waits for the queued jobs (shutdown, tests); False if some are still running at the timeout."""
        with self._lock:
            pending = list(self._futures)
        return not wait(pending, timeout=timeout_s).not_done

    def shutdown(self) -> None:
        """Finishes the queued jobs; a later job starts a new thread (an app may be started again)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
