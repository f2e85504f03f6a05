"""Sign-up, reset and login take as long for an address with an account as for one without.

Each check times pairs — an existing address and a new one, in random order within the pair, each side
the fastest of three requests (with three addresses) so that a burst of load elsewhere does not count,
every request from a fresh browser state and with the account-mail queue drained first so background
work never overlaps a measurement — and fails only when a sign test says one side is consistently
slower (p < 0.001) and the median paired difference exceeds 10 % of the median request. Load adds
noise to both sides of a pair alike, so it neither fakes nor hides a difference. The issue measured
5.2 ms against 3.7 ms (40 %) for the reset; argon2 here is a moderate profile (8 MiB, 1 pass) so that
a hash left out of one path shows.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from scipy.stats import binomtest

from facecoach.members import auth, migrate
from facecoach.members.db import Database
from facecoach.members.models import User
from tests.web.fixtures import PASSWORD, Site, build_site, csrf_of

PAIRS = 50
WARM_UP = 3
REPEATS = 3
MODERATE = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


@pytest.fixture
def timed_site(tmp_path: Path) -> Iterator[Site]:
    """SQLite, limits out of the way (they are tested elsewhere), a member for every known address."""
    db = Database.connect(f"sqlite:///{tmp_path / 'timing.db'}")
    migrate.upgrade(db)
    auth.use_password_hasher(MODERATE)
    site = build_site(db, tmp_path, login_attempts=100_000, signup_attempts=100_000)
    password_hash = auth.hash_password(PASSWORD)
    with db.session() as s:
        for i in range((PAIRS + WARM_UP) * REPEATS):
            s.add(User(email=f"k{i:04d}@example.org", password_hash=password_hash))
    try:
        yield site
    finally:
        site.close()
        db.dispose()
        auth.use_password_hasher(PasswordHasher.from_parameters(CHEAPEST))


def _paired(site: Site, page: str, request: Callable[[str, str], Any]) -> tuple[list[float], list[float]]:
    """Seconds for ``request(email, csrf)`` with existing addresses (``k…``) and new ones (``u…``)."""
    rng = random.Random(20261201)
    c = site.client("anon")
    known: list[float] = []
    unknown: list[float] = []

    def once(email: str) -> float:
        c.cookies.clear()  # a sign-up that logs in must not turn the next request into another one
        token = csrf_of(c.get(page).text)
        assert site.app.state.ctx.mail_jobs.drain(30)
        start = time.perf_counter()
        r = request(email, token)
        elapsed = time.perf_counter() - start
        assert r.status_code in (200, 303, 400), (r.status_code, r.text[:300])
        return elapsed

    for i in range(PAIRS + WARM_UP):
        order = [("k", known), ("u", unknown)]
        rng.shuffle(order)
        for prefix, times in order:
            fastest = min(once(f"{prefix}{i * REPEATS + r:04d}@example.org") for r in range(REPEATS))
            if i >= WARM_UP:
                times.append(fastest)
    return known, unknown


def assert_alike(what: str, known: list[float], unknown: list[float]) -> None:
    """Fails when one side is slower in too many pairs for chance (sign test, p < 0.001) by a median
    paired difference above 10 % of the median request. Only paired figures count: load that drifts
    over the run moves both sides of a pair alike, not the medians of the two sides taken apart."""
    diffs = [k - u for k, u in zip(known, unknown, strict=True)]
    slower = sum(d > 0 for d in diffs)
    p_sign = binomtest(slower, len(diffs)).pvalue
    typical = statistics.median(known + unknown)
    shift = statistics.median(diffs)
    figures = (
        f"{what}: median {statistics.median(known) * 1e3:.2f} ms known vs "
        f"{statistics.median(unknown) * 1e3:.2f} ms unknown; known slower in {slower}/{len(diffs)} pairs "
        f"(sign test p={p_sign:.2g}); median paired difference {shift * 1e3:+.2f} ms"
    )
    print(figures)
    assert not (p_sign < 1e-3 and abs(shift) > 0.10 * typical), figures


def test_reset_takes_as_long_for_any_address(timed_site: Site) -> None:
    c = timed_site.client("anon")

    def reset(email: str, token: str) -> Any:
        return c.post("/reset", data={"email": email, "csrf_token": token})

    assert_alike("reset", *_paired(timed_site, "/reset", reset))


def test_signup_takes_as_long_for_any_address(timed_site: Site) -> None:
    c = timed_site.client("anon")

    def signup(email: str, token: str) -> Any:
        data = {"email": email, "password": PASSWORD, "csrf_token": token}
        return c.post("/signup", data=data, follow_redirects=False)

    assert_alike("sign-up", *_paired(timed_site, "/signup", signup))


def test_login_takes_as_long_for_any_address(timed_site: Site) -> None:
    c = timed_site.client("anon")

    def login(email: str, token: str) -> Any:
        data = {"email": email, "password": "a wrong password", "csrf_token": token}
        return c.post("/login", data=data)

    assert_alike("login", *_paired(timed_site, "/login", login))
