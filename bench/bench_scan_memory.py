"""Memory of photo scans through the real web app: peak resident memory above idle per scan in flight,
for normal and hostile uploads, and what ten uploads at once by one member cost.

Run: ``.venv/bin/python bench/bench_scan_memory.py [--case NAME …] [--concurrent 10]``

Every case runs in a fresh child process: an app on a temporary SQLite database, a member who has
answered the questionnaire, one warm-up scan of a real photo (the landmarker loaded), then the peak
resident set is reset (``/proc/self/clear_refs``), idle is read, the upload(s) are POSTed to
``/assessment/scan`` at once from threads, and the peak (``VmHWM``) is read again. Printed per case:
the answers, peak MB above idle, and that divided by the scans that were accepted (in flight). The
goal (issue 11): at most 150 MB above idle per scan in flight, whatever the upload.

Uploads: ``normal`` a real 81 kB photo; ``phone`` the same face as a 4032×3024 JPEG (12 Mpx);
``png6300`` the hostile 6300×6300 PNG (~130 kB, refused); and the largest pictures still accepted —
``png_rgba``, ``png16`` (16-bit grey), ``png_palette``, ``webp`` just under the PNG/WebP limit, and
``jpeg_prog444`` (progressive, no chroma subsampling: libjpeg buffers all its coefficients) just under
the pixel limit.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "data"
CASES = ("normal", "phone", "png6300", "png_rgba", "png16", "png_palette", "jpeg_prog444", "webp")
#: Sides of the "just under the limit" pictures: JPEG 4120² = 16.97 Mpx < 17 Mpx; PNG and WebP (decoded
#: whole) 2896² = 8.39 Mpx < 8.4 Mpx.
EDGE = 4120
EDGE_WHOLE = 2896


def _face(width: int, height: int) -> np.ndarray:
    """The real face of ``smile_man.jpg`` scaled to fill ``width``×``height`` (a scannable picture)."""
    face = Image.open(SHARED / "smile_man.jpg").convert("RGB")
    k = min(width / face.width, height / face.height)
    face = face.resize((round(face.width * k), round(face.height * k)), Image.Resampling.BICUBIC)
    canvas = Image.new("RGB", (width, height), (90, 90, 90))
    canvas.paste(face, ((width - face.width) // 2, (height - face.height) // 2))
    return np.asarray(canvas)


def make_upload(case: str) -> bytes:
    out = io.BytesIO()
    if case == "normal":
        return (SHARED / "smile_man.jpg").read_bytes()
    if case == "phone":
        Image.fromarray(_face(4032, 3024)).save(out, "JPEG", quality=90)
    elif case == "png6300":  # the finding: 131 kB, 6300×6300
        flat = np.zeros((6300, 6300, 3), np.uint8)
        flat[::64] = 255
        Image.fromarray(flat).save(out, "PNG", optimize=True)
    elif case == "png_rgba":
        Image.fromarray(_face(EDGE_WHOLE, EDGE_WHOLE)).convert("RGBA").save(out, "PNG", compress_level=1)
    elif case == "png16":
        grey = (_face(EDGE_WHOLE, EDGE_WHOLE)[:, :, 1].astype(np.uint16) * 257).astype(np.uint16)
        Image.fromarray(grey).save(out, "PNG", compress_level=1)
    elif case == "png_palette":
        Image.fromarray(_face(EDGE_WHOLE, EDGE_WHOLE)).quantize(64).save(out, "PNG", compress_level=1)
    elif case == "jpeg_prog444":
        Image.fromarray(_face(EDGE, EDGE)).save(out, "JPEG", quality=90, progressive=True, subsampling=0)
    elif case == "webp":
        Image.fromarray(_face(EDGE_WHOLE, EDGE_WHOLE)).save(out, "WEBP", quality=80)
    else:
        raise SystemExit(f"unknown case {case}")
    return out.getvalue()


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(upload_path: Path, concurrent: int, one_member: bool) -> dict[str, Any]:
    """Runs inside the fresh process: see the module docstring."""
    from facecoach.members import migrate
    from facecoach.members.db import Database
    from tests.web.fixtures import _make_site
    from tests.web.test_assessment import answer, upload

    data = upload_path.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database.connect(f"sqlite:///{tmp}/bench.db")
        migrate.upgrade(db)
        site = next(_make_site(db, Path(tmp)))
        roles = ["free"] if one_member else [f"m{i}" for i in range(concurrent)]
        for role in roles:
            answer(site, role)
        warm = upload(site, roles[0], (SHARED / "smile_man.jpg").read_bytes())
        assert warm.status_code == 200, warm.status_code  # type: ignore[attr-defined]
        gc.collect()
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current resident set
        idle = _status_kb("VmRSS")
        statuses: list[int] = []
        barrier = threading.Barrier(concurrent)

        def send(role: str) -> None:
            barrier.wait()
            r = upload(site, role, data, name="upload")
            statuses.append(r.status_code)  # type: ignore[attr-defined]

        threads = [
            threading.Thread(target=send, args=(roles[0] if one_member else roles[i],))
            for i in range(concurrent)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        peak = _status_kb("VmHWM")
        site.close()
    accepted = sum(1 for s in statuses if s in (200, 422))  # 422: scanned, no usable face
    return {
        "statuses": sorted(statuses),
        "peak_above_idle_mb": round((peak - idle) / 1024, 1),
        "accepted": accepted,
        "per_scan_mb": round((peak - idle) / 1024 / max(1, accepted), 1),
    }


def run(case: str, concurrent: int, one_member: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / case
        path.write_bytes(make_upload(case))
        size_kb = path.stat().st_size / 1024
        args = [sys.executable, __file__, "--child", str(path), "--concurrent", str(concurrent)]
        out = subprocess.run(
            [*args, *(["--one-member"] if one_member else [])], capture_output=True, text=True, check=False
        )
        if out.returncode != 0:
            raise SystemExit(f"{case}: child failed\n{out.stderr[-2000:]}")
        result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
        return {"case": case, "upload_kb": round(size_kb), **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", action="append", choices=CASES)
    parser.add_argument("--concurrent", type=int, default=10, help="uploads at once by one member")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--one-member", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.concurrent, args.one_member)))
        return
    print("one scan in flight (peak resident memory above idle):")
    for case in args.case or CASES:
        r = run(case, 1, one_member=False)
        print(
            f"  {r['case']:13} {r['upload_kb']:>7} kB upload → {r['statuses']}: "
            f"{r['per_scan_mb']:6.1f} MB per scan in flight"
        )
    for case in ("png6300", "phone"):
        r = run(case, args.concurrent, one_member=True)
        print(
            f"{args.concurrent} × {case} at once by one member → answers {r['statuses']}: "
            f"{r['peak_above_idle_mb']:.1f} MB above idle, {r['accepted']} in flight"
        )
    r = run("phone", args.concurrent, one_member=False)
    print(
        f"{args.concurrent} × phone at once by {args.concurrent} members → answers {r['statuses']}: "
        f"{r['peak_above_idle_mb']:.1f} MB above idle, {r['per_scan_mb']:.1f} MB per scan in flight"
    )


if __name__ == "__main__":
    main()
