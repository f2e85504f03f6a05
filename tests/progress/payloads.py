"""Check-in bodies as the page sends them, built from real-face clips landmarked in Python (the same
model as the page): the plain and flipped passes of every captured frame, the light, and optionally the
middle frame as a JPEG."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
from PIL import Image

from facecoach.progress.checkin import guide_frames
from facecoach.progress.framing import FramingRules, light_stats, load_rules
from tests.progress import clips


def jpeg_data_url(rgb: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=90)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def checkin_body(
    frames: list[np.ndarray], keep_picture: bool = False, rules: FramingRules | None = None
) -> dict[str, Any]:
    rules = rules or load_rules()
    out = guide_frames(clips.timed(frames), rules, keep_pixels=True)
    assert out.frames, out.guide.problems
    body_frames, lights = [], []
    for f in out.frames:
        w, h = f.face.image_size
        body_frames.append(
            {
                "t": f.t,
                "width": w,
                "height": h,
                "points": np.round(f.face.points_px, 3).tolist(),
                "mirrored": None if f.flipped is None else np.round(f.flipped.points_px, 3).tolist(),
                "blendshapes": {k: v for k, v in f.face.blendshapes.items() if k != "_neutral"},
            }
        )
        pts = f.face.points_px
        lights.append(
            light_stats(f.rgb, (pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()))
        )
    middle = len(out.frames) // 2
    return {
        "frames": body_frames,
        "light": {
            "luma": float(np.mean([x[0] for x in lights])),
            "clipped": float(max(x[1] for x in lights)),
            "evenness": float(min(x[2] for x in lights)),
        },
        "keep_picture": keep_picture,
        "picture": jpeg_data_url(out.frames[middle].rgb) if keep_picture else None,
        "picture_frame": middle,
    }
