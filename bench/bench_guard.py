"""Benchmark of the habit guard page: CPU and memory of headless Chromium running /guard.

Run: ``.venv/bin/python bench/bench_guard.py [--minutes 5] [--soak-minutes 20] [--soak-fps 8] [--controls]``

Chromium (Debian's, headless, the browser tests' flags) gets a camera: its fake capture device playing the
real clip ``../shared/data/woman_expressions_24fps.mp4`` (looped, 640×360 at 10 frames/s), or with
``--source canvas`` the clip's stills drawn into a canvas and its ``captureStream()`` (no capture device at
all). The page runs the Face Landmarker (WebAssembly, CPU) and its detector against a real uvicorn server.

CPU is CPU-seconds (utime + stime from /proc) of every Chromium process per wall-second: on a shared
machine a busy neighbour slows the page but hardly changes the CPU time it needs, so this is much less
sensitive to contention than wall-clock timing. Memory is read per process from ``smaps_rollup``: the
page's renderer (anonymous + shared-memory PSS: file-backed pages are left out, their share moves with
every other Chromium on the machine) and the V8 heap (CDP ``Performance.getMetrics`` ``JSHeapUsedSize``)
and DOM node count.

Phases (one browser, one page, in this order; then a second browser for the soak):

1. camera only: the camera playing into the page's video element, the guard not started;
2. the guard watching at 1 frame/s (``--minutes``): CPU % of one core, split by process;
3. the tab hidden (headless Chromium never hides a tab, so the page is told as a browser tells it:
   ``visibilityState`` and its event): the page's rate and CPU;
4. a low battery (``navigator.getBattery`` replaced by a battery the bench sets to 10 %, not charging);
5. the soak (``--soak-minutes`` at ``--soak-fps``): four hours at 1 frame/s are 14 400 frames; the page is
   run faster (the bench serves ``/guard/rules.json`` with ``sampling.fps`` raised, nothing else changed)
   and memory is fitted against *frames processed*: the slope (± its standard error) in kB per frame and
   × 14 400 = what 4 h at 1 frame/s would add. CPU per frame is printed too. The soak also reads the
   landmarker's WebAssembly memory (``window.facecoachGuard.wasmBytes()``), prints each hour-equivalent's
   (3 600 frames after the first ``WARMUP_FRAMES``) lowest and highest memory, so a sawtooth is judged by
   its envelope, and takes one full garbage collection before and one after (none in between): what the
   page still holds, as against garbage the browser has not collected yet. ``--only-soak``: no other phase.

``--compare FILE`` (``--compare-minutes``): two browsers at once, both watching at 1 frame/s under the same
load: one with the page's script replaced by FILE (e.g. ``git show main:facecoach/web/static/guard/app.js >
/tmp/app-main.js``), one as served; the CPU of each browser's own processes, side by side. On a shared
machine this is the fair before/after: both see the same neighbours.

``--controls`` (a third browser): what Chromium itself does with the frames, without the guard: the camera's
frames drawn into a canvas (what reading a <video> costs; MediaPipe's own video input does the same), read
from the track (MediaStreamTrackProcessor + ``VideoFrame.copyTo``, what the page does), or not consumed at
all; the renderer's shared memory per frame, and after Chromium is told of critical memory pressure.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import socket
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the test helpers: the y4m writer and the browser flags

from tests.live.clips import write_y4m  # noqa: E402
from tests.support.browser import FAKE_CAMERA, launch  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
CLIP = SHARED / "woman_expressions_24fps.mp4"
CLK = os.sysconf("SC_CLK_TCK")
CAMERA_FPS = 10
FOUR_HOURS_FRAMES = 4 * 3600
HOUR_FRAMES = 3600  # an hour at 1 frame/s
#: frames of the soak left out of the envelope's first hour: the model's first runs, the caches filling
WARMUP_FRAMES = 1000

#: a battery the bench controls (headless Chromium reports a charging battery at 100 %)
BATTERY_SHIM = """(() => {
  const battery = new EventTarget(); battery.level = 1.0; battery.charging = true;
  navigator.getBattery = () => Promise.resolve(battery);
  window.__setBattery = (level, charging) => { battery.level = level; battery.charging = charging;
    battery.dispatchEvent(new Event("levelchange")); battery.dispatchEvent(new Event("chargingchange")); };
})();"""
#: a camera without a capture device: the clip's stills (window.__stills) drawn into a canvas at 10/s
CANVAS_CAMERA = """(() => {
  const stills = window.__stills.map((u) => { const im = new Image(); im.src = u; return im; });
  let canvas = null, timer = null, i = 0;
  navigator.mediaDevices.getUserMedia = async () => {
    if (!canvas) { canvas = document.createElement("canvas"); canvas.width = 640; canvas.height = 360; }
    const g = canvas.getContext("2d");
    await Promise.all(stills.map((im) => im.decode().catch(() => {})));
    clearInterval(timer);
    g.drawImage(stills[0], 0, 0, 640, 360);
    timer = setInterval(() => g.drawImage(stills[Math.floor(i++ / 10) % stills.length], 0, 0, 640, 360), 100);
    return canvas.captureStream(10);
  };
})();"""
HIDE = """(hidden) => {
  Object.defineProperty(document, "visibilityState",
    {get: () => (hidden ? "hidden" : "visible"), configurable: true});
  document.dispatchEvent(new Event("visibilitychange"));
}"""
#: the camera as the page opens it (app.js startCamera), read by nobody and not played into a <video>
CAMERA_ONLY = (
    "navigator.mediaDevices.getUserMedia({video: {width: {ideal: 640}, height: {ideal: 480},"
    " frameRate: {ideal: 5, max: 10}}}).then((s) => { window.__camera = s; })"
)
CAMERA_STOP = "window.__camera.getTracks().forEach((t) => t.stop())"


# ---- the clip ------------------------------------------------------------------------------------------


def clip_frames(step: int = 3) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(CLIP))
    frames, i = [], 0
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        if i % step == 0:
            frames.append(np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
        i += 1
    return frames


def clip_y4m(folder: Path, fps: int = CAMERA_FPS) -> Path:
    """The clip for the fake camera at ``fps`` (10: every 3rd frame; faster: every frame)."""
    frames = clip_frames(step=3 if fps <= CAMERA_FPS else 1)
    return write_y4m(folder / f"woman{fps}.y4m", frames, fps=fps, width=640, height=360)


def camera_rate(fps: int) -> str:
    """An init script asking the camera for ``fps`` frames/s whatever the page asks (the soak only: the
    page asks for 5, and a read waits for a new frame)."""
    return f"""(() => {{
  const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (c) =>
    gum(c && c.video ? {{...c, video: {{...c.video, frameRate: {{ideal: {fps}}}}}}} : c);
}})();"""


def stills_script() -> str:
    urls = []
    for rgb in clip_frames(step=24):
        _ok, jpg = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        urls.append("data:image/jpeg;base64," + base64.b64encode(jpg.tobytes()).decode())
    return f"window.__stills = {json.dumps(urls)};" + CANVAS_CAMERA


# ---- processes -----------------------------------------------------------------------------------------


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


def chromium_pids() -> dict[int, str]:
    """Every Chromium process below this one → its kind (browser, renderer, gpu-process, utility:…)."""
    tree, out, todo = _children(), {}, [os.getpid()]
    while todo:
        for child in tree.get(todo.pop(), []):
            todo.append(child)
            with contextlib.suppress(OSError):
                if "chrom" in (Path("/proc") / str(child) / "comm").read_text():
                    out[child] = process_kind(child)
    return out


def process_kind(pid: int) -> str:
    args = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode().split()
    kind = next((a.split("=", 1)[1] for a in args if a.startswith("--type=")), "browser")
    if kind == "utility":
        sub = next((a.split("=", 1)[1] for a in args if a.startswith("--utility-sub-type=")), "?")
        kind += ":" + sub.split(".")[0]
    return kind


def cpu_s(pid: int) -> float:
    try:
        fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK
    except (OSError, IndexError, ValueError):
        return 0.0


def mem_mb(pid: int) -> dict[str, float]:
    """Pss, Pss_Anon, Pss_Shmem (MB) of one process."""
    out = {"Pss": 0.0, "Pss_Anon": 0.0, "Pss_Shmem": 0.0}
    with contextlib.suppress(OSError, IndexError, ValueError):
        for line in (Path("/proc") / str(pid) / "smaps_rollup").read_text().splitlines():
            key = line.split(":", 1)[0]
            if key in out:
                out[key] = int(line.split()[1]) / 1024
    return out


def browser_trees() -> list[dict[int, str]]:
    """Each Chromium launched below this process: its own processes → their kind, oldest launch first."""
    tree, procs = _children(), chromium_pids()
    tops = sorted((p for p, k in procs.items() if k == "browser"), key=_start_ticks)
    out = []
    for top in tops:
        own, todo = {top: "browser"}, [top]
        while todo:
            for child in tree.get(todo.pop(), []):
                todo.append(child)
                if child in procs:
                    own[child] = procs[child]
        out.append(own)
    return out


def _start_ticks(pid: int) -> int:
    try:
        return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return 0


def page_renderer(procs: dict[int, str]) -> int:
    """The page's renderer: the one holding the model (by far the largest anonymous memory)."""
    return max((p for p, k in procs.items() if k == "renderer"), key=lambda p: mem_mb(p)["Pss_Anon"])


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    v = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


