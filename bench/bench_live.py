"""Benchmark of live coaching's server side: per-frame cost, latency, and concurrent 15 fps sessions.

Run: ``.venv/bin/python bench/bench_live.py [--seconds 6] [--levels 25,50,100,150,200] [--fps 15]``

Frames are real: the Face Landmarker's output (points, blendshapes) and the forehead crease energy of
every frame of ``../shared/data/woman_expressions_24fps.mp4``, encoded exactly as the page sends them
(``facecoach.live.protocol``). It prints:

* in process: decode + coaching evaluator per landmark frame (ms, p50/p99) — no network;
* one session on a real uvicorn server (one worker, loopback): the round trip of a frame to its reply,
  and ``proc_ms``, the server's own time from the frame arriving to its reply leaving (p50/p99, ms);
* memory: the server's resident memory per open, calibrated session (100 held open at once);
* load: N concurrent sessions each sending 15 frames a second (paced; a late session skips ticks rather
  than bursting, so the generator is bounded), for increasing N; their starts spread over a second and
  measured after a warm-up (``--warmup``, 3 s: each session calibrates once, in the warm-up; the cost
  of that one frame is printed separately); per level the achieved frame rate and the round-trip
  p50/p99. The answer is the largest N whose p99 stays under 50 ms. The load generator (``--clients``
  processes, 2 by default) runs on the same 2-core machine as the server, so the figure is a lower bound
  for the server alone; the server's own CPU time per frame (from /proc) gives the capacity of a core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from facecoach.coaching.evaluator import evaluator_for
from facecoach.coaching.specs import spec_by_id
from facecoach.coaching.wrinkle import forehead_crease_energy
from facecoach.config import LiveSettings
from facecoach.live.protocol import Control, LandmarkFrame, decode_frame, encode_landmarks
from facecoach.live.session import LiveSession
from facecoach.vision.landmarks import FaceLandmarker

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
TECHNIQUE = "smile-lift"


def real_frames(
    video: Path, limit: int
) -> list[tuple[np.ndarray, dict[str, float], float | None, tuple[int, int]]]:
    cap = cv2.VideoCapture(str(video))
    fps = cap.get(cv2.CAP_PROP_FPS) or 24.0
    out = []
    with FaceLandmarker(mode="video", max_faces=1) as lm:
        i = 0
        while len(out) < limit:
            ok, bgr = cap.read()
            if not ok:
                break
            rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            faces = lm.detect(rgb, i / fps).faces
            i += 1
            if faces:
                f = faces[0]
                out.append(
                    (f.points_px, f.blendshapes, forehead_crease_energy(rgb, f.points_px), f.image_size)
                )
    cap.release()
    if not out:
        raise SystemExit(f"no face found in {video}")
    return out


def encoded(frames: list[Any], count: int, fps: float, seq0: int = 1) -> list[bytes]:
    msgs = []
    for k in range(count):
        pts, shapes, crease, size = frames[k % len(frames)]
        msgs.append(encode_landmarks(seq0 + k, (k / fps) * 1000.0, size, pts, shapes, crease))
    return msgs


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def in_process(frames: list[Any], fps: float, n: int = 3000) -> tuple[float, float, float, list[float]]:
    """Decode + evaluate per frame in this process: (p50, p99, mean) ms of ordinary frames, and the cost
    of each frame that completed a calibration (the evaluator calibrates once per exercise)."""
    limits = LiveSettings()
    session = LiveSession(lambda tid: spec_by_id(tid), evaluator_for, max_steps=1000)  # type: ignore[arg-type]
    session.control(Control(type="start", technique=TECHNIQUE))
    msgs = encoded(frames, n, fps)
    costs = []
    calibrations = []
    for k, data in enumerate(msgs):
        if k and k % 600 == 0:  # a fresh step now and then, so calibration and reps recur
            session.control(Control(type="start", technique=TECHNIQUE))
        t0 = time.perf_counter()
        f = decode_frame(data, limits)
        assert isinstance(f, LandmarkFrame)
        ts = f.header.timestamp_ms / 1000.0
        events = [e.to_dict() for e in session.frame(f.face, ts)]  # as the socket sends them
        cost = (time.perf_counter() - t0) * 1000.0
        if any(e["type"] == "calibrated" for e in events):
            calibrations.append(cost)
        else:
            costs.append(cost)
    return pct(costs, 50), pct(costs, 99), float(np.mean(costs)), calibrations


# -- a real server -----------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), seconds: a cost that other load cannot inflate
    the way it inflates wall-clock latency."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def memory_per_session(port: int, cookie: str, frames: list[Any], pid: int, n: int = 100) -> float:
    """KiB of server memory per open, calibrated session: n sessions held open at once."""
    from websockets.asyncio.client import connect

    msgs = encoded(frames, 40, 15.0)
    before = rss_kib(pid)

    async def one() -> Any:
        ws = await connect(
            f"ws://127.0.0.1:{port}/live/ws", additional_headers={"Cookie": f"fc_session={cookie}"}
        )
        await ws.recv()
        await ws.send(json.dumps({"type": "start", "technique": TECHNIQUE}))
        await ws.recv()
        for m in msgs:  # 2.7 s of frames at 15 fps: past calibration
            await ws.send(m)
            await ws.recv()
            await asyncio.sleep(1 / 15)
        return ws

    conns = await asyncio.gather(*(one() for _ in range(n)))
    during = rss_kib(pid)
    for ws in conns:
        await ws.close()
    return (during - before) / n


def start_server(folder: Path, ws_impl: str) -> tuple[subprocess.Popen[bytes], int, str]:
    from facecoach.members.auth import create_user, start_session
    from facecoach.members.db import Database
    from facecoach.members.migrate import upgrade
    from facecoach.web.security import Signer

    url = f"sqlite:///{folder / 'bench.db'}"
    secret = "bench-" + uuid.uuid4().hex
    db = Database.connect(url)
    upgrade(db)
    with db.session() as s:
        user = create_user(s, "bench@example.com", "bench password 123", plan="member")
        sid = start_session(s, user).id
    db.dispose()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    port = sock.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "FACECOACH_SECRET_KEY": secret,
        "FACECOACH_DATA_DIR": str(folder),
        # Every simulated session is the same member: lift the per-member socket cap (issue 11, 3 by
        # default) so the load levels measure the server, not the cap.
        "FACECOACH_LIVE_MAX_SOCKETS_PER_MEMBER": "10000",
    }
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "facecoach.web.app:create_app",
        "--fd",
        str(sock.fileno()),
        "--ws",
        ws_impl,
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    proc = subprocess.Popen(cmd, env=env, pass_fds=[sock.fileno()])
    sock.close()
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("the server did not start") from None
            time.sleep(0.2)
    return proc, port, Signer(secret).sign(sid)


async def session_run(
    port: int,
    cookie: str,
    msgs: list[bytes],
    fps: float,
    warmup_s: float,
    seconds: float,
    rtts: list[float],
    procs: list[float],
    start_at: float,
) -> int:
    """One paced session: ``warmup_s`` first (its calibration happens there, not measured), then
    ``seconds`` measured. Returns the frames sent while measuring."""
    from websockets.asyncio.client import connect

    sent = measured = 0
    async with connect(
        f"ws://127.0.0.1:{port}/live/ws",
        additional_headers={"Cookie": f"fc_session={cookie}"},
        max_size=1 << 20,
        compression=None,
    ) as ws:
        json.loads(await ws.recv())  # hello
        await ws.send(json.dumps({"type": "start", "technique": TECHNIQUE, "mode": "landmarks"}))
        json.loads(await ws.recv())  # step
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        t_start = time.monotonic()
        period = 1.0 / fps
        tick = 0
        while (elapsed := time.monotonic() - t_start) < warmup_s + seconds and sent < len(msgs):
            t0 = time.perf_counter()
            await ws.send(msgs[sent])
            reply = json.loads(await ws.recv())
            sent += 1
            if elapsed >= warmup_s:
                rtts.append((time.perf_counter() - t0) * 1000.0)
                procs.append(float(reply.get("proc_ms", float("nan"))))
                measured += 1
            # Pace: the next tick in the future (ticks missed while late are skipped, never burst).
            tick = max(tick + 1, int((time.monotonic() - t_start) / period) + 1)
            await asyncio.sleep(max(0.0, t_start + tick * period - time.monotonic()))
    return measured


def _client_process(
    port: int,
    cookie: str,
    msgs: list[bytes],
    n: int,
    offset: int,
    total: int,
    fps: float,
    warmup_s: float,
    seconds: float,
    start_at: float,
) -> tuple[list[float], list[float], int, int, str]:
    """One load-generator process running n of the sessions (their starts spread with the others')."""
    rtts: list[float] = []
    procs: list[float] = []

    async def run_all() -> list[Any]:
        return await asyncio.gather(
            *(
                session_run(
                    port, cookie, msgs, fps, warmup_s, seconds, rtts, procs, start_at + (offset + i) / total
                )
                for i in range(n)
            ),
            return_exceptions=True,
        )

    results = asyncio.run(run_all())
    failed = [r for r in results if isinstance(r, BaseException)]
    sent = sum(r for r in results if isinstance(r, int))
    return rtts, procs, sent, len(failed), repr(failed[0]) if failed else ""


def load_level(
    port: int,
    cookie: str,
    frames: list[Any],
    n: int,
    fps: float,
    warmup_s: float,
    seconds: float,
    clients: int,
) -> tuple[float, float, float, float]:
    """n sessions over ``clients`` generator processes, their starts spread over one second (as real
    sessions would be). Returns (frames/s achieved per session, round-trip p50, p99, server p99)."""
    from concurrent.futures import ProcessPoolExecutor

    msgs = encoded(frames, int((warmup_s + seconds) * fps) + 10, fps)
    start_at = time.monotonic() + 2.0 + n * 0.02
    split = [n // clients + (1 if k < n % clients else 0) for k in range(clients)]
    offsets = [sum(split[:k]) for k in range(clients)]
    rtts: list[float] = []
    procs: list[float] = []
    sent = failed = 0
    first_error = ""
    with ProcessPoolExecutor(clients) as pool:
        futures = [
            pool.submit(_client_process, port, cookie, msgs, m, o, n, fps, warmup_s, seconds, start_at)
            for m, o in zip(split, offsets, strict=True)
            if m
        ]
        for f in futures:
            r, p, s_, fl, err = f.result()
            rtts += r
            procs += p
            sent += s_
            failed += fl
            first_error = first_error or err
    if failed:
        print(f"    {failed} sessions failed: {first_error}")
    achieved = sent / seconds / max(1, n - failed)
    return achieved, pct(rtts, 50), pct(rtts, 99), pct(procs, 99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--video", type=Path, default=SHARED / "woman_expressions_24fps.mp4")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--fps", type=float, default=15.0)
    parser.add_argument(
        "--ws", default="auto", help="uvicorn's WebSocket implementation (facecoach serve: auto)"
    )
    parser.add_argument("--clients", type=int, default=2, help="load-generator processes")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds per session before measuring")
    parser.add_argument("--levels", default="25,50,100,150,200")
    args = parser.parse_args()

    frames = real_frames(args.video, 240)
    size = len(encoded(frames, 1, 15)[0])
    print(f"frames: {len(frames)} real landmark frames from {args.video.name}, message {size} B")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (shared cores)")
    p50, p99, mean, calibrations = in_process(frames, args.fps)
    print(f"in process, decode + evaluator per frame: p50 {p50:.3f} ms, p99 {p99:.3f} ms, mean {mean:.3f} ms")
    print(
        f"in process, the frame that completes a calibration (once per exercise): "
        f"median {pct(calibrations, 50):.1f} ms, max {max(calibrations):.1f} ms ({len(calibrations)} seen)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        proc, port, cookie = start_server(Path(tmp), args.ws)
        try:
            rtts: list[float] = []
            procs: list[float] = []
            msgs = encoded(frames, int((args.warmup + args.seconds) * args.fps) + 10, args.fps)
            asyncio.run(
                session_run(
                    port, cookie, msgs, args.fps, args.warmup, args.seconds, rtts, procs, time.monotonic()
                )
            )
            print(
                f"one session at {args.fps:g} fps, {len(rtts)} frames: "
                f"round trip p50 {pct(rtts, 50):.2f} ms, "
                f"p99 {pct(rtts, 99):.2f} ms; server arrival→reply p50 {pct(procs, 50):.3f} ms, "
                f"p99 {pct(procs, 99):.3f} ms"
            )
            per_session = asyncio.run(memory_per_session(port, cookie, frames, proc.pid))
            print(f"server memory per open, calibrated session: {per_session:.0f} KiB (100 held open)")
            best = 0
            print(
                f"concurrent sessions at {args.fps:g} fps, {args.seconds:g} s per level (one uvicorn worker):"
            )
            cpu_per_frame: list[float] = []
            for n in (int(x) for x in args.levels.split(",")):
                cpu0 = cpu_seconds(proc.pid)
                achieved, r50, r99, s99 = load_level(
                    port, cookie, frames, n, args.fps, args.warmup, args.seconds, args.clients
                )
                handled = n * (achieved * args.seconds + args.fps * args.warmup)  # about, warm-up included
                cpu_ms = (cpu_seconds(proc.pid) - cpu0) * 1000.0 / max(handled, 1.0)
                cpu_per_frame.append(cpu_ms)
                ok = r99 < 50.0 and achieved >= 0.95 * args.fps
                print(
                    f"  {n:4d} sessions: {achieved:5.1f} fps each, "
                    f"round trip p50 {r50:6.2f} ms, p99 {r99:7.2f} ms, "
                    f"server p99 {s99:.3f} ms, server CPU {cpu_ms:.2f} ms/frame  {'ok' if ok else 'over'}"
                )
                if ok:
                    best = n
                elif r99 > 500 or achieved < 0.5 * args.fps:
                    break  # far over: larger levels only take longer to say the same
            print(
                f"most concurrent {args.fps:g} fps sessions with round-trip p99 < 50 ms: {best} "
                f"(of the levels tried)"
            )
            per = float(np.median(cpu_per_frame))
            print(
                f"server CPU per frame (all of it: WebSocket, decode, evaluator, reply): {per:.2f} ms → one "
                f"worker on a whole core could serve about {1000.0 / (per * args.fps):.0f} sessions at "
                f"{args.fps:g} fps"
            )
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
