"""Bounded load test on loopback: the main pages, the JSON API and live-coaching WebSockets against a
real multi-worker server (``uvicorn --workers 4``), on SQLite and on PostgreSQL.

Run: ``.venv/bin/python bench/bench_load.py [--engines sqlite,postgres] [--workers 4] [--seconds 8]
[--concurrency 16] [--ws-sessions 40] [--fps 15] [--clients 2]``

For each engine it migrates a fresh database, adds members (each with a login session, an assessment
and some history, so /routine and /progress do real work), starts the server, and then:

* pages and API: ``--concurrency`` clients request one path back to back for ``--seconds`` (closed loop,
  so the load is bounded by the clients, never a flood); requests/s, p50 and p99 latency (ms), errors;
* live coaching: ``--ws-sessions`` concurrent WebSocket sessions, each sending real landmark frames at
  ``--fps`` (paced, as :mod:`bench_live` does), for ``--seconds`` after a warm-up; round-trip p50/p99 and
  the server's CPU time per session (ms of CPU per second of a session = thousandths of one core),
  which is the figure that sizes a deployment (docs/scaling.md).

Everything runs on the same machine: the load generator takes CPU from the server, so the numbers are
lower bounds for the server alone. PostgreSQL databases are created and dropped on 127.0.0.1:5432.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # for tests/support/pg.py (scratch PostgreSQL databases)

from tests.support import pg  # noqa: E402

MEMBERS = 20
PATHS = [
    ("home", "/"),
    ("library", "/library"),
    ("technique", "/library/smile-lift"),
    ("routine", "/routine"),
    ("progress", "/progress"),
    ("api techniques", "/api/techniques"),
    ("api routine", "/api/routine"),
    ("api progress", "/api/progress"),
]


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_database(engine: str, folder: Path) -> tuple[str, str | None]:
    if engine == "sqlite":
        return f"sqlite:///{folder / 'load.db'}", None
    name = pg.create_database("facecoach_bench")
    return pg.PG_URL.format(name=name), name


def drop_database(name: str | None) -> None:
    if name is not None:
        pg.drop_database(name)


def real_scan() -> dict[str, Any]:
    """A real scan result (the astronaut photo that ships with scikit-image), stored for every member."""
    from skimage import data

    from facecoach.vision.landmarks import FaceLandmarker
    from facecoach.vision.scan_photo import analyse_image

    with FaceLandmarker(mode="image", max_faces=2) as lm:
        return analyse_image(data.astronaut(), lm).result.model_dump(mode="json")


def populate(url: str, secret: str) -> list[str]:
    """Members with history; returns their signed session cookies (no argon2 logins in the hot path)."""
    from argon2 import PasswordHasher
    from argon2.profiles import CHEAPEST

    from facecoach.members import auth, migrate
    from facecoach.members.db import Database
    from facecoach.members.models import Assessment, Scan
    from facecoach.members.practice import record_session
    from facecoach.planning.assessment import Answers
    from facecoach.web.security import Signer

    auth.use_password_hasher(PasswordHasher.from_parameters(CHEAPEST))
    db = Database.connect(url)
    migrate.upgrade(db)
    signer = Signer(secret)
    cookies = []
    scan = real_scan()
    answers = Answers(goals=["lift_cheeks", "jaw_tension"], minutes_per_day=15, tools=["gua_sha"])
    today = dt.datetime.now(dt.UTC).date()
    with db.session() as s:
        for i in range(MEMBERS):
            user = auth.create_user(s, f"load{i}@example.org", "a good long password", plan="member")
            cookies.append(signer.sign(auth.start_session(s, user).id))
            a = Assessment(user_id=user.id, answers=answers.model_dump(mode="json"))
            s.add(a)
            s.flush()
            for _ in range(6):
                s.add(Scan(user_id=user.id, assessment_id=a.id, measurements=scan))
            for d in range(20):
                summary = {"technique_ids": ["smile-lift"], "reps": 8, "faults": {}, "duration_s": 300.0}
                record_session(s, user.id, {**summary, "date": (today - dt.timedelta(days=d)).isoformat()})
    db.dispose()
    return cookies


def start_server(url: str, secret: str, folder: Path, workers: int) -> tuple[subprocess.Popen[bytes], int]:
    import httpx

    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FACECOACH_")},
        "DATABASE_URL": url,
        "FACECOACH_SECRET_KEY": secret,
        "FACECOACH_DATA_DIR": str(folder),
        "FACECOACH_LIVE_MAX_FPS": "60",
    }
    cmd = [
        sys.executable, "-m", "uvicorn", "--factory", "facecoach.web.app:create_app", "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(workers), "--ws", "websockets-sansio", "--log-level", "warning",
        "--no-access-log",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, start_new_session=True)
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit("the server did not start")
        time.sleep(0.3)
    return proc, port


def cpu_seconds(root: int) -> float:
    """User + system CPU of a process and its children (the uvicorn workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry.name), int(fields[1])
        if pid == root or ppid == root:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


