"""A real app on a real database (SQLite or PostgreSQL), with a logged-in HTTP client per role:
anonymous, free, member, another member, instructor; its mail goes to a real SMTP server (``site.mail``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from facecoach.config import Settings
from facecoach.members import auth
from facecoach.members.db import Database
from facecoach.members.models import User
from tests.support.mail import MailSink, Received

PASSWORD = "a good long password"
ROLES = ("anon", "free", "member", "other", "instructor")
PLAN_OF = {"free": "free", "member": "member", "other": "member", "instructor": "instructor"}


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]*)"', html)
    assert found, "page has no CSRF meta tag"
    return found.group(1)


@dataclass
class Site:
    app: Any
    db: Database
    tmp: Path
    clients: dict[str, TestClient] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)
    mail: MailSink | None = None

    def client(self, role: str) -> TestClient:
        if role not in self.clients:
            c = TestClient(self.app, raise_server_exceptions=True)
            c.__enter__()
            if role != "anon":
                self.login(c, self.make_user(role))
            self.clients[role] = c
        return self.clients[role]

    def make_user(self, role: str, email: str | None = None) -> str:
        email = email or f"{role}@example.org"
        with self.db.session() as s:
            user = auth.create_user(
                s, email, PASSWORD, name=role.capitalize(), plan=PLAN_OF.get(role, "free")
            )
            self.user_ids[role] = user.id
        return email

    def login(self, c: TestClient, email: str, password: str = PASSWORD) -> Any:
        token = csrf_of(c.get("/login").text)
        r = c.post(
            "/login", data={"email": email, "password": password, "csrf_token": token}, follow_redirects=False
        )
        assert r.status_code == 303, r.text[:500]
        return r

    def csrf(self, role: str, path: str = "/") -> str:
        return csrf_of(self.client(role).get(path).text)

    def user(self, role: str) -> User:
        with self.db.session() as s:
            u = s.get(User, self.user_ids[role])
            assert u is not None
            return u

    def mail_to(self, address: str, count: int = 1) -> list[Received]:
        """The mail the app sent to ``address`` (waits for it: account mail leaves in the background)."""
        assert self.mail is not None, "this site was made without a mail server"
        return self.mail.wait_for(address, count)

    def close(self) -> None:
        for c in self.clients.values():
            c.__exit__(None, None, None)
        if self.mail is not None:
            self.mail.stop()


def build_site(db: Database, tmp: Path, **settings: Any) -> Site:
    """A site whose settings are the tests' defaults plus ``settings``; call ``close()`` after it."""
    from facecoach.web.app import create_app

    mail = MailSink().start()
    defaults: dict[str, Any] = {
        "database_url": db.url,
        "data_dir": tmp,
        "secret_key": "test-secret-" + tmp.name,
        "smtp_host": "127.0.0.1",
        "smtp_port": mail.port,
    }
    app = create_app(Settings(**{**defaults, **settings}), database=db)
    return Site(app=app, db=db, tmp=tmp, mail=mail)


def _make_site(db: Database, tmp: Path) -> Iterator[Site]:
    site = build_site(db, tmp)
    yield site
    site.close()


@pytest.fixture
def site(migrated: Database, tmp_path: Path) -> Iterator[Site]:
    """The app on SQLite, then on PostgreSQL."""
    yield from _make_site(migrated, tmp_path)


@pytest.fixture
def sqlite_site(tmp_path: Path) -> Iterator[Site]:
    """The app on SQLite only (for tests whose subject is not the database)."""
    from facecoach.members import migrate

    db = Database.connect(f"sqlite:///{tmp_path / 'site.db'}")
    migrate.upgrade(db)
    yield from _make_site(db, tmp_path)
    db.dispose()
