"""``facecoach db backup`` / ``restore``: one portable file for SQLite and PostgreSQL.

A backup is gzip-compressed JSON: the schema revision, then every table's rows (children after their
parents), each table with its row count and a SHA-256 of its rows, so a restore proves it put back
exactly what was saved. The format does not depend on the engine, which is also how a site moves from
SQLite on one box to PostgreSQL (``backup`` on one URL, ``restore`` on the other).

Consistency: PostgreSQL is read in one REPEATABLE READ transaction (one snapshot while members keep
writing); SQLite is first copied with SQLite's online backup API, then read from the copy. A restore
replaces every row in ONE transaction: a failure half-way (or a kill) leaves the old data untouched.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import json
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, MetaData, Table, text
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import make_url

from facecoach.members.db import Database

FORMAT = "facecoach-backup-1"
SKIP_TABLES = {"alembic_version"}
#: Credentials that may have been revoked since the backup (logouts, password changes and resets after a
#: compromise): a restore leaves them out unless asked, so nobody is logged back in by it.
CREDENTIAL_TABLES = ("auth_sessions", "password_resets", "signup_requests")


class BackupError(ValueError):
    """A backup that cannot be written or restored (the message says why, in one line)."""


@dataclass(frozen=True)
class TableSummary:
    name: str
    rows: int
    sha256: str


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    revision: str | None
    tables: list[TableSummary]

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables)


def _encode(value: Any) -> Any:
    """A column value as JSON: times as ISO 8601 (naive UTC as stored), bytes as base64."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def _decode(value: Any, column_type: Any) -> Any:
    if value is None:
        return None
    if isinstance(column_type, sqltypes.DateTime):
        return dt.datetime.fromisoformat(value)
    if isinstance(column_type, sqltypes.Date):
        return dt.date.fromisoformat(value)
    if isinstance(column_type, sqltypes.Time):
        return dt.time.fromisoformat(value)
    if isinstance(column_type, sqltypes.LargeBinary):
        return base64.b64decode(value)
    return value


def _digest(rows: list[list[Any]]) -> str:
    h = hashlib.sha256()
    for row in rows:
        h.update(json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
        h.update(b"\n")
    return h.hexdigest()


def _tables(conn: Connection) -> list[Table]:
    meta = MetaData()
    meta.reflect(bind=conn)
    return [t for t in meta.sorted_tables if t.name not in SKIP_TABLES]


def _revision(conn: Connection) -> str | None:
    try:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:
        return None


def _read_rows(conn: Connection, table: Table) -> tuple[list[str], list[list[Any]]]:
    columns = [c.name for c in table.columns]
    pk = list(table.primary_key.columns) or list(table.columns)
    result = conn.execute(table.select().order_by(*pk))
    return columns, [[_encode(v) for v in row] for row in result]


def snapshot(conn: Connection) -> dict[str, Any]:
    """Every table's columns, rows (encoded) and digest, plus the schema revision."""
    tables = {}
    for table in _tables(conn):
        columns, rows = _read_rows(conn, table)
        tables[table.name] = {"columns": columns, "count": len(rows), "sha256": _digest(rows), "rows": rows}
    return {"revision": _revision(conn), "tables": tables}


def digests(db: Database) -> dict[str, tuple[int, str]]:
    """Table → (rows, SHA-256) of a live database: what a restore is compared against."""
    with db.engine.connect() as conn:
        return {name: (t["count"], t["sha256"]) for name, t in snapshot(conn)["tables"].items()}


@contextmanager
def _consistent(db: Database) -> Iterator[Connection]:
    """A connection that sees one consistent state of the database while others write."""
    if db.is_sqlite:
        source = make_url(db.url).database
        if not source or source == ":memory:":
            raise BackupError("an in-memory SQLite database cannot be backed up")
        if not Path(source).is_file():
            raise BackupError(f"no SQLite database at {source}")
        with tempfile.TemporaryDirectory(prefix="facecoach-backup-") as tmp:
            copy = Path(tmp) / "copy.db"
            src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=10)
            dst = sqlite3.connect(copy)
            try:
                src.backup(dst)
            finally:
                dst.close()
                src.close()
            snap_db = Database.connect(f"sqlite:///{copy}")
            try:
                with snap_db.engine.connect() as conn:
                    yield conn
            finally:
                snap_db.dispose()
        return
    with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        yield conn


