"""Sign-up, reset and login take as long for an address with an account as for one without.

Each check times pairs of requests — one with an existing address, one with a new one, in random order
within the pair, the account-mail queue drained before each request so that background work never
overlaps a measurement — and fails only when both a sign test says the known address is consistently
slower (or faster) (p < 0.001) and the median paired difference exceeds 10 % of the median request
time. A loaded machine adds noise to both members of a pair alike, so it neither fakes nor hides a
difference. The issue measured 5.2 ms against 3.7 ms (40 %) for the reset; argon2 here is a moderate
profile (8 MiB, 1 pass) so that a hash left out of one path shows.
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
from tests.web.fixtures import PASSWORD, Site, build_site, csrf_of

PAIRS = 60
WARM_UP = 5
MODERATE = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


@pytest.fixture
def timed_site(tmp_path: Path) -> Iterator[Site]:
    """SQLite, limits out of the way (they are tested elsewhere), ``PAIRS + WARM_UP`` members."""
    db = Database.connect(f"sqlite:///{tmp_path / 'timing.db'}")
    migrate.upgrade(db)
    auth.use_password_hasher(MODERATE)
    site = build_site(db, tmp_path, login_attempts=100_000, signup_attempts=100_000)
    with db.session() as s:
        for i in range(PAIRS + WARM_UP):
            auth.create_user(s, f"k{i:03d}@example.org", PASSWORD)
    try:
        yield site
    finally:
        site.close()
        db.dispose()
        auth.use_password_hasher(PasswordHasher.from_parameters(CHEAPEST))


def _paired(site: Site, request: Callable[[str], Any]) -> tuple[list[float], list[float]]:
    """Seconds for ``request(email)`` with existing addresses (``k…``) and new ones (``u…``)."""
    rng = random.Random(20261201)
    known: list[float] = []
    unknown: list[float] = []
    for i in range(PAIRS + WARM_UP):
        order = [("k", known), ("u", unknown)]
        rng.shuffle(order)
        for prefix, times in order:
            assert site.app.state.ctx.mail_jobs.drain(30)
            start = time.perf_counter()
            r = request(f"{prefix}{i:03d}@example.org")
            elapsed = time.perf_counter() - start
            assert r.status_code < 500, r.text[:300]
            if i >= WARM_UP:
                times.append(elapsed)
    return known, unknown


def _assert_alike(what: str, known: list[float], unknown: list[float]) -> None:
    diffs = [k - u for k, u in zip(known, unknown, strict=True)]
    slower = sum(d > 0 for d in diffs)
    p = binomtest(slower, len(diffs)).pvalue
    typical = statistics.median(known + unknown)
    shift = statistics.median(diffs)
    figures = (
        f"{what}: median {statistics.median(known) * 1e3:.2f} ms known vs "
        f"{statistics.median(unknown) * 1e3:.2f} ms unknown; known slower in {slower}/{len(diffs)} pairs "
        f"(sign test p={p:.2g}); median paired difference {shift * 1e3:+.2f} ms"
    )
    print(figures)
    assert not (p < 1e-3 and abs(shift) > 0.10 * typical), figures


def test_reset_takes_as_long_for_any_address(timed_site: Site) -> None:
    c = timed_site.client("anon")
    token = csrf_of(c.get("/reset").text)
    known, unknown = _paired(timed_site, lambda e: c.post("/reset", data={"email": e, "csrf_token": token}))
    _assert_alike("reset", known, unknown)


def test_signup_takes_as_long_for_any_address(timed_site: Site) -> None:
    c = timed_site.client("anon")
    token = csrf_of(c.get("/signup").text)

    def signup(email: str) -> Any:
        data = {"email": email, "password": PASSWORD, "csrf_token": token}
        return c.post("/signup", data=data, follow_redirects=False)

    known, unknown = _paired(timed_site, signup)
    _assert_alike("sign-up", known, unknown)


def test_login_takes_as_long_for_any_address(timed_site: Site) -> None:
    c = timed_site.client("anon")
    token = csrf_of(c.get("/login").text)

    def login(email: str) -> Any:
        return c.post("/login", data={"email": email, "password": "a wrong password", "csrf_token": token})

    known, unknown = _paired(timed_site, login)
    _assert_alike("login", known, unknown)
