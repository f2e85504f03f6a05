"""A live-session ticket opens one socket only (facecoach.live.access.claim_ticket), on SQLite and on
PostgreSQL: the first claim wins, a repeat or a simultaneous second claim loses, and claims of tickets
that have expired are dropped."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import select

from facecoach.live.access import claim_ticket
from facecoach.members.db import Database
from facecoach.members.models import LiveTicketUse

NOW = dt.datetime(2026, 12, 2, 6, 0, 0)
LATER = NOW + dt.timedelta(seconds=120)


def test_a_ticket_is_claimed_once(migrated: Database) -> None:
    with migrated.session() as s:
        assert claim_ticket(s, "n" * 22, LATER, NOW)
    with migrated.session() as s:
        assert not claim_ticket(s, "n" * 22, LATER, NOW)
        assert claim_ticket(s, "m" * 22, LATER, NOW)  # the session is usable after a refused claim


def test_expired_claims_are_dropped(migrated: Database) -> None:
    with migrated.session() as s:
        assert claim_ticket(s, "old" * 7, NOW, NOW - dt.timedelta(seconds=200))
    with migrated.session() as s:
        assert claim_ticket(s, "new" * 7, LATER + dt.timedelta(seconds=130), LATER + dt.timedelta(seconds=10))
        assert s.scalars(select(LiveTicketUse.nonce)).all() == ["new" * 7]


def test_two_sockets_racing_with_one_ticket_get_one_claim(migrated: Database) -> None:
    results: list[bool] = []
    start = threading.Barrier(4)

    def claim() -> None:
        with migrated.session() as s:
            start.wait()
            results.append(claim_ticket(s, "r" * 22, LATER, NOW))

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == [False, False, False, True]