# ---- the app -------------------------------------------------------------------------------------------


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


@dataclass
class Bench:
    base: str
    cookie: str
    camera_args: list[str]
    init_scripts: list[str]
    pw: Any = None

    def open(self, soak_fps: float | None = None, script: str | None = None) -> tuple[Any, Any, Any]:
        """A browser, the /guard page loaded (model ready) and its CDP session; ``script``: the page's
        app.js replaced by this text."""
        browser = launch(self.pw, *self.camera_args)
        context = browser.new_context()
        for init in self.init_scripts:
            context.add_init_script(init)
        context.add_cookies([{"name": "fc_session", "value": self.cookie, "url": self.base}])
        page = context.new_page()
        if soak_fps:
            page.route(f"{self.base}/guard/rules.json", lambda route: faster_rules(route, soak_fps))
        if script is not None:
            page.route(
                f"{self.base}/static/guard/app.js*",
                lambda route: route.fulfill(status=200, content_type="text/javascript", body=script),
            )
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable")
        page.goto(f"{self.base}/guard")
        page.wait_for_selector("#guard[data-state='ready']", timeout=180_000)
        return browser, page, cdp

    def start_guard(self, page: Any) -> None:
        page.click("#guard-start")
        page.wait_for_selector("#guard[data-calibrated='true']", timeout=120_000)
        time.sleep(3)


