"""``facecoach db backup`` / ``restore`` on SQLite and PostgreSQL: restore and compare every table, across
engines too; the CLI's refusals; a damaged file is refused before anything changes."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from facecoach.members import auth, backup
from facecoach.members.db import Database
from facecoach.members.models import User
from tests.members.dbs import PG_URL, create_pg_database, drop_pg_database
from tests.reliability.populate import add_instructor_edit, add_member, add_pending_signup


def _cli(url: str, *args: str) -> Any:
    """The real ``facecoach`` command in this process (its settings read from the environment)."""
    from typer.testing import CliRunner

    from facecoach.cli import app
    from facecoach.config import get_settings

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
        try:
            return CliRunner().invoke(app, list(args))
        finally:
            get_settings.cache_clear()


def _fill(db: Database) -> None:
    add_member(db, "ana@example.org", picture=bytes(range(256)) * 40)
    add_member(db, "ben@example.org", plan="member")
    add_instructor_edit(db)
    add_pending_signup(db, "cleo@example.org")


def test_backup_restore_round_trip(migrated: Database, tmp_path: Path) -> None:
    db = migrated
    _fill(db)
    before = backup.digests(db)
    before_full = dict(before)
    assert all(rows > 0 for rows, _ in before.values()), before  # every table has something to lose
    file = tmp_path / "site.json.gz"
    summary = backup.backup(db, file)
    assert summary.total_rows == sum(rows for rows, _ in before.values())
    # Life goes on after the backup: a new member, a deleted member, a changed plan …
    add_member(db, "late@example.org")
    with db.session() as s:
        s.execute(User.__table__.delete().where(User.email == "ben@example.org"))
        ana = s.scalar(select(User).where(User.email == "ana@example.org"))
        assert ana is not None
        ana.plan = "free"
    assert backup.digests(db) != before
    # … and the restore brings back exactly the saved state, except login sessions, reset links and
    # pending sign-ups (their links):
    # those may have been revoked since (a password changed after a break-in), so everyone logs in again.
    summary = backup.restore(db, file)
    after = backup.digests(db)
    for name in backup.CREDENTIAL_TABLES:
        assert after.pop(name)[0] == 0 and before.pop(name)[0] > 0
    assert after == before and {t.name for t in summary.tables} == set(before)
    # With --keep-sessions everything comes back, byte for byte.
    backup.restore(db, file, keep_sessions=True)
    assert backup.digests(db) == before_full
    # Ids continue after the restored ones (PostgreSQL sequences were moved past them).
    with db.session() as s:
        newest = auth.create_user(s, "after@example.org", "a good long password")
        assert newest.id > max(s.scalars(select(User.id).where(User.email != "after@example.org")))


@pytest.mark.postgres
def test_sqlite_backup_restores_into_an_empty_postgresql(tmp_path: Path) -> None:
    """The format is the engine's way up: SQLite on one box → PostgreSQL, same rows, same digests."""
    from facecoach.members import migrate

    lite = Database.connect(f"sqlite:///{tmp_path / 'lite.db'}")
    migrate.upgrade(lite)
    _fill(lite)
    file = tmp_path / "lite.json.gz"
    r = _cli(lite.url, "db", "backup", str(file), "--json")
    assert r.exit_code == 0, r.output
    saved = json.loads(r.stdout)
    assert saved["rows"] > 10 and {t["table"] for t in saved["tables"]} >= {
        "users",
        "scans",
        "practice_sessions",
    }
    name = create_pg_database()
    try:
        url = PG_URL.format(name=name)
        r = _cli(url, "db", "restore", str(file), "--yes", "--keep-sessions", "--json")
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["verified"] is True
        pg = Database.connect(url)
        assert backup.digests(pg) == backup.digests(lite)
        pg.dispose()
    finally:
        drop_pg_database(name)
    lite.dispose()


def test_cli_refusals(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    r = _cli(url, "db", "backup", str(tmp_path / "b.json.gz"))
    assert r.exit_code == 2 and r.stdout == "" and "no SQLite database" in r.output
    assert _cli(url, "db", "upgrade").exit_code == 0
    good = tmp_path / "good.json.gz"
    assert _cli(url, "db", "backup", str(good)).exit_code == 0
    r = _cli(url, "db", "restore", str(good))
    assert r.exit_code == 2 and "--yes" in r.output
    # A damaged file (a row changed, the checksum not) and a file that is not a backup are refused.
    doc = json.loads(gzip.decompress(good.read_bytes()))
    doc["tables"]["users"]["rows"].append([1, "evil@example.org"])
    bad = tmp_path / "bad.json.gz"
    bad.write_bytes(gzip.compress(json.dumps(doc).encode()))
    r = _cli(url, "db", "restore", str(bad), "--yes")
    assert r.exit_code == 2 and "does not match its checksum" in r.output, r.output
    junk = tmp_path / "junk.json.gz"
    junk.write_bytes(b"PK\x03\x04 a zip, not a backup")
    r = _cli(url, "db", "restore", str(junk), "--yes")
    assert r.exit_code == 2 and "not a facecoach backup" in r.output and "Traceback" not in r.output
    r = _cli(url, "db", "restore", str(tmp_path / "missing.json.gz"), "--yes")
    assert r.exit_code == 2 and "no backup file" in r.output