async def http_load(
    port: int, path: str, cookies: list[str], seconds: float, concurrency: int
) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30) as client:

        async def one_client(i: int) -> None:
            nonlocal errors
            headers = {"Cookie": f"fc_session={cookies[i % len(cookies)]}", "Accept": "text/html"}
            while time.monotonic() < stop_at:
                t0 = time.perf_counter()
                r = await client.get(path, headers=headers)
                latencies.append((time.perf_counter() - t0) * 1000.0)
                if r.status_code != 200:
                    errors += 1

        for i in range(concurrency):  # warm-up: every client once (templates, caches, connections)
            r = await client.get(path, headers={"Cookie": f"fc_session={cookies[i % len(cookies)]}"})
            if r.status_code != 200:
                raise SystemExit(f"{path}: HTTP {r.status_code}: {r.text[:200]}")
        started = time.monotonic()
        stop_at = started + seconds
        await asyncio.gather(*(one_client(i) for i in range(concurrency)))
        elapsed = time.monotonic() - started
    return {
        "rps": len(latencies) / elapsed,
        "p50": pct(latencies, 50),
        "p99": pct(latencies, 99),
        "errors": errors,
        "requests": len(latencies) + concurrency,  # the warm-up requests count towards the CPU too
    }


def run_engine(engine: str, args: argparse.Namespace, frames: list[Any]) -> None:
    import bench_live

    with tempfile.TemporaryDirectory(prefix=f"facecoach-load-{engine}-") as tmp:
        folder = Path(tmp)
        url, pg_name = make_database(engine, folder)
        secret = "load-" + uuid.uuid4().hex
        proc = None
        try:
            cookies = populate(url, secret)
            proc, port = start_server(url, secret, folder, args.workers)
            print(f"\n== {engine}: {args.workers} uvicorn workers, {args.concurrency} clients,", end=" ")
            print(f"{args.seconds:g} s per path")
            print(f"  {'path':<16} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'CPU ms/req':>11}")
            for label, path in PATHS:
                cpu0 = cpu_seconds(proc.pid)
                r = asyncio.run(http_load(port, path, cookies, args.seconds, args.concurrency))
                cpu_ms = (cpu_seconds(proc.pid) - cpu0) * 1000.0 / max(1, r["requests"])
                figures = f"{r['rps']:8.0f} {r['p50']:8.1f} {r['p99']:8.1f} {r['errors']:7d} {cpu_ms:11.1f}"
                print(f"  {label:<16} {figures}")
            n = args.ws_sessions
            cpu0 = cpu_seconds(proc.pid)
            t0 = time.monotonic()
            achieved, p50, p99, proc99 = bench_live.load_level(
                port, cookies[0], frames, n, args.fps, args.warmup, args.seconds, args.clients
            )
            wall = time.monotonic() - t0
            cpu = cpu_seconds(proc.pid) - cpu0
            frames_sent = achieved * n * (args.warmup + args.seconds)  # warm-up frames cost CPU too
            per_frame = cpu * 1000.0 / max(1.0, frames_sent)
            per_session = per_frame * args.fps
            print(
                f"  live coaching: {n} sessions × {args.fps:g} fps → {achieved:.1f} fps each achieved; "
                f"round trip p50 {p50:.1f} ms, p99 {p99:.1f} ms; server proc p99 {proc99:.2f} ms"
            )
            print(
                f"  server CPU per landmark frame {per_frame:.2f} ms → per {args.fps:g} fps session "
                f"{per_session:.0f} ms per second (≈ {1000.0 / per_session:.0f} sessions per core); "
                f"{cpu / wall:.2f} cores busy over {wall:.0f} s"
            )
        finally:
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, 15)
                proc.wait(timeout=30)
            drop_database(pg_name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--ws-sessions", type=int, default=40)
    parser.add_argument("--fps", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=2, help="load-generator processes (as bench_live)")
    args = parser.parse_args()
    import bench_live

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"facecoach load test on loopback, {os.cpu_count()} CPUs (client and server share them)")
    print(f"load average before the run: {load} (other work on the machine slows every figure)")
    print("CPU ms/req: the server processes' CPU time per request, the figure that least depends on load")
    frames = bench_live.real_frames(bench_live.SHARED / "woman_expressions_24fps.mp4", 120)
    for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
        run_engine(engine, args, frames)


if __name__ == "__main__":
    main()
