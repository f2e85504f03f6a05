"""Migrations upgrade an empty database to head and downgrade it back to empty, on both backends."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import inspect

from facecoach.members import migrate
from facecoach.members.db import Database
from facecoach.members.models import Base

REPO = Path(__file__).resolve().parents[2]


def test_upgrade_from_empty_then_downgrade(database_url: str) -> None:
    db = Database.connect(database_url)
    try:
        assert migrate.current_revision(db) is None
        assert inspect(db.engine).get_table_names() == []
        migrate.upgrade(db)
        assert migrate.current_revision(db) == migrate.head_revision(db)
        tables = set(inspect(db.engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        # The migrated schema matches the models: every model column exists.
        insp = inspect(db.engine)
        for name, table in Base.metadata.tables.items():
            columns = {c["name"] for c in insp.get_columns(name)}
            assert {c.name for c in table.columns} == columns, name
        migrate.upgrade(db)  # idempotent
        migrate.downgrade(db, "base")
        assert migrate.current_revision(db) is None
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(db)  # and up again
        assert migrate.current_revision(db) == migrate.head_revision(db)
    finally:
        db.dispose()


def test_cli_upgrade_from_any_directory(tmp_path: Path) -> None:
    """No alembic.ini: the migrations are found from the package wherever the command runs."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    up = subprocess.run(
        [sys.executable, "-c", "from facecoach.cli import main; main()", "db", "upgrade", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert up.returncode == 0, up.stderr
    assert '"revision": "0003_guard"' in up.stdout  # the head revision
    down = subprocess.run(
        [sys.executable, "-c", "from facecoach.cli import main; main()", "db", "downgrade", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert down.returncode == 0, down.stderr
    assert '"revision": null' in down.stdout


def test_two_processes_migrate_and_seed_one_sqlite_file(tmp_path: Path) -> None:
    """Instances started side by side share one database: migrating and seeding at once must not race."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'shared.db'}"}
    args = [sys.executable, "-c", "from facecoach.cli import main; main()", "db", "seed", "--json"]
    procs = [
        subprocess.Popen(
            args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert "member@demo.facecoach.test" in out
    db = Database.connect(env["DATABASE_URL"])
    with db.session() as s:
        from sqlalchemy import func, select

        from facecoach.members.models import User

        assert s.scalar(select(func.count(User.id))) == 2
    db.dispose()


def test_unreachable_database_is_a_clear_refusal(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/nothing"}
    r = subprocess.run(
        [sys.executable, "-c", "from facecoach.cli import main; main()", "db", "upgrade"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.startswith("facecoach: cannot reach the database") and "Traceback" not in r.stderr
