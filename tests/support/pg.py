"""Scratch PostgreSQL databases on 127.0.0.1:5432 (trust auth), for the tests and the load benchmark:
uniquely named so parallel test workers and benchmark runs never share one."""

from __future__ import annotations

import uuid

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def pg_problem() -> str | None:
    """Why the server cannot be reached (the first line of the driver's error), or None when it can."""
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else "connection failed"
    return None


def create_database(prefix: str) -> str:
    """A new empty database named ``{prefix}_{random hex}``; returns its name (see :data:`PG_URL`)."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(name: str) -> None:
    """Drop ``name`` even while a leftover connection (a killed server, a pool) still holds it."""
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
