"""Shared-state backends: what several web worker processes (or machines) must agree on.

* **Sessions** already live in the database (``auth_sessions``; the cookie only carries a signed id), so
  every worker behind one address sees every login and logout with no extra store.
* **Rate limits** (login, sign-up, password reset): in-process by default; a Redis sliding window when
  ``REDIS_URL`` is set, so five wrong passwords are five whichever worker answers them.
* **Live coaching**: a WebSocket is one TCP connection held by one worker, so a session's evaluator state
  stays in that worker. What workers must share is capacity: the JPEG-mode slots (each runs the Python
  landmarker on this machine's CPU) are counted per machine in Redis when it is configured, instead of
  per process, and so are each member's caps (sockets, JPEG-mode sessions), per site.

Every Redis operation is one atomic Lua script; keys start with ``FACECOACH_QUEUE_NAMESPACE`` so several
sites can share one Redis server.
"""

from __future__ import annotations

import logging
import math
import os
import secrets
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

from facecoach.config import Settings
from facecoach.live.slots import JpegSlots, MemberSlots
from facecoach.members.auth import MemoryRateLimiter, RateLimiter

if TYPE_CHECKING:
    import redis

KEY_PREFIX = "facecoach:"
log = logging.getLogger(__name__)

# Sliding window over a sorted set of attempt times (seconds): drop the old, count, add if under the limit.
_HIT_SCRIPT = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) >= limit then
  return 0
end
redis.call('ZADD', key, now, ARGV[4])
redis.call('PEXPIRE', key, math.ceil(window * 1000))
return 1
"""

# Leased slots: a sorted set of holder tokens scored by lease expiry (seconds), so a worker killed while
# holding a slot gives it back when the lease runs out instead of leaking it for ever.
_ACQUIRE_SCRIPT = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local expires = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if redis.call('ZCARD', key) >= limit then
  return 0
end
redis.call('ZADD', key, expires, ARGV[4])
redis.call('EXPIRE', key, math.ceil(expires - now) + 60)
return 1
"""


def redis_client(url: str) -> redis.Redis:
    """A client with short timeouts: a slow Redis must fail a request, not hang a worker."""
    import redis as redis_lib

    return redis_lib.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)


class RedisRateLimiter:
    """The :class:`facecoach.members.auth.RateLimiter` protocol on Redis: ``limit`` attempts per
    ``window_s`` seconds per key, shared by every process that talks to the same Redis.

    If Redis cannot be reached the limit still holds, per process (an in-process window takes over and
    a warning is logged): logins keep working and guessing stays bounded.
    """

    def __init__(
        self, client: redis.Redis, limit: int = 5, window_s: float = 300.0, prefix: str = KEY_PREFIX
    ) -> None:
        self._client = client
        self.limit = limit
        self.window_s = window_s
        self._prefix = prefix + "rl:"
        self._hit: Any = client.register_script(_HIT_SCRIPT)
        self._fallback = MemoryRateLimiter(limit=limit, window_s=window_s)

    def hit(self, key: str) -> bool:
        import redis as redis_lib

        member = f"{time.time():.6f}:{secrets.token_hex(4)}"
        try:
            allowed = self._hit(
                keys=[self._prefix + key], args=[time.time(), self.window_s, self.limit, member]
            )
        except redis_lib.RedisError as exc:
            log.warning("Redis rate limiter unavailable, limiting in this process: %s", exc)
            return self._fallback.hit(key)
        return bool(int(allowed))

    def reset(self, key: str) -> None:
        import redis as redis_lib

        self._fallback.reset(key)
        try:
            self._client.delete(self._prefix + key)
        except redis_lib.RedisError as exc:
            log.warning("Redis rate limiter unavailable: %s", exc)


class RedisLeases:
    """Slots held by this process in Redis sorted sets (one per key), each a holder token scored by its
    lease expiry (seconds) and renewed every third of ``lease_s`` by one thread, so the slots of a killed
    worker come back within ``lease_s`` while live sessions keep theirs for hours."""

    def __init__(self, client: redis.Redis, lease_s: float) -> None:
        self._client = client
        self._lease_s = lease_s
        self._acquire: Any = client.register_script(_ACQUIRE_SCRIPT)
        self._held: dict[str, list[str]] = {}  # key → this process's tokens under it
        self._lock = threading.Lock()
        self._renewer: threading.Thread | None = None
        self._stop = threading.Event()

    def acquire(self, key: str, limit: int) -> bool:
        """Take one slot of ``key`` if fewer than ``limit`` are held; ``RedisError`` when unreachable."""
        token = f"{os.getpid()}:{secrets.token_hex(8)}"
        now = time.time()
        if not int(self._acquire(keys=[key], args=[now, now + self._lease_s, limit, token])):
            return False
        with self._lock:
            self._held.setdefault(key, []).append(token)
            if self._renewer is None and not self._stop.is_set():
                self._renewer = threading.Thread(
                    target=self._renew_forever, name="facecoach-live-slots", daemon=True
                )
                self._renewer.start()
        return True

    def release(self, key: str) -> bool:
        """Give one of this process's slots of ``key`` back; False when it held none there."""
        import redis as redis_lib

        with self._lock:
            tokens = self._held.get(key)
            if not tokens:
                return False
            token = tokens.pop()
            if not tokens:
                del self._held[key]
        try:
            self._client.zrem(key, token)
        except redis_lib.RedisError as exc:  # the lease returns the slot when it runs out
            log.warning("Redis live slots unavailable: %s", exc)
        return True

    def held(self, key: str) -> int:
        with self._lock:
            return len(self._held.get(key, ()))

    def stop_renewing(self) -> None:
        self._stop.set()

    def _renew_forever(self) -> None:
        import redis as redis_lib

        while not self._stop.wait(self._lease_s / 3):
            with self._lock:
                held = {k: list(v) for k, v in self._held.items()}
            expires = time.time() + self._lease_s
            for key, tokens in held.items():
                try:  # the key's own expiry too: the acquire script set it to one lease (+60 s) only
                    pipe = self._client.pipeline()
                    pipe.zadd(key, dict.fromkeys(tokens, expires), xx=True)
                    pipe.expire(key, math.ceil(self._lease_s) + 60)
                    pipe.execute()
                except redis_lib.RedisError as exc:
                    log.warning("cannot renew live slots in Redis: %s", exc)


