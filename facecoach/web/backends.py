"""Shared-state backends: what several web worker processes (or machines) must agree on.

* **Sessions** already live in the database (``auth_sessions``; the cookie only carries a signed id), so
  every worker behind one address sees every login and logout with no extra store.
* **Rate limits** (login, sign-up, password reset): in-process by default; a Redis sliding window when
  ``REDIS_URL`` is set, so five wrong passwords are five whichever worker answers them.
* **Live coaching**: a WebSocket is one TCP connection held by one worker, so a session's evaluator state
  stays in that worker. What workers must share is capacity: the JPEG-mode slots (each runs the Python
  landmarker on this machine's CPU) are counted per machine in Redis when it is configured, instead of
  per process.

Every Redis operation is one atomic Lua script; keys start with ``FACECOACH_QUEUE_NAMESPACE`` so several
sites can share one Redis server.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

from facecoach.config import Settings
from facecoach.members.auth import MemoryRateLimiter, RateLimiter
from facecoach.web.live import JpegSlots

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


class RedisJpegSlots(JpegSlots):
    """JPEG-mode live sessions counted per machine across worker processes.

    ``limit`` (``FACECOACH_LIVE_MAX_JPEG_SESSIONS``) then means "on this machine" rather than "in this
    process": the landmarker's cost is this machine's CPU whichever worker holds the socket. Each slot is
    a lease of ``lease_s`` seconds that a thread of the holding process renews every third of it, so the
    slots of a killed worker come back within ``lease_s`` while live sessions keep theirs for hours.
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
        self._lease_s = lease_s
        self._key = f"{prefix}live:jpeg:{host or socket.gethostname()}"
        self._acquire: Any = client.register_script(_ACQUIRE_SCRIPT)
        self._tokens: list[str] = []
        self._tokens_lock = threading.Lock()
        self._renewer: threading.Thread | None = None
        self._stop = threading.Event()

    def _renew_forever(self) -> None:
        import redis as redis_lib

        while not self._stop.wait(self._lease_s / 3):
            with self._tokens_lock:
                tokens = list(self._tokens)
            if not tokens:
                continue
            expires = time.time() + self._lease_s
            try:
                self._client.zadd(self._key, dict.fromkeys(tokens, expires), xx=True)
            except redis_lib.RedisError as exc:
                log.warning("cannot renew live slots in Redis: %s", exc)

    def stop_renewing(self) -> None:
        """Stop the renewal thread (app shutdown; tests use it to play a killed worker)."""
        self._stop.set()

    def acquire(self, limit: int) -> bool:
        """Without Redis the slot is refused (the page then asks to try later), never over-committed."""
        import redis as redis_lib

        token = f"{os.getpid()}:{secrets.token_hex(8)}"
        now = time.time()
        try:
            ok = bool(int(self._acquire(keys=[self._key], args=[now, now + self._lease_s, limit, token])))
        except redis_lib.RedisError as exc:
            log.warning("Redis live slots unavailable: %s", exc)
            return False
        if ok:
            with self._tokens_lock:
                self._tokens.append(token)
                self.in_use = len(self._tokens)
                if self._renewer is None and not self._stop.is_set():
                    self._renewer = threading.Thread(
                        target=self._renew_forever, name="facecoach-live-slots", daemon=True
                    )
                    self._renewer.start()
        return ok

    def release(self) -> None:
        with self._tokens_lock:
            if not self._tokens:
                return
            token = self._tokens.pop()
            self.in_use = len(self._tokens)
        import redis as redis_lib

        try:
            self._client.zrem(self._key, token)
        except redis_lib.RedisError as exc:  # the lease returns the slot when it runs out
            log.warning("Redis live slots unavailable: %s", exc)

    def machine_in_use(self) -> int:
        """Slots held on this machine by every worker (expired leases not counted)."""
        return int(self._client.zcount(self._key, time.time(), "+inf"))


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


def install_shared_state(settings: Settings, extra: dict[str, object]) -> None:
    """Put the shared live-coaching stores into an app context's ``extra`` when Redis is configured."""
    if not settings.redis_url:
        return
    from facecoach.web.live_protocol import LiveSettings

    lease = min(60.0, LiveSettings().max_session_s + 120.0)  # seconds; renewed while held
    extra["live_jpeg_slots"] = RedisJpegSlots(
        redis_client(settings.redis_url), lease_s=lease, prefix=settings.queue_namespace + ":"
    )
