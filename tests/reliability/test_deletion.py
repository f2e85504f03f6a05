"""Deleting an account removes everything of that member — checked in every table of the database
(reflected, so a table added later is checked too), not through the pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, select

from facecoach.members.db import Database
from tests.reliability.populate import add_instructor_edit, add_member
from tests.web.fixtures import Site, csrf_of


def _everything(db: Database) -> dict[str, list[dict[str, Any]]]:
    meta = MetaData()
    with db.engine.connect() as conn:
        meta.reflect(bind=conn)
        return {t.name: [dict(r._mapping) for r in conn.execute(select(t))] for t in meta.sorted_tables}


def _mentions(rows: dict[str, list[dict[str, Any]]], user_id: int, email: str) -> list[str]:
    """Every place a row still points to the user (a column named like a user reference) or holds the
    email address anywhere in its text or JSON."""
    found = []
    for table, table_rows in rows.items():
        for row in table_rows:
            for column, value in row.items():
                if column in ("user_id", "updated_by") and value == user_id:
                    found.append(f"{table}.{column}")
                if table == "users" and column == "id" and value == user_id:
                    found.append("users.id")
                if email in repr(value).lower():
                    found.append(f"{table}.{column} holds the email")
    return found


def test_account_deletion_removes_every_row(site: Site) -> None:
    keep_id = add_member(site.db, "keep@example.org")
    coach_id = add_instructor_edit(site.db)
    gone_id = add_member(site.db, "leaver@example.org")
    client = site.client("anon")
    site.login(client, "leaver@example.org")
    before = _everything(site.db)
    assert len(_mentions(before, gone_id, "leaver@example.org")) >= 10  # sessions, scans, payments, mail …
    keep_before = _mentions(before, keep_id, "keep@example.org")

    token = csrf_of(client.get("/account").text)
    r = client.post("/account/delete", data={"confirm": "leaver@example.org", "csrf_token": token})
    assert r.status_code == 200

    after = _everything(site.db)
    assert _mentions(after, gone_id, "leaver@example.org") == []
    assert _mentions(after, keep_id, "keep@example.org") == keep_before  # nobody else's data touched
    assert any(r["updated_by"] == coach_id for r in after["library_edits"])
    # The old login is dead too (the cookie still in the client points to a deleted session).
    assert client.get("/account", follow_redirects=False).headers["location"].startswith("/login")
    assert client.get("/api/export").status_code == 401


def test_deletion_needs_the_confirmation_and_the_token(site: Site) -> None:
    uid = add_member(site.db, "careful@example.org")
    client = site.client("anon")
    site.login(client, "careful@example.org")
    token = csrf_of(client.get("/account").text)
    client.post("/account/delete", data={"confirm": "someone@else.org", "csrf_token": token})
    client.post("/account/delete", data={"confirm": "careful@example.org"})  # no CSRF token
    assert _mentions(_everything(site.db), uid, "careful@example.org")
