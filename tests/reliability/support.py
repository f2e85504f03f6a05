"""Shared helpers of the reliability, security and fuzz tests: Redis, subprocess servers, table scans."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The local Redis (skips with the reason when it is down); keys of the test are removed after it."""
    import redis

    client = redis.Redis.from_url(REDIS, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis on 127.0.0.1:6379 is unreachable ({exc})")
    yield REDIS
    client.close()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child_env(**extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("FACECOACH_", "DATABASE_URL", "REDIS_URL"))
    }
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def fresh_peak(args: list[str]) -> list[str]:
    """``args`` run through a shell that forks: Linux carries a process's peak RSS (``ru_maxrss``) across
    ``exec``, so a child exec'd straight from a pytest worker that holds landmarkers starts with that
    worker's peak (2.2 GB seen) and libFuzzer's ``-rss_limit_mb`` reports it as its own out-of-memory.
    The shell's fork starts the counter again from the shell's few megabytes."""
    return ["/bin/sh", "-c", '"$@"; exit $?', "sh", *args]


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A child in its own process group (so kill -9 reaches all of it), output to ``log``."""
    fh = log.open("ab")
    return subprocess.Popen(
        args, cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
    )


def kill9(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            kill9(proc)


def wait_until(check: Any, timeout: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def serve(database_url: str, port: int, log: Path, workers: int = 1, **env: str) -> subprocess.Popen[bytes]:
    """``uvicorn --factory facecoach.web.app:create_app`` on ``port`` (the database already migrated);
    returns at once — :func:`wait_up` waits for it."""
    args = [
        sys.executable, "-m", "uvicorn", "--factory", "facecoach.web.app:create_app",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--log-level", "warning",
    ]  # fmt: skip
    return spawn(args, child_env(DATABASE_URL=database_url, **env), log)


def wait_up(proc: subprocess.Popen[bytes], port: int, log: Path, timeout: float = 90) -> None:
    import httpx

    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {log.read_text()[-2000:]}")
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(up, timeout, "the server to start", interval=0.2)
