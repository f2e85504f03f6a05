"""Revision 0002 (issue 11): ``practice_sessions.source`` on SQLite and PostgreSQL, up and down, with
the rows already stored classified: live coaching always wrote ``"source": "live"`` into the summary and
the API never could, so those are live and every other row is manual."""

from __future__ import annotations

import json

from sqlalchemy import inspect, text

from facecoach.members import migrate
from facecoach.members.db import Database


def _insert(db: Database, summary: dict[str, object], reps: int = 1) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO practice_sessions (user_id, date, technique_ids, reps, faults, duration_s,"
                " summary, created_at) VALUES (1, '2026-11-20', '[]', :reps, '{}', 1.0, :summary,"
                " '2026-11-20 10:00:00')"
            ),
            {"summary": json.dumps(summary), "reps": reps},
        )


def test_source_column_up_and_down_keeps_the_rows(database_url: str) -> None:
    db = Database.connect(database_url)
    try:
        migrate.upgrade(db, "0001")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, email, name, password_hash, plan, created_at)"
                    " VALUES (1, 'a@example.org', 'a', 'x', 'member', '2026-11-20 10:00:00')"
                )
            )
        _insert(db, {"reps": 1, "steps": [], "mode": "landmarks", "source": "live"})  # from the socket
        _insert(db, {"reps": 1})  # from POST /api/sessions
        migrate.upgrade(db, "0002")
        assert migrate.current_revision(db) == "0002"
        with db.engine.connect() as conn:
            sources = list(conn.execute(text("SELECT source FROM practice_sessions ORDER BY id")).scalars())
        assert sources == ["live", "manual"]
        _insert(db, {"reps": 2}, reps=2)  # a row written without the column (older code) is manual
        with db.engine.connect() as conn:
            later = conn.execute(text("SELECT source FROM practice_sessions WHERE reps = 2")).scalar()
            assert later == "manual"
        migrate.downgrade(db, "0001")
        columns = {c["name"] for c in inspect(db.engine).get_columns("practice_sessions")}
        assert "source" not in columns and "summary" in columns
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM practice_sessions")).scalar() == 3
        migrate.upgrade(db)
        assert "source" in {c["name"] for c in inspect(db.engine).get_columns("practice_sessions")}
    finally:
        db.dispose()