def faster_rules(route: Any, fps: float) -> None:
    """/guard/rules.json as served, with only the sampling rate raised (the soak)."""
    response = route.fetch()
    model = response.json()
    model["rules"]["sampling"]["fps"] = fps
    route.fulfill(response=response, body=json.dumps(model))


# ---- measuring -----------------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    wall_s: float = 0.0
    frames: int = 0
    cpu: dict[str, float] = field(default_factory=dict)  # process kind → CPU-seconds
    machine_busy: float = 0.0  # the whole machine's busy fraction (of 2 cores) meanwhile
    samples: list[dict[str, float]] = field(default_factory=list)  # t, frames, heap, nodes, renderer MB
    after_gc: list[dict[str, float]] = field(default_factory=list)  # the soak: samples after a full GC

    @property
    def cpu_pct(self) -> float:
        return 100.0 * sum(self.cpu.values()) / self.wall_s

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s


def sample(page: Any, cdp: Any, renderer: int, t: float) -> dict[str, float]:
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    mem = mem_mb(renderer)
    return {
        "t": t,
        "frames": float(page.evaluate("window.facecoachGuard.frames()")),
        "heap": metrics["JSHeapUsedSize"] / 1e6,
        "nodes": metrics["Nodes"],
        "anon_shmem": mem["Pss_Anon"] + mem["Pss_Shmem"],
        "shmem": mem["Pss_Shmem"],
        "wasm": float(page.evaluate("window.facecoachGuard.wasmBytes()") or 0) / 2**20,
    }


