"""Two app instances (separate uvicorn processes, as behind one load balancer) sharing the database and
Redis: a login made on one is valid on the other, the login rate limit counts attempts on both, and the
JPEG-mode live-coaching capacity of the machine is one pool, not one per process."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from facecoach.members import auth, migrate
from facecoach.members.db import Database
from tests.reliability.support import free_port, serve, stop, unique, wait_up

PASSWORD = "a good long password"


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]*)"', html)
    assert found
    return found.group(1)


@pytest.fixture
def two_instances(tmp_path: Path, redis_url: str) -> Iterator[tuple[str, str, Database]]:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    db = Database.connect(url)
    migrate.upgrade(db)
    env = {
        "REDIS_URL": redis_url,
        "FACECOACH_QUEUE_NAMESPACE": unique("fctest-shared"),
        "FACECOACH_SECRET_KEY": unique("secret"),
        "FACECOACH_DATA_DIR": str(tmp_path),
        "FACECOACH_LOGIN_ATTEMPTS": "4",
        "FACECOACH_LIVE_MAX_JPEG_SESSIONS": "1",
    }
    ports = [free_port(), free_port()]
    logs = [tmp_path / f"server{i}.log" for i in range(2)]
    procs = [serve(url, port, log, **env) for port, log in zip(ports, logs, strict=True)]
    try:
        for proc, port, log in zip(procs, ports, logs, strict=True):
            wait_up(proc, port, log)
        yield f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}", db
    finally:
        for proc in procs:
            stop(proc)
        db.dispose()


def _login(client: httpx.Client, email: str, password: str) -> httpx.Response:
    token = _csrf(client.get("/login").text)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def test_sessions_rate_limits_and_live_capacity_are_shared(two_instances: tuple[str, str, Database]) -> None:
    a, b, db = two_instances
    with db.session() as s:
        auth.create_user(s, "shared@example.org", PASSWORD, plan="member")
        auth.create_user(s, "target@example.org", PASSWORD)

    # A login on instance A is a login on instance B (sessions live in the database).
    with httpx.Client(base_url=a) as on_a:
        assert _login(on_a, "shared@example.org", PASSWORD).status_code == 303
        cookies = dict(on_a.cookies)
    with httpx.Client(base_url=b, cookies=cookies) as on_b:
        assert on_b.get("/api/me").json()["email"] == "shared@example.org"
        # … and logging out on B ends it on A.
        token = on_b.get("/api/me").json()["csrf_token"]
        on_b.post("/logout", headers={"x-csrf-token": token})
    with httpx.Client(base_url=a, cookies=cookies) as on_a:
        assert on_a.get("/api/me").json()["email"] is None

    # Wrong passwords alternate between the instances; the limit (4) holds across both.
    codes = []
    for i in range(6):
        with httpx.Client(base_url=(a, b)[i % 2]) as c:
            codes.append(_login(c, "target@example.org", "wrong password!!").status_code)
    assert codes[:4] == [400] * 4 and codes[4:] == [429, 429], codes
    with httpx.Client(base_url=a) as c:  # even the right password waits now
        assert _login(c, "target@example.org", PASSWORD).status_code == 429

    # One JPEG-mode slot on this machine: taken through A, refused through B, free again after A closes.
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    with httpx.Client(base_url=a) as on_a:
        _login(on_a, "shared@example.org", PASSWORD)
        cookie = "; ".join(f"{k}={v}" for k, v in on_a.cookies.items())
    start = json.dumps({"type": "start", "technique": "smile-lift", "mode": "jpeg"})

    def open_jpeg(stack: contextlib.ExitStack, base: str):  # type: ignore[no-untyped-def]
        url = base.replace("http", "ws") + "/live/ws"
        ws = stack.enter_context(connect(url, additional_headers={"Cookie": cookie}, open_timeout=10))
        assert json.loads(ws.recv(timeout=10))["type"] == "hello"
        ws.send(start)
        return ws

    with contextlib.ExitStack() as first_stack:
        first = open_jpeg(first_stack, a)
        reply = json.loads(first.recv(timeout=10))
        assert reply.get("type") != "error", reply
        with contextlib.ExitStack() as second_stack:
            second = open_jpeg(second_stack, b)
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    second.recv(timeout=10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013, closed.value
    with contextlib.ExitStack() as third_stack:  # the first socket closed: its slot is free again
        third = open_jpeg(third_stack, b)
        assert json.loads(third.recv(timeout=10)).get("type") != "error"
