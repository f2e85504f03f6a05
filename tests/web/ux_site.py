"""A lived-in site for the UX and accessibility browser tests: the real app on SQLite, served by uvicorn
in a thread (so the test can also write rows), with a member who has answers, two real face scans,
sessions, a payment and audits (one done, one failed), an instructor with a long name, and a free member.

Screenshots go to ``test-artifacts/ux/`` — look at them."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from facecoach.config import Settings
from facecoach.members import auth, migrate
from facecoach.members.db import Database
from facecoach.members.models import Assessment, AuditJob, Payment, PracticeSession, Scan, User
from facecoach.planning.assessment import Answers

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "test-artifacts" / "ux"
PASSWORD = "a good long password"
WIDTHS = {"wide": (1280, 900), "phone": (390, 844)}
EMAILS = {
    "member": "member@ux.example.org",
    "free": "free@ux.example.org",
    "instructor": "coach@ux.example.org",
}


@dataclass
class UxSite:
    base: str
    db: Database
    app: Any

    def user_id(self, role: str) -> int:
        with self.db.session() as s:
            user = s.query(User).filter(User.email == EMAILS[role]).one()
            return int(user.id)


def _seed(db: Database, shared_data: Path) -> None:
    from facecoach.web.scanner import Scanner

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    settings = Settings()
    scanner = Scanner(settings.input_limits, settings.model_path)
    try:
        scans = [scanner.scan_path(shared_data / p).result for p in ("happy_f15.jpg", "smile_man.jpg")]
    finally:
        scanner.close()
    with db.session() as s:
        member = auth.create_user(s, EMAILS["member"], PASSWORD, name="Robin", plan="member")
        auth.create_user(s, EMAILS["free"], PASSWORD, name="Sam", plan="free")
        coach = auth.create_user(s, EMAILS["instructor"], PASSWORD, name="Demo instructor", plan="instructor")
        answers = Answers(minutes_per_day=15, goals=["lift_cheeks", "symmetry"], tools=["gua_sha"])
        s.add(Assessment(user_id=member.id, answers=answers.model_dump(mode="json"), created_at=now))
        for i, result in enumerate(scans):
            s.add(
                Scan(
                    user_id=member.id,
                    measurements=result.model_dump(mode="json"),
                    created_at=now - dt.timedelta(days=14 - 10 * i),
                )
            )
        for days_ago in (1, 2, 9):
            s.add(
                PracticeSession(
                    user_id=member.id,
                    date=(now - dt.timedelta(days=days_ago)).date(),
                    technique_ids=["smile-lift"],
                    reps=10,
                    faults={},
                    summary={},
                )
            )
        s.add(
            Payment(
                user_id=member.id,
                plan="member",
                provider="test",
                reference="ux-1",
                amount_cents=900,
                currency="EUR",
                status="succeeded",
                created_at=now - dt.timedelta(days=20),
            )
        )
        s.add(
            AuditJob(
                user_id=member.id,
                technique_id="smile-lift",
                filename="morning-smile.mp4",
                status="done",
                progress=1.0,
                result={"reps": 4, "faults": [], "duration_s": 12.0, "events": []},
                created_at=now - dt.timedelta(days=3),
                finished_at=now - dt.timedelta(days=3),
            )
        )
        s.add(
            AuditJob(
                user_id=member.id,
                technique_id="smile-lift",
                filename="blurry.mp4",
                status="failed",
                progress=0.01,
                error="No face was found in the video.",
                created_at=now - dt.timedelta(days=2),
                finished_at=now - dt.timedelta(days=2),
            )
        )
        s.flush()
        assert coach.id


def _serve(app: Any) -> Iterator[str]:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def ux_site(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[UxSite]:
    from facecoach.web.app import create_app

    tmp = tmp_path_factory.mktemp("ux")
    db = Database.connect(f"sqlite:///{tmp / 'ux.db'}")
    migrate.upgrade(db)
    _seed(db, shared_data)
    app = create_app(Settings(database_url=db.url, data_dir=tmp, secret_key="ux-" + tmp.name), database=db)
    for base in _serve(app):
        yield UxSite(base=base, db=db, app=app)
    db.dispose()


def log_in(page: Any, base: str, role: str) -> None:
    page.goto(base + "/login")
    page.fill("#email", EMAILS[role])
    page.fill("#password", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()


def shot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