def measure(name: str, seconds: float, page: Any, cdp: Any, every_s: float = 15.0) -> Phase:
    procs = chromium_pids()
    renderer = page_renderer(procs)
    c0 = {p: cpu_s(p) for p in procs}
    b0, m0 = machine_busy()
    t0 = time.monotonic()
    phase = Phase(name)
    while (now := time.monotonic()) - t0 < seconds:
        phase.samples.append(sample(page, cdp, renderer, now - t0))
        time.sleep(min(every_s, max(0.0, seconds - (time.monotonic() - t0))))
    phase.samples.append(sample(page, cdp, renderer, time.monotonic() - t0))
    phase.wall_s = time.monotonic() - t0
    b1, m1 = machine_busy()
    phase.machine_busy = (b1 - b0) / max(1, m1 - m0)
    for pid, kind in procs.items():  # processes that started meanwhile are not counted (none should)
        key = "renderer" if pid == renderer else kind
        phase.cpu[key] = phase.cpu.get(key, 0.0) + cpu_s(pid) - c0[pid]
    phase.frames = int(phase.samples[-1]["frames"] - phase.samples[0]["frames"])
    return phase


def after_full_gc(page: Any, cdp: Any) -> dict[str, float]:
    """A sample after a full garbage collection (V8 and Blink's heap, CDP ``HeapProfiler.collectGarbage``):
    what the page still holds, as against garbage its own collector has not collected yet."""
    cdp.send("HeapProfiler.enable")
    cdp.send("HeapProfiler.collectGarbage")
    time.sleep(2)
    return sample(page, cdp, page_renderer(chromium_pids()), 0.0)


def soak_phase(name: str, seconds: float, page: Any, cdp: Any) -> Phase:
    """The soak: one full GC before and one after (the retained memory at both ends); none in between, so
    the page's memory between them is what the browser's own collector leaves."""
    start = after_full_gc(page, cdp)
    phase = measure(name, seconds, page, cdp, every_s=20)
    phase.after_gc = [start, after_full_gc(page, cdp)]
    return phase


def compare(bench: Bench, script: str, seconds: float) -> tuple[Phase, Phase]:
    """Two browsers at once, both watching at 1 frame/s: (the page with ``script``, the page as served)."""
    old_browser, old_page, _old_cdp = bench.open(script=script)
    new_browser, new_page, _new_cdp = bench.open()
    try:
        bench.start_guard(old_page)
        bench.start_guard(new_page)
        time.sleep(10)
        old_procs, new_procs = browser_trees()
        phases = (Phase("compared: the other script"), Phase("compared: the page as served"))
        pages = ((old_page, old_procs, phases[0]), (new_page, new_procs, phases[1]))
        c0 = {p: cpu_s(p) for _pg, procs, _ph in pages for p in procs}
        f0 = [pg.evaluate("window.facecoachGuard.frames()") for pg, _procs, _ph in pages]
        b0, m0 = machine_busy()
        t0 = time.monotonic()
        time.sleep(seconds)
        wall = time.monotonic() - t0
        b1, m1 = machine_busy()
        for (pg, procs, ph), frames0 in zip(pages, f0, strict=True):
            renderer = page_renderer(procs)
            ph.wall_s, ph.machine_busy = wall, (b1 - b0) / max(1, m1 - m0)
            ph.frames = int(pg.evaluate("window.facecoachGuard.frames()") - frames0)
            for pid, kind in procs.items():
                key = "renderer" if pid == renderer else kind
                ph.cpu[key] = ph.cpu.get(key, 0.0) + cpu_s(pid) - c0[pid]
        return phases
    finally:
        old_browser.close()
        new_browser.close()


