"""Hostile WebSocket frames, command-line arguments and answers files. A bad socket client is closed
with a protocol close code (never 1011, the server-error code) while another client is served; the CLI
answers a usage error or a one-line refusal (exit 2), never a traceback."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.websockets import WebSocketDisconnect
from typer.testing import CliRunner

from facecoach.live.protocol import HEADER, encode_no_face
from facecoach.planning.assessment import AnswersError, load_answers
from tests.web.fixtures import Site

FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
PROTOCOL_CLOSES = {1000, 1003, 1007, 1008, 1009, 1013}

headers = st.builds(
    lambda v, k, f, seq, ts, w, h: HEADER.pack(v, k, f, seq, ts, w, h),
    st.integers(0, 255), st.integers(0, 255), st.integers(0, 65535), st.integers(0, 2**32 - 1),
    st.floats(allow_nan=True, allow_infinity=True), st.integers(0, 65535), st.integers(0, 65535),
)  # fmt: skip
frames = st.one_of(
    st.binary(max_size=64),
    st.tuples(headers, st.binary(max_size=2048)).map(lambda t: t[0] + t[1]),
    st.builds(
        lambda seq, n: encode_no_face(seq, 1.0, (640, 480)) + b"\0" * n, st.integers(0, 9), st.integers(0, 9)
    ),
)
texts = st.one_of(
    st.text(max_size=200),
    st.builds(json.dumps, st.dictionaries(st.sampled_from(["type", "technique", "mode", "reps", "x"]),
                                          st.none() | st.integers() | st.text(max_size=20), max_size=5)),
)  # fmt: skip


@pytest.fixture
def member(sqlite_site: Site) -> Any:
    return sqlite_site.client("member")


def _session(client: Any, messages: list[bytes | str]) -> int | None:
    """Send the messages; the close code the server answered with (None: still open at the end)."""
    try:
        with client.websocket_connect("/live/ws") as ws:
            assert ws.receive_json()["type"] == "hello"
            for message in messages:
                if isinstance(message, bytes):
                    ws.send_bytes(message)
                else:
                    ws.send_text(message)
            ws.send_text(json.dumps({"type": "stop"}))
            while True:
                ws.receive_json()
    except WebSocketDisconnect as exc:
        return int(exc.code)


@FUZZ
@given(messages=st.lists(st.one_of(frames, texts), min_size=1, max_size=6))
def test_socket_survives_any_messages(member: Any, messages: list[bytes | str]) -> None:
    code = _session(member, messages)
    assert code in PROTOCOL_CLOSES, code
    # The next, well-behaved client is served.
    good = [json.dumps({"type": "start", "technique": "smile-lift"}), encode_no_face(1, 10.0, (640, 480))]
    assert _session(member, good) in PROTOCOL_CLOSES


def test_socket_floods_and_giants(member: Any) -> None:
    flood = [encode_no_face(i, float(i), (640, 480)) for i in range(400)]
    assert _session(member, flood) == 1008  # faster than the frame-rate limit
    giant = struct.pack("<BBHIdHH", 1, 3, 0, 1, 1.0, 640, 480) + b"\xff\xd8\xff" + b"\0" * 2_000_000
    assert _session(member, [giant]) == 1009
    assert _session(member, ["{" * 5000]) in (1008, 1009)


# -- command line ----------------------------------------------------------------------------------------

SAFE_COMMANDS = ["techniques", "muscles", "show", "check", "scan", "plan", "assess", "audit", "db"]
words = st.sampled_from(
    ["--json", "--kind", "exercise", "massage", "--region", "--muscle", "--tool", "--week", "0", "-1",
     "99999999999999999999", "--answers", "--scan", "/dev/null", "/etc", "nope.json", "--technique", "-t",
     "smile-lift", "--", "--help-me", "current", "", " ", "é", "\x00"]
)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    command=st.sampled_from(SAFE_COMMANDS), args=st.lists(st.one_of(words, st.text(max_size=12)), max_size=5)
)
def test_cli_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, args: list[str]
) -> None:
    from facecoach.cli import app
    from facecoach.config import get_settings

    if command == "db":
        args = ["current", *args]  # never write, migrate or restore a database from a fuzzer
    if command == "assess":
        args = [*args, "--help"]  # the questionnaire is interactive
    # A database that does not exist, and a scratch directory for anything a command might write.
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/no/such/dir/x.db")
    get_settings.cache_clear()
    monkeypatch.chdir(tmp_path)
    try:
        result = CliRunner().invoke(app, [command, *args])
    finally:
        get_settings.cache_clear()
    assert result.exit_code in (0, 1, 2), (command, args, result.exit_code, result.output[-300:])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{command} {args}: {result.exception!r}") from result.exception
    assert "Traceback" not in result.output


# -- answers files ---------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    content=st.one_of(
        st.binary(max_size=200),
        st.text(max_size=200).map(str.encode),
        st.dictionaries(st.text(max_size=15), st.integers() | st.text(max_size=5), max_size=5).map(
            lambda d: json.dumps(d).encode()
        ),
    )
)
def test_answers_files_any_content(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "answers.json"
    path.write_bytes(content)
    try:
        load_answers(path)
    except AnswersError as exc:
        assert str(exc) and "\n" not in str(exc)


def test_answers_files_deep_huge_and_missing(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(AnswersError, match="nested too deeply"):
        load_answers(deep)
    from facecoach.planning.scan import ScanError, load_scan

    with pytest.raises(ScanError, match="nested too deeply"):
        load_scan(deep)
    with pytest.raises(AnswersError):
        load_answers(tmp_path)  # a directory
    with pytest.raises(AnswersError):
        load_answers(tmp_path / "missing.json")
