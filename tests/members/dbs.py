"""Database fixtures shared by the members and web tests: every database test runs on SQLite and on
PostgreSQL (uniquely named databases created and dropped on 127.0.0.1:5432).

``database_url`` is an empty database per test (for migration tests). ``migrated`` is a migrated one:
a fresh SQLite file per test, and for PostgreSQL one database per test worker, emptied before each test
(CREATE DATABASE costs ~2 s here, so it is not repeated per test).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _pg_problem() -> str | None:
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else "connection failed"
    return None


def create_pg_database() -> str:
    import psycopg

    problem = _pg_problem()
    if problem is not None:
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is unreachable ({problem})")
    name = f"facecoach_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_pg_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


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