def slope(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares slope and its standard error."""
    if len(xs) < 4:
        return float("nan"), float("nan")
    coef, cov = np.polyfit(np.array(xs), np.array(ys), 1, cov=True)
    return float(coef[0]), float(np.sqrt(cov[0, 0]))


# ---- the controls: Chromium and the frames, without the guard ------------------------------------------

CONTROL_LOOP = """async ([how, n]) => {
  const v = document.getElementById('guard-cam');
  v.srcObject = await navigator.mediaDevices.getUserMedia(
    {video: {width: {ideal: 640}, height: {ideal: 480}, frameRate: {ideal: 10}}});
  await v.play();
  await new Promise((r) => setTimeout(r, 1000));
  const g = Object.assign(document.createElement('canvas'), {width: 32, height: 24})
    .getContext('2d', {willReadFrequently: true});
  const track = v.srcObject.getVideoTracks()[0];
  const reader = how === 'track'
    ? new MediaStreamTrackProcessor({track, maxBufferSize: 1}).readable.getReader() : null;
  let buf = null;
  for (let i = 0; i < n; i++) {
    if (how === 'track') {
      const {value: f} = await reader.read();
      buf = buf || new Uint8ClampedArray(f.allocationSize({format: 'RGBA'}));
      await f.copyTo(buf, {format: 'RGBA'});
      f.close();
    } else {
      await new Promise((r) => setTimeout(r, 100));
      if (how === 'draw') { g.drawImage(v, 0, 0, 32, 24); g.getImageData(0, 0, 32, 24); }
    }
  }
  if (reader) reader.cancel();
  v.srcObject.getTracks().forEach((t) => t.stop());
}"""


def controls(bench: Bench, frames: int) -> list[tuple[str, float, float, float]]:
    """(how, renderer shared memory kB per frame, MB after the loop, MB after critical memory pressure)."""
    out = []
    for how in ("none", "draw", "track"):
        browser, page, cdp = bench.open()
        try:
            renderer = page_renderer(chromium_pids())
            before = mem_mb(renderer)["Pss_Shmem"]
            page.evaluate(CONTROL_LOOP, [how, frames])
            after = mem_mb(renderer)["Pss_Shmem"]
            cdp.send("Memory.simulatePressureNotification", {"level": "critical"})
            time.sleep(3)
            out.append((how, 1000 * (after - before) / frames, after, mem_mb(renderer)["Pss_Shmem"]))
        finally:
            browser.close()
    return out


# ---- the report ----------------------------------------------------------------------------------------


def cpu_line(p: Phase) -> str:
    parts = ", ".join(
        f"{k} {100 * v / p.wall_s:.1f}" for k, v in sorted(p.cpu.items(), key=lambda kv: -kv[1])
    )
    return (
        f"{p.name:28s}: {p.cpu_pct:5.1f} % of one core at {p.fps:.2f} frames/s ({p.wall_s / 60:.1f} min;"
        f" machine {100 * p.machine_busy:.0f} % busy)\n    by process: {parts}"
    )


def memory_lines(p: Phase, per_frame: bool) -> list[str]:
    s = p.samples[1:]  # the first sample is taken before anything of the phase has run
    x = [r["frames"] for r in s] if per_frame else [r["t"] / 3600 for r in s]
    unit = "kB/frame" if per_frame else "MB/h"
    k = 1000.0 if per_frame else 1.0
    lines = []
    for key, label in (
        ("heap", "JS heap"),
        ("anon_shmem", "renderer anon+shmem PSS"),
        ("shmem", "  of it shmem"),
        ("wasm", "landmarker's WASM memory"),
    ):
        ys = [r[key] for r in s]
        b, se = slope(x, ys)
        four_h = b * (FOUR_HOURS_FRAMES if per_frame else 4)
        se_4h = se * (FOUR_HOURS_FRAMES if per_frame else 4)
        lines.append(
            f"    {label:24s}: {ys[0]:7.1f} → {ys[-1]:7.1f} MB; slope {k * b:+8.3f} ± {k * se:.3f} {unit}"
            f" → 4 h at 1 frame/s: {four_h:+7.1f} ± {se_4h:.1f} MB"
        )
    nodes = [r["nodes"] for r in s]
    lines.append(f"    DOM nodes               : {nodes[0]:.0f} → {nodes[-1]:.0f} (max {max(nodes):.0f})")
    return lines


def envelope_lines(p: Phase) -> list[str]:
    """The soak by hour-equivalents (3 600 frames, after the first ``WARMUP_FRAMES``): each one's peak, so a
    sawtooth (memory freed at each major GC) is judged by its envelope; the last hour's peak against the
    first's; the slope after warm-up; and the retained memory (after a full GC) at both ends."""
    s = [r for r in p.samples[1:] if r["frames"] >= WARMUP_FRAMES]
    lines: list[str] = []
    if not s:
        return lines
    end = s[-1]["frames"]
    starts = list(range(WARMUP_FRAMES, int(end) - HOUR_FRAMES + 1, HOUR_FRAMES))
    for k, a in enumerate(starts):
        w = [r for r in s if a <= r["frames"] < a + HOUR_FRAMES]
        lines.append(
            f"    hour-equivalent {k + 1} (frames {a}–{a + HOUR_FRAMES}): renderer anon+shmem"
            f" {min(r['anon_shmem'] for r in w):.1f}–{max(r['anon_shmem'] for r in w):.1f} MB,"
            f" JS heap {min(r['heap'] for r in w):.1f}–{max(r['heap'] for r in w):.1f} MB,"
            f" WASM {max(r['wasm'] for r in w):.1f} MB"
        )
    if starts:
        first = [r for r in s if r["frames"] < WARMUP_FRAMES + HOUR_FRAMES]
        last = [r for r in s if r["frames"] >= end - HOUR_FRAMES]
        for key, label in (("anon_shmem", "renderer anon+shmem"), ("heap", "JS heap"), ("wasm", "WASM")):
            f0, f1 = max(r[key] for r in first), max(r[key] for r in last)
            lines.append(
                f"    envelope, {label}: peak of the last hour-equivalent {f1:.1f} MB vs the first after"
                f" warm-up {f0:.1f} MB ({f1 - f0:+.1f} MB)"
            )
    x = [r["frames"] for r in s]
    for key, label in (("anon_shmem", "renderer anon+shmem"), ("heap", "JS heap")):
        b, se = slope(x, [r[key] for r in s])
        lines.append(
            f"    after warm-up ({len(s)} samples), {label}: {1000 * b:+.3f} ± {1000 * se:.3f} kB/frame"
            f" → {b * FOUR_HOURS_FRAMES:+.1f} ± {se * FOUR_HOURS_FRAMES:.1f} MB per 14 400 frames"
        )
    if len(p.after_gc) == 2:
        g0, g1 = p.after_gc
        lines.append(
            f"    after a full GC, start → end: renderer anon+shmem {g0['anon_shmem']:.1f} →"
            f" {g1['anon_shmem']:.1f} MB, JS heap {g0['heap']:.1f} → {g1['heap']:.1f} MB,"
            f" WASM {g0['wasm']:.1f} → {g1['wasm']:.1f} MB (frames {g0['frames']:.0f} → {g1['frames']:.0f})"
        )
    return lines


def report(
    phases: dict[str, Phase], soak: Phase | None, ctl: list[Any], source: str, loads: list[str]
) -> None:
    print(f"habit guard in headless Chromium (Debian), camera: {source}")
    print(f"machine: {os.cpu_count()} cores, shared; load average (1, 5, 15 min) {' → '.join(loads)}")
    print("CPU = CPU-seconds of every Chromium process per wall-second (less sensitive to a busy machine)")
    for p in phases.values():
        print(cpu_line(p))
    if "camera only" in phases:
        cam, watch = phases["camera only"], phases["guard watching, 1 frame/s"]
        print(
            f"the guard's own share at 1 frame/s ≈ {watch.cpu_pct - cam.cpu_pct:.1f} % of one core"
            " (minus camera only)"
        )
        print("memory while watching at 1 frame/s (per hour, extrapolated from the phase):")
        print("\n".join(memory_lines(watch, per_frame=False)))
    if soak:
        cpu_frame = sum(soak.cpu.values()) / max(1, soak.frames)
        print(cpu_line(soak))
        print(
            f"soak: {soak.frames} frames = {soak.frames / 3600:.2f} h at 1 frame/s; {1000 * cpu_frame:.0f} ms"
            " CPU per frame (all processes, at this rate); memory against frames processed:"
        )
        print("\n".join(memory_lines(soak, per_frame=True)))
        print("\n".join(envelope_lines(soak)))
    for how, kb, after, purged in ctl:
        print(
            f"control, no guard, frames {how:5s}: renderer shmem {kb:+7.1f} kB/frame, {after:6.1f} MB after;"
            f" after critical memory pressure {purged:6.1f} MB"
        )
    print("goal: ≤ 5 % of one core at 1 frame/s; memory flat over 4 h")


def run_phases(bench: Bench, args: argparse.Namespace, phases: dict[str, Phase]) -> None:
    """One browser: the camera alone, the guard at 1 frame/s, the tab hidden, a low battery."""
    browser, page, cdp = bench.open()
    page.evaluate(CAMERA_ONLY)
    time.sleep(3)
    phases["camera only"] = measure("camera only", args.camera_minutes * 60, page, cdp)
    page.evaluate(CAMERA_STOP)
    bench.start_guard(page)
    name = "guard watching, 1 frame/s"
    phases[name] = measure(name, args.minutes * 60, page, cdp)
    page.evaluate(HIDE, True)
    name = f"tab hidden ({page.evaluate('window.facecoachGuard.fps()')}/s)"
    phases[name] = measure(name, args.hidden_minutes * 60, page, cdp)
    page.evaluate(HIDE, False)
    page.evaluate("window.__setBattery(0.1, false)")
    name = f"battery 10 % ({page.evaluate('window.facecoachGuard.fps()')}/s)"
    phases[name] = measure(name, args.battery_minutes * 60, page, cdp)
    browser.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=5.0, help="the guard watching at 1 frame/s")
    ap.add_argument("--camera-minutes", type=float, default=1.0)
    ap.add_argument("--hidden-minutes", type=float, default=2.0)
    ap.add_argument("--battery-minutes", type=float, default=2.0)
    ap.add_argument("--soak-minutes", type=float, default=20.0, help="0: no soak")
    ap.add_argument("--soak-fps", type=float, default=8.0)
    ap.add_argument(
        "--soak-camera-fps", type=int, default=CAMERA_FPS, help="the fake camera's rate in the soak"
    )
    ap.add_argument("--source", choices=("fake-camera", "canvas"), default="fake-camera")
    ap.add_argument("--controls", type=int, default=0, help="frames for each control (0: none)")
    ap.add_argument("--compare", type=Path, help="another app.js, run side by side with the page")
    ap.add_argument("--compare-minutes", type=float, default=5.0)
    ap.add_argument("--only-compare", action="store_true", help="no other phase")
    ap.add_argument("--only-soak", action="store_true", help="the soak (and controls) alone")
    args = ap.parse_args()
    loads = [" ".join(Path("/proc/loadavg").read_text().split()[:3])]
    from playwright.sync_api import sync_playwright

    base, cookie = serve()
    if args.source == "canvas":
        bench = Bench(base, cookie, list(FAKE_CAMERA), [BATTERY_SHIM, stills_script()])
        source = "a canvas.captureStream() of the clip's stills, 640×360 at 10 frames/s"
    else:
        clip = clip_y4m(Path(tempfile.mkdtemp(prefix="bench-guard-clip-")))
        bench = Bench(
            base, cookie, [*FAKE_CAMERA, f"--use-file-for-fake-video-capture={clip}"], [BATTERY_SHIM]
        )
        source = "the fake capture device playing the real clip, 640×360 at 10 frames/s"
    phases: dict[str, Phase] = {}
    soak = None
    with sync_playwright() as pw:
        bench.pw = pw
        if args.compare:
            for p in compare(bench, args.compare.read_text(), args.compare_minutes * 60):
                phases[p.name] = p
            loads.append(" ".join(Path("/proc/loadavg").read_text().split()[:3]))
        if args.only_compare:
            report(phases, None, [], source, loads)
            return
        if not args.only_soak:
            run_phases(bench, args, phases)
        if args.soak_minutes > 0:
            if args.source == "fake-camera":
                fast = clip_y4m(Path(tempfile.mkdtemp(prefix="bench-guard-clip-")), args.soak_camera_fps)
                bench.camera_args = [*FAKE_CAMERA, f"--use-file-for-fake-video-capture={fast}"]
                bench.init_scripts = [BATTERY_SHIM, camera_rate(args.soak_camera_fps)]
            browser, page, cdp = bench.open(soak_fps=args.soak_fps)
            bench.start_guard(page)
            soak = soak_phase(f"soak at {args.soak_fps:g} frames/s", args.soak_minutes * 60, page, cdp)
            browser.close()
        ctl = controls(bench, args.controls) if args.controls else []
    loads.append(" ".join(Path("/proc/loadavg").read_text().split()[:3]))
    report(phases, soak, ctl, source, loads)


if __name__ == "__main__":
    main()
