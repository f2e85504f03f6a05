"""Per-member caps on live coaching (issue 11): one member could hold every JPEG-mode slot of a worker
(4 of 4) and 200 sockets. Each member may hold ``max_sockets_per_member`` sockets and
``max_jpeg_sessions_per_member`` JPEG-mode sessions at once (:class:`LiveSettings`).

:class:`MemberSlots` counts in this process; with ``REDIS_URL`` set the app uses
:class:`facecoach.web.backends.RedisMemberSlots` instead, which counts across every worker and machine
(as the JPEG slots are shared).
"""

from __future__ import annotations

import threading
from collections import Counter

#: What is counted per member: open sockets, and sockets in JPEG mode.
SOCKET = "socket"
JPEG = "jpeg"


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
