"""The Redis backends on the real Redis: two instances stand for two worker processes. When Redis is
down the login limit still holds (per process) and JPEG slots are refused rather than over-committed."""

from __future__ import annotations

import time

from facecoach.config import Settings
from facecoach.members.auth import MemoryRateLimiter
from facecoach.web.backends import RedisJpegSlots, RedisRateLimiter, login_limiter, redis_client
from tests.reliability.support import unique

DOWN = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def test_rate_limit_is_shared_and_slides(redis_url: str) -> None:
    prefix = unique("fctest-rl") + ":"
    a = RedisRateLimiter(redis_client(redis_url), limit=3, window_s=0.6, prefix=prefix)
    b = RedisRateLimiter(redis_client(redis_url), limit=3, window_s=0.6, prefix=prefix)
    assert [a.hit("k"), b.hit("k"), a.hit("k"), b.hit("k"), a.hit("k")] == [True, True, True, False, False]
    assert a.hit("another key")
    time.sleep(0.7)  # the window slides: old attempts no longer count
    assert b.hit("k")
    a.reset("k")
    assert [b.hit("k"), b.hit("k"), b.hit("k"), b.hit("k")] == [True, True, True, False]


def test_rate_limit_without_redis_still_limits() -> None:
    limiter = RedisRateLimiter(redis_client(DOWN), limit=2, window_s=60)
    assert [limiter.hit("k"), limiter.hit("k"), limiter.hit("k")] == [True, True, False]
    limiter.reset("k")
    assert limiter.hit("k")


def test_settings_choose_the_backend(redis_url: str) -> None:
    assert isinstance(login_limiter(Settings()), MemoryRateLimiter)
    chosen = login_limiter(Settings(redis_url=redis_url, login_attempts=7, login_window_s=30))
    assert isinstance(chosen, RedisRateLimiter) and chosen.limit == 7 and chosen.window_s == 30


def test_jpeg_slots_per_machine_with_leases(redis_url: str) -> None:
    prefix = unique("fctest-slots") + ":"
    one = RedisJpegSlots(redis_client(redis_url), lease_s=0.5, host="box", prefix=prefix)
    two = RedisJpegSlots(redis_client(redis_url), lease_s=0.5, host="box", prefix=prefix)
    other_box = RedisJpegSlots(redis_client(redis_url), lease_s=0.5, host="box2", prefix=prefix)
    assert one.acquire(2) and two.acquire(2)
    assert not one.acquire(2) and not two.acquire(2)
    assert other_box.acquire(2)  # another machine has its own CPU and its own slots
    assert one.machine_in_use() == 2
    one.release()
    assert two.acquire(2) and two.in_use == 2
    # Held slots are renewed for as long as their process lives …
    time.sleep(1.2)
    assert one.machine_in_use() == 2 and not one.acquire(2)
    # … and a worker killed while holding slots (its renewal stops) gives them back within the lease.
    two.stop_renewing()
    time.sleep(0.7)
    assert one.machine_in_use() == 0 and one.acquire(2)
    one.stop_renewing()
    other_box.stop_renewing()


def test_jpeg_slots_without_redis_are_refused() -> None:
    slots = RedisJpegSlots(redis_client(DOWN), lease_s=10)
    assert not slots.acquire(4)
    slots.release()  # nothing held: harmless
