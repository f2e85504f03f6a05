"""Hostile input at the web boundary: photo uploads, JSON API bodies, forms, oversized requests. Every
answer is a clear 4xx (never a 5xx or a traceback) and the server goes on serving others."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from facecoach.planning.assessment import Answers
from tests.fuzz.hostile import jpeg_bytes, jpeg_with_size, png_bomb
from tests.web.fixtures import Site

FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
session_like = st.fixed_dictionaries(
    {},
    optional={
        "technique_ids": json_values,
        "reps": json_values,
        "faults": json_values,
        "duration_s": json_values,
        "date": json_values,
        "extra": json_values,
    },
)


@pytest.fixture
def member(sqlite_site: Site) -> Any:
    c = sqlite_site.client("member")
    c.headers["x-csrf-token"] = c.get("/api/me").json()["csrf_token"]
    return c


def _healthy(c: Any) -> None:
    assert c.get("/healthz").json() == {"status": "ok"}


def test_photo_uploads_hostile_files(sqlite_site: Site, astronaut: np.ndarray) -> None:
    c = sqlite_site.client("member")
    token = c.get("/api/me").json()["csrf_token"]
    with sqlite_site.db.session() as s:
        from facecoach.members.models import Assessment

        s.add(
            Assessment(
                user_id=sqlite_site.user_ids["member"], answers=Answers(minutes_per_day=10).model_dump()
            )
        )
    face = jpeg_bytes(astronaut[::2, ::2].copy())
    cases = {
        "bomb.png": (png_bomb(80_000, 80_000), 413),
        "bomb.jpg": (jpeg_with_size(face, 65_000, 65_000), 413),
        "truncated.jpg": (face[: len(face) // 2], 400),
        "lies.jpg": (b"GIF89a" + bytes(200), 400),
        "text.jpg": (b"hello, I am not a photo", 400),
        "empty.jpg": (b"", 400),
        "video.jpg": (b"\0\0\0\x18ftypmp42" + bytes(400), 400),
    }
    for name, (data, status) in cases.items():
        r = c.post(
            "/assessment/scan", data={"csrf_token": token}, files={"photo": (name, data, "image/jpeg")}
        )
        assert r.status_code == status, (name, r.status_code, r.text[:300])
        assert ("Traceback" not in r.text and "data-error" in r.text) or "error" in r.text.lower(), name
    _healthy(c)


def test_request_body_size_limit(sqlite_site: Site) -> None:
    c = sqlite_site.client("anon")
    settings_ = sqlite_site.app.state.ctx.settings
    too_big = max(settings_.max_video_bytes, settings_.max_image_bytes) + 2 * 1024 * 1024
    r = c.post(
        "/api/check",
        headers={"content-length": str(too_big), "content-type": "application/json"},
        content=b"{}",
    )
    assert r.status_code == 413
    r = c.post(
        "/api/check", headers={"content-length": "-5", "content-type": "application/json"}, content=b"{}"
    )
    assert r.status_code == 413
    _healthy(c)


def test_chunked_bodies_are_counted_as_they_arrive(tmp_path: Any) -> None:
    """No Content-Length (chunked transfer): the limit still holds, counted while the body streams in."""
    from fastapi.testclient import TestClient

    from facecoach.config import Settings
    from facecoach.members import migrate
    from facecoach.members.db import Database
    from facecoach.web.app import create_app

    db = Database.connect(f"sqlite:///{tmp_path / 'c.db'}")
    migrate.upgrade(db)
    small = Settings(database_url=db.url, data_dir=tmp_path, max_image_bytes=500_000, max_video_bytes=500_000)
    c = TestClient(create_app(small, database=db))
    token = c.get("/api/me").json()["csrf_token"]

    def stream(parts: int, head: bytes = b"", tail: bytes = b"") -> Any:
        yield head
        for _ in range(parts):
            yield b"x" * 100_000
        yield tail

    r = c.post(
        "/api/check", content=stream(30), headers={"x-csrf-token": token, "content-type": "application/json"}
    )
    assert r.status_code == 413
    head = (
        b'--B\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n' + token.encode() + b"\r\n--B\r\n"
        b'Content-Disposition: form-data; name="photo"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
    )
    r = c.post("/assessment/scan", content=stream(30, head, b"\r\n--B--\r\n"),
               headers={"content-type": "multipart/form-data; boundary=B"})  # fmt: skip
    assert r.status_code == 413
    assert c.get("/healthz").status_code == 200
    db.dispose()


@FUZZ
@given(body=session_like)
def test_api_sessions_any_json(member: Any, body: dict[str, Any]) -> None:
    r = member.post("/api/sessions", json=body)
    assert r.status_code in (201, 422), (body, r.status_code, r.text[:200])
    assert isinstance(r.json(), dict)


@FUZZ
@given(body=json_values)
def test_api_check_any_json(member: Any, body: Any) -> None:
    r = member.post("/api/check", json=body)
    assert r.status_code in (200, 422), (body, r.status_code)


@FUZZ
@given(raw=st.binary(max_size=300))
def test_api_raw_bytes(member: Any, raw: bytes) -> None:
    for path in ("/api/check", "/api/sessions"):
        r = member.post(path, content=raw, headers={"content-type": "application/json"})
        assert r.status_code in (200, 201, 400, 422), (raw, r.status_code)


def test_api_deep_wide_and_odd_json(member: Any) -> None:
    bodies = [
        b"",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        json.dumps({"text": "x" * 1_000_000}).encode(),
        json.dumps({"reps": 10**100}).encode(),
        json.dumps({"reps": 1e308, "duration_s": -0.0}).encode(),
        b'{"reps": NaN}',
        b'{"text": "\\ud800"}',
        b"\xff\xfe\x00{",
        json.dumps({"technique_ids": ["x"] * 10_000}).encode(),
        json.dumps({"faults": {str(i): i for i in range(5_000)}}).encode(),
    ]
    for body in bodies:
        for path in ("/api/check", "/api/sessions"):
            r = member.post(path, content=body, headers={"content-type": "application/json"})
            assert r.status_code in (200, 201, 400, 413, 422), (path, body[:40], r.status_code)
    _healthy(member)


@FUZZ
@given(fields=st.dictionaries(st.sampled_from(["email", "password", "name", "next", "csrf_token", "x"]),
                              st.text(max_size=300), max_size=6))  # fmt: skip
def test_forms_any_fields(sqlite_site: Site, fields: dict[str, str]) -> None:
    c = sqlite_site.client("anon")
    token = c.get("/api/me").json()["csrf_token"]
    for path in ("/login", "/signup", "/reset", "/checker"):
        r = c.post(path, data={**fields, "csrf_token": token}, follow_redirects=False)
        assert r.status_code in (200, 303, 400, 403, 422, 429), (path, fields, r.status_code)
