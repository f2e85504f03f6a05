"""Live coaching's capacity counts: JPEG-mode sessions of a worker, and what each member holds.

:class:`JpegSlots`: JPEG-mode connections each run a Python landmarker, so a worker serves at most
``max_jpeg_sessions`` of them at once. :class:`MemberSlots` (issue 11): one member could hold every
JPEG-mode slot of a worker (4 of 4) and 200 sockets; each member may hold ``max_sockets_per_member``
sockets and ``max_jpeg_sessions_per_member`` JPEG-mode sessions at once (:class:`LiveSettings`).

Both count in this process; with ``REDIS_URL`` set the app uses :class:`facecoach.web.backends.RedisJpegSlots`
(per machine) and :class:`facecoach.web.backends.RedisMemberSlots` (per site) instead.
"""

from __future__ import annotations

import threading
from collections import Counter

#: What is counted per member: open sockets, and sockets in JPEG mode.
SOCKET = "socket"
JPEG = "jpeg"


class JpegSlots:
    """How many JPEG-mode connections (each running a Python landmarker) this worker serves at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.in_use = 0

    def acquire(self, limit: int) -> bool:
        with self._lock:
            if self.in_use >= limit:
                return False
            self.in_use += 1
            return True

    def release(self) -> None:
        with self._lock:
            self.in_use = max(0, self.in_use - 1)


class MemberSlots:
    """In-process counts of (kind, member id) slots held."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: Counter[tuple[str, int]] = Counter()

    def acquire(self, kind: str, member_id: int, limit: int) -> bool:
        with self._lock:
            if self._held[(kind, member_id)] >= limit:
                return False
            self._held[(kind, member_id)] += 1
            return True

    def release(self, kind: str, member_id: int) -> None:
        with self._lock:
            key = (kind, member_id)
            if self._held[key] <= 1:
                self._held.pop(key, None)
            else:
                self._held[key] -= 1

    def held(self, kind: str, member_id: int) -> int:
        with self._lock:
            return self._held[(kind, member_id)]