class RedisJpegSlots(JpegSlots):
    """JPEG-mode live sessions counted per machine across worker processes.

    ``limit`` (``FACECOACH_LIVE_MAX_JPEG_SESSIONS``) then means "on this machine" rather than "in this
    process": the landmarker's cost is this machine's CPU whichever worker holds the socket. Each slot is
    a lease of ``lease_s`` seconds (:class:`RedisLeases`).
    """

    def __init__(
        self,
        client: redis.Redis,
        lease_s: float,
        host: str | None = None,
        prefix: str = KEY_PREFIX,
    ) -> None:
        super().__init__()
        self._client = client
        self._key = f"{prefix}live:jpeg:{host or socket.gethostname()}"
        self._leases = RedisLeases(client, lease_s)

    def stop_renewing(self) -> None:
        """Stop the renewal thread (app shutdown; tests use it to play a killed worker)."""
        self._leases.stop_renewing()

    def acquire(self, limit: int) -> bool:
        """Without Redis the slot is refused (the page then asks to try later), never over-committed."""
        import redis as redis_lib

        try:
            ok = self._leases.acquire(self._key, limit)
        except redis_lib.RedisError as exc:
            log.warning("Redis live slots unavailable: %s", exc)
            return False
        self.in_use = self._leases.held(self._key)
        return ok

    def release(self) -> None:
        self._leases.release(self._key)
        self.in_use = self._leases.held(self._key)

    def machine_in_use(self) -> int:
        """Slots held on this machine by every worker (expired leases not counted)."""
        return int(self._client.zcount(self._key, time.time(), "+inf"))


class RedisMemberSlots(MemberSlots):
    """Per-member live caps (sockets, JPEG-mode sessions) counted across every worker and machine that
    shares the Redis server, as leases (:class:`RedisLeases`).

    If Redis cannot be reached the caps still hold, per process (the in-process count takes over and a
    warning is logged): live coaching keeps working and one member stays bounded.
    """

    def __init__(self, client: redis.Redis, lease_s: float, prefix: str = KEY_PREFIX) -> None:
        super().__init__()
        self._prefix = prefix + "live:member:"
        self._leases = RedisLeases(client, lease_s)

    def _key(self, kind: str, member_id: int) -> str:
        return f"{self._prefix}{kind}:{member_id}"

    def acquire(self, kind: str, member_id: int, limit: int) -> bool:
        import redis as redis_lib

        try:
            return self._leases.acquire(self._key(kind, member_id), limit)
        except redis_lib.RedisError as exc:
            log.warning("Redis member slots unavailable, counting in this process: %s", exc)
            return super().acquire(kind, member_id, limit)

    def release(self, kind: str, member_id: int) -> None:
        if not self._leases.release(self._key(kind, member_id)):
            super().release(kind, member_id)

    def held(self, kind: str, member_id: int) -> int:
        """This process's slots of the member (in Redis or, when it was down, in memory)."""
        return self._leases.held(self._key(kind, member_id)) + super().held(kind, member_id)

    def stop_renewing(self) -> None:
        self._leases.stop_renewing()


def rate_limiter(settings: Settings, limit: int, window_s: float) -> RateLimiter:
    """``limit`` attempts per ``window_s`` seconds per key: in Redis when ``REDIS_URL`` is set."""
    if settings.redis_url:
        return RedisRateLimiter(
            redis_client(settings.redis_url),
            limit=limit,
            window_s=window_s,
            prefix=settings.queue_namespace + ":",
        )
    return MemoryRateLimiter(limit=limit, window_s=window_s)


def login_limiter(settings: Settings) -> RateLimiter:
    """The login/reset limiter (per email and address) the settings ask for."""
    return rate_limiter(settings, settings.login_attempts, settings.login_window_s)


def account_limiter(settings: Settings) -> RateLimiter:
    """Sign-ups and reset requests per client address, whatever the email (floods of new addresses)."""
    return rate_limiter(settings, settings.signup_attempts, settings.signup_window_s)


def live_slots(settings: Settings) -> tuple[JpegSlots, MemberSlots]:
    """Live coaching's JPEG-mode and per-member counts: in this process, or in Redis when ``REDIS_URL``
    is set (leases of ``settings.live.slot_lease_s`` seconds, renewed while held)."""
    if not settings.redis_url:
        return JpegSlots(), MemberSlots()
    lease, prefix = settings.live.slot_lease_s, settings.queue_namespace + ":"
    return (
        RedisJpegSlots(redis_client(settings.redis_url), lease_s=lease, prefix=prefix),
        RedisMemberSlots(redis_client(settings.redis_url), lease_s=lease, prefix=prefix),
    )
