"""Database fixtures shared by the members and web tests: every database test runs on SQLite and on
PostgreSQL (uniquely named databases created and dropped on 127.0.0.1:5432).

``database_url`` is an empty database per test (for migration tests). ``migrated`` is a migrated one:
a fresh SQLite file per test, and for PostgreSQL one database per test worker, emptied before each test
(CREATE DATABASE costs ~2 s here, so it is not repeated per test).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.pg import PG_URL, create_database, pg_problem
from tests.support.pg import drop_database as drop_pg_database


def create_pg_database() -> str:
    """A scratch database for one test (or worker); skips with the reason when PostgreSQL is down."""
    problem = pg_problem()
    if problem is not None:
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is unreachable ({problem})")
    return create_database("facecoach_test")


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """Argon2 with the library's test profile: the same code path, ~1 ms instead of ~0.5 s a hash."""
    from argon2 import PasswordHasher
    from argon2.profiles import CHEAPEST

    from facecoach.members import auth

    auth.use_password_hasher(PasswordHasher.from_parameters(CHEAPEST))
    yield
    auth.use_password_hasher(PasswordHasher())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (not migrated) on SQLite, then on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'facecoach.db'}"
        return
    name = create_pg_database()
    try:
        yield PG_URL.format(name=name)
    finally:
        drop_pg_database(name)


@pytest.fixture(scope="session")
def pg_worker_db() -> Iterator[object]:
    """One migrated PostgreSQL database for this test worker."""
    from facecoach.members import migrate
    from facecoach.members.db import Database

    name = create_pg_database()
    db = Database.connect(PG_URL.format(name=name))
    migrate.upgrade(db)
    yield db
    db.dispose()
    drop_pg_database(name)


def _empty_all_tables(db: object) -> None:
    from sqlalchemy import text

    from facecoach.members.db import Database
    from facecoach.members.models import Base

    assert isinstance(db, Database)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def migrated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    """A migrated, empty :class:`facecoach.members.db.Database` on each backend."""
    from facecoach.members import migrate
    from facecoach.members.db import Database

    if request.param == "postgres":
        db = request.getfixturevalue("pg_worker_db")
        _empty_all_tables(db)
        yield db
        return
    db = Database.connect(f"sqlite:///{tmp_path / 'facecoach.db'}")
    migrate.upgrade(db)
    yield db
    db.dispose()