def backup(db: Database, path: Path) -> BackupSummary:
    """Write a backup of ``db`` to ``path`` (gzip JSON); the file appears only when complete."""
    path = Path(path)
    with _consistent(db) as conn:
        snap = snapshot(conn)
    if snap["revision"] is None:
        raise BackupError("the database has no schema yet (run `facecoach db upgrade`)")
    document = {
        "format": FORMAT,
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "engine": db.engine.dialect.name,
        **snap,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with gzip.open(partial, "wt", encoding="utf-8") as fh:
        json.dump(document, fh, ensure_ascii=False, separators=(",", ":"))
    partial.replace(path)
    return _summary(path, snap)


def _summary(path: Path, snap: dict[str, Any]) -> BackupSummary:
    return BackupSummary(
        path=path,
        revision=snap["revision"],
        tables=[TableSummary(n, t["count"], t["sha256"]) for n, t in snap["tables"].items()],
    )


def read_backup(path: Path) -> dict[str, Any]:
    """Load and check a backup file (format, counts and digests), or raise :class:`BackupError`."""
    path = Path(path)
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            document = json.load(fh)
    except FileNotFoundError:
        raise BackupError(f"no backup file at {path}") from None
    except (OSError, EOFError, ValueError, UnicodeDecodeError) as exc:
        raise BackupError(f"{path.name} is not a facecoach backup ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BackupError(f"{path.name} is not a {FORMAT} file")
    tables = document.get("tables")
    if not isinstance(tables, dict) or not isinstance(document.get("revision"), str):
        raise BackupError(f"{path.name} has no tables or no schema revision")
    for name, table in tables.items():
        rows = table.get("rows") if isinstance(table, dict) else None
        if (
            not isinstance(rows, list)
            or len(rows) != table.get("count")
            or _digest(rows) != table.get("sha256")
        ):
            raise BackupError(f"{path.name}: table {name} does not match its checksum (damaged file)")
    return document


def restore(db: Database, path: Path, keep_sessions: bool = False) -> BackupSummary:
    """Replace every row of ``db`` with the backup's, in one transaction, then migrate to the latest
    schema. The target is migrated to the backup's revision first (an empty database works); a target
    already at a newer revision than the backup is refused rather than downgraded.

    Login sessions and reset links (:data:`CREDENTIAL_TABLES`) are emptied, not restored, unless
    ``keep_sessions``: members log in again. The summary lists the tables actually restored."""
    from facecoach.members import migrate

    document = read_backup(path)
    revision: str = document["revision"]
    current = migrate.current_revision(db)
    if current is not None and current != revision:
        raise BackupError(
            f"the database is at schema {current}, the backup at {revision}: restore into an empty database"
        )
    try:
        migrate.upgrade(db, revision)
    except Exception as exc:
        raise BackupError(f"this facecoach does not know the backup's schema {revision}: {exc}") from None
    saved: dict[str, Any] = document["tables"]
    with db.engine.begin() as conn:
        tables = _tables(conn)
        names = {t.name for t in tables}
        unknown = set(saved) - names
        if unknown:
            raise BackupError(f"the backup has tables this schema lacks: {', '.join(sorted(unknown))}")
        for table in reversed(tables):
            conn.execute(table.delete())
        for table in tables:
            data = saved.get(table.name)
            if table.name in CREDENTIAL_TABLES and not keep_sessions:
                continue
            if not data or not data["rows"]:
                continue
            columns = data["columns"]
            missing = [c for c in columns if c not in table.columns]
            if missing:
                raise BackupError(f"table {table.name} lacks columns {missing}")
            types = [table.columns[c].type for c in columns]
            rows = [
                {c: _decode(v, t) for c, v, t in zip(columns, row, types, strict=True)}
                for row in data["rows"]
            ]
            for start in range(0, len(rows), 500):
                conn.execute(table.insert(), rows[start : start + 500])
        if conn.dialect.name == "postgresql":
            _reset_sequences(conn, tables)
    migrate.upgrade(db)
    summary = _summary(Path(path), document)
    if keep_sessions:
        return summary
    kept = [t for t in summary.tables if t.name not in CREDENTIAL_TABLES]
    return BackupSummary(path=summary.path, revision=summary.revision, tables=kept)


def _reset_sequences(conn: Connection, tables: list[Table]) -> None:
    """After inserting explicit ids, move each serial sequence past the largest id."""
    for table in tables:
        for column in table.primary_key.columns:
            if not isinstance(column.type, sqltypes.Integer):
                continue
            seq = conn.execute(
                text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name}
            ).scalar()
            if seq:
                top = f'COALESCE((SELECT MAX("{column.name}") FROM "{table.name}"), 0) + 1'
                conn.execute(text(f"SELECT setval(:s, {top}, false)"), {"s": seq})
