"""Benchmark of the habit guard page: CPU and memory of headless Chromium running /guard for a while.

Run: ``.venv/bin/python bench/bench_guard.py [--minutes 10] [--camera-minutes 1] [--hidden-minutes 1]``

Chromium (Debian's, headless, as the browser tests run it) plays the real clip
``../shared/data/woman_expressions_24fps.mp4`` (looped, 640×360 at 8 frames/s) as its fake camera; the
page runs the Face Landmarker (WebAssembly, CPU) and its detector at 1 frame/s against a real uvicorn
server. Three phases, each measured from /proc (utime + stime of every Chromium process, and their
proportional set size, PSS) and from the page's JS heap (CDP ``Performance.getMetrics``):

1. camera only: the same page with the camera playing into a video element and the guard not started —
   what the fake camera itself costs (a real webcam costs the browser something too);
2. the guard watching (``--minutes``): CPU % of one core (all Chromium processes), and the page's own
   share (minus phase 1); the JS heap and PSS sampled every 20 s after a 1-minute warm-up, their
   least-squares slope in MB per hour, and that slope extrapolated to 4 hours. A run of 10 minutes says
   nothing certain about hour 4: the extrapolation is printed as what it is;
3. the tab hidden (``--hidden-minutes``; headless Chromium never hides a tab, so the page is told it is
   hidden as a browser tells it: ``visibilityState`` and its event): the page's sampling rate and CPU.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the test helpers: the y4m writer and the browser flags

from tests.live.clips import write_y4m  # noqa: E402
from tests.support.browser import FAKE_CAMERA, launch  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
CLK = os.sysconf("SC_CLK_TCK")


def clip_y4m(folder: Path, fps: int = 8) -> Path:
    cap = cv2.VideoCapture(str(SHARED / "woman_expressions_24fps.mp4"))
    frames, i = [], 0
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        if i % 3 == 0:
            frames.append(np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
        i += 1
    return write_y4m(folder / "woman.y4m", frames, fps=fps, width=640, height=360)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(d.name))
    return tree


def chromium_pids() -> list[int]:
    """Every process below this one whose command is Chromium (the browser and its helpers)."""
    tree, out, todo = _children(), [], [os.getpid()]
    while todo:
        pid = todo.pop()
        for child in tree.get(pid, []):
            todo.append(child)
            try:
                if "chrom" in (Path("/proc") / str(child) / "comm").read_text():
                    out.append(child)
            except OSError:
                pass
    return out


def cpu_s(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / CLK


def pss_mb(pids: list[int]) -> float:
    """Proportional set size of the processes (shared pages split between them, so not counted twice)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            for line in (Path("/proc") / str(pid) / "smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
    return total / 1e6


def serve() -> tuple[str, str]:
    """The app on a fresh SQLite database on a loopback port; a member's signed session cookie."""
    import uvicorn

    from facecoach.config import Settings
    from facecoach.members.auth import create_user, start_session
    from facecoach.members.db import Database
    from facecoach.members.migrate import upgrade
    from facecoach.web.app import create_app
    from facecoach.web.security import Signer

    folder = Path(tempfile.mkdtemp(prefix="bench-guard-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    settings = Settings(database_url=url, data_dir=folder, secret_key=uuid.uuid4().hex, redis_url="")
    db = Database.connect(url)
    upgrade(db)
    with db.session() as s:
        user = create_user(s, "bench@example.com", "correct horse battery", plan="member")
        sid = start_session(s, user).id
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    srv = uvicorn.Server(
        uvicorn.Config(create_app(settings, database=db), log_level="warning", lifespan="off")
    )
    threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not srv.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{sock.getsockname()[1]}", Signer(settings.secret_key).sign(sid)


def measure(seconds: float, page: Any, cdp: Any, every_s: float = 20.0) -> dict[str, Any]:
    pids = chromium_pids()
    c0, t0 = cpu_s(pids), time.monotonic()
    f0 = page.evaluate("window.facecoachGuard.frames()")
    samples: list[tuple[float, float, float]] = []
    while (now := time.monotonic()) - t0 < seconds:
        heap = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}[
            "JSHeapUsedSize"
        ]
        samples.append((now - t0, heap / 1e6, pss_mb(chromium_pids())))
        time.sleep(min(every_s, max(0.0, seconds - (time.monotonic() - t0))))
    wall = time.monotonic() - t0
    return {
        "cpu_pct": 100.0 * (cpu_s(chromium_pids()) - c0) / wall,
        "frames": page.evaluate("window.facecoachGuard.frames()") - f0,
        "wall_s": wall,
        "samples": samples,
    }


def slope_mb_per_h(samples: list[tuple[float, float, float]], column: int, skip_s: float) -> float:
    pts = [(t, s[column]) for s in samples if (t := s[0]) >= skip_s]
    if len(pts) < 3:
        return float("nan")
    t = np.array([p[0] for p in pts]) / 3600.0
    return float(np.polyfit(t, np.array([p[1] for p in pts]), 1)[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--camera-minutes", type=float, default=1.0)
    ap.add_argument("--hidden-minutes", type=float, default=1.0)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    base, cookie = serve()
    folder = Path(tempfile.mkdtemp(prefix="bench-guard-clip-"))
    clip = clip_y4m(folder)
    with sync_playwright() as pw:
        browser = launch(pw, *FAKE_CAMERA, f"--use-file-for-fake-video-capture={clip}")
        context = browser.new_context()
        context.add_cookies([{"name": "fc_session", "value": cookie, "url": base}])
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable")
        page.goto(f"{base}/guard")
        page.wait_for_selector("#guard[data-state='ready']", timeout=120_000)
        # 1. camera only
        page.evaluate(
            "navigator.mediaDevices.getUserMedia({video: {width: 640, height: 480, frameRate: {ideal: 10}}})"
            ".then((s) => { const v = document.getElementById('guard-cam'); v.srcObject = s;"
            " return v.play(); })"
        )
        time.sleep(3)
        camera = measure(args.camera_minutes * 60, page, cdp)
        page.evaluate("document.getElementById('guard-cam').srcObject.getTracks().forEach((t) => t.stop())")
        # 2. the guard
        page.click("#guard-start")
        page.wait_for_selector("#guard[data-calibrated='true']", timeout=60_000)
        watching = measure(args.minutes * 60, page, cdp)
        # 3. hidden: headless Chromium keeps a background tab "visible", so the page is told it is hidden
        # the way a browser tells it (visibilityState and its event) — the page's own back-off is measured
        page.evaluate(
            "Object.defineProperty(document, 'visibilityState', {get: () => 'hidden', configurable: true});"
            " document.dispatchEvent(new Event('visibilitychange'))"
        )
        time.sleep(2)
        hidden_state = page.evaluate("document.visibilityState")
        hidden_fps = page.evaluate("window.facecoachGuard.fps()")
        hidden = measure(args.hidden_minutes * 60, page, cdp)
        browser.close()

    w = watching
    fps = w["frames"] / w["wall_s"]
    heap_slope = slope_mb_per_h(w["samples"], 1, 60.0)
    rss_slope = slope_mb_per_h(w["samples"], 2, 60.0)
    heap = [s[1] for s in w["samples"]]
    rss = [s[2] for s in w["samples"]]
    print(
        "habit guard in headless Chromium (Debian), fake camera: the real clip looped, 640×360 at 8 frames/s"
    )
    print(f"camera only, guard not started : {camera['cpu_pct']:5.1f} % of one core")
    print(
        f"guard watching ({w['wall_s'] / 60:.1f} min)   : {w['cpu_pct']:5.1f} % of one core,"
        f" {fps:.2f} frames/s measured; the page's own share ≈ {w['cpu_pct'] - camera['cpu_pct']:.1f} %"
    )
    print(
        f"  JS heap  : {heap[0]:.1f} → {heap[-1]:.1f} MB (min {min(heap):.1f}, max {max(heap):.1f});"
        f" slope after the first minute {heap_slope:+.2f} MB/h → over 4 h"
        f" {4 * heap_slope:+.1f} MB (extrapolated)"
    )
    print(
        f"  PSS, all Chromium processes: {rss[0]:.0f} → {rss[-1]:.0f} MB; slope {rss_slope:+.1f} MB/h → over"
        f" 4 h {4 * rss_slope:+.0f} MB (extrapolated)"
    )
    print(
        f"tab hidden (told so: {hidden_state}, {hidden['wall_s'] / 60:.1f} min):"
        f" page rate {hidden_fps} frames/s,"
        f" {hidden['frames'] / hidden['wall_s']:.2f} measured, {hidden['cpu_pct']:.1f} % of one core"
    )
    print("goal: the page's own share ≤ 5 % of one core at 1 frame/s; memory flat over 4 h")


if __name__ == "__main__":
    main()
