"""The page's scripts in Chromium against their Python twins.

* The forehead crease energy (static/live/crease.js) agrees with ``facecoach.coaching.wrinkle`` on real
  faces: both run on the very same pixels and landmarks — the RGB array handed to the page as RGBA
  bytes, and (second path) as a PNG decoded by Chromium into a canvas, as the live page reads a video frame.
* The frame encoder (static/live/protocol.js) writes exactly what the server's decoder reads.
"""

from __future__ import annotations

import base64
import io
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from facecoach.coaching import wrinkle
from facecoach.coaching.wrinkle import forehead_crease_energy, forehead_grid
from facecoach.config import LiveSettings
from facecoach.live.protocol import (
    BLENDSHAPE_NAMES,
    JpegFrame,
    LandmarkFrame,
    NoFaceFrame,
    decode_frame,
)
from facecoach.vision import landmark_ids as ids

pytestmark = pytest.mark.browser

JS_RGBA = """async ([b64, w, h, pts]) => {
  const m = await import('/live-static/crease.js');
  const bin = atob(b64);
  const rgba = new Uint8ClampedArray(bin.length);
  for (let i = 0; i < bin.length; i++) rgba[i] = bin.charCodeAt(i);
  return {energy: m.foreheadCreaseEnergy(rgba, w, h, pts), grid: Array.from(m.foreheadGrid(rgba, w, h, pts))};
}"""

JS_PNG = """async ([b64, pts]) => {
  const m = await import('/live-static/crease.js');
  const img = new Image();
  img.src = 'data:image/png;base64,' + b64;
  await img.decode();
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const ctx = c.getContext('2d', {willReadFrequently: true});
  ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, c.width, c.height).data;
  return m.foreheadCreaseEnergy(data, c.width, c.height, pts);
}"""


def _faces(
    shared_data: Path, astronaut: np.ndarray, landmarker: Any
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    out = []
    pictures = {
        "astronaut": astronaut,
        "surprise_f1": np.asarray(Image.open(shared_data / "surprise_f1.jpg").convert("RGB")),
        "happy_f15": np.asarray(Image.open(shared_data / "happy_f15.jpg").convert("RGB")),
        "smile_man": np.asarray(Image.open(shared_data / "smile_man.jpg").convert("RGB")),
    }
    for name, rgb in pictures.items():
        rgb = np.ascontiguousarray(rgb)
        faces = landmarker.detect(rgb).faces
        assert faces, name
        out.append((name, rgb, faces[0].points_px))
    # A rolled, rescaled face too, so the landmark-defined axes are exercised off the horizontal.
    name, rgb, _ = out[0]
    rolled = np.asarray(Image.fromarray(rgb).rotate(12, resample=Image.BILINEAR).resize((400, 400)))
    faces = landmarker.detect(np.ascontiguousarray(rolled)).faces
    assert faces
    out.append(("astronaut_rolled", np.ascontiguousarray(rolled), faces[0].points_px))
    return out


def _rgba_b64(rgb: np.ndarray) -> str:
    rgba = np.concatenate([rgb, np.full((*rgb.shape[:2], 1), 255, np.uint8)], axis=2)
    return base64.b64encode(np.ascontiguousarray(rgba).tobytes()).decode()


def test_js_crease_energy_matches_python(
    static_page: Any, shared_data: Path, astronaut: np.ndarray, image_landmarker: Any
) -> None:
    energies = []
    for name, rgb, pts in _faces(shared_data, astronaut, image_landmarker):
        h, w = rgb.shape[:2]
        flat = [float(v) for v in pts.reshape(-1)]
        got = static_page.evaluate(JS_RGBA, [_rgba_b64(rgb), w, h, flat])
        want = forehead_crease_energy(rgb, pts)
        grid = forehead_grid(rgb, pts).reshape(-1)
        assert np.max(np.abs(np.array(got["grid"]) - grid)) < 1e-9, name
        assert got["energy"] == pytest.approx(want, rel=1e-9, abs=1e-12), name
        energies.append(want)
    # The faces differ, so the agreement is not a constant coincidence.
    assert np.ptp(energies) > 0.1


def test_js_crease_energy_through_a_decoded_png(
    static_page: Any, astronaut: np.ndarray, image_landmarker: Any
) -> None:
    """The same number from a canvas that decoded the picture, as the page does with video frames."""
    pts = image_landmarker.detect(astronaut).faces[0].points_px
    # Creases painted across the forehead raise the energy: both sides must see the same rise.
    creased = astronaut.copy()
    top = round(pts[10, 1]) + 1
    bottom = round(min(pts[[70, 105, 107, 336, 334, 300], 1])) - 2
    left, right = round(pts[70, 0]), round(pts[300, 0])
    for y in range(top, bottom, 3):
        creased[y, left:right] = (creased[y, left:right] * 0.6).astype(np.uint8)
    results = []
    for rgb in (astronaut, creased):
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="PNG")
        b64 = base64.b64encode(buf.getvalue()).decode()
        got = static_page.evaluate(JS_PNG, [b64, [float(v) for v in pts.reshape(-1)]])
        want = forehead_crease_energy(rgb, pts)
        assert got == pytest.approx(want, rel=1e-6)
        results.append(want)
    assert results[1] > 1.5 * results[0]


JS_PROTOCOL = """async ([pts, cats, crease, jpegB64]) => {
  const m = await import('/live-static/protocol.js');
  const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)));
  const jpeg = Uint8Array.from(atob(jpegB64), (c) => c.charCodeAt(0)).buffer;
  return {
    names: m.BLENDSHAPE_NAMES,
    landmarks: b64(m.encodeLandmarks(41, 1234.5, 640, 480, pts, cats, crease)),
    noCrease: b64(m.encodeLandmarks(42, 1300.25, 640, 480, pts, cats, null)),
    noFace: b64(m.encodeNoFace(43, 1400, 640, 480)),
    jpeg: b64(m.encodeJpeg(44, 1500, 640, 480, jpeg)),
  };
}"""


def test_js_encoder_matches_the_python_decoder(static_page: Any) -> None:
    rng = np.random.default_rng(11)
    pts = rng.uniform(0, 480, (478, 3))
    scores = {n: float(rng.uniform(0, 1)) for n in BLENDSHAPE_NAMES}
    cats = [{"categoryName": n, "score": s} for n, s in scores.items()]
    random.Random(3).shuffle(cats)  # matched by name, not by position
    jpeg = b"\xff\xd8" + bytes(range(256)) * 4
    got = static_page.evaluate(
        JS_PROTOCOL, [[float(v) for v in pts.reshape(-1)], cats, 2.5, base64.b64encode(jpeg).decode()]
    )
    assert tuple(got["names"]) == BLENDSHAPE_NAMES
    limits = LiveSettings()
    frame = decode_frame(base64.b64decode(got["landmarks"]), limits)
    assert isinstance(frame, LandmarkFrame)
    assert (frame.header.seq, frame.header.timestamp_ms, frame.header.width, frame.header.height) == (
        41,
        1234.5,
        640,
        480,
    )
    np.testing.assert_allclose(frame.face.points_px, pts, rtol=1e-6)
    assert frame.face.blendshapes == pytest.approx(scores, abs=1e-6)
    assert frame.face.crease_energy == pytest.approx(2.5)
    plain = decode_frame(base64.b64decode(got["noCrease"]), limits)
    assert isinstance(plain, LandmarkFrame) and plain.face.crease_energy is None
    no_face = decode_frame(base64.b64decode(got["noFace"]), limits)
    assert isinstance(no_face, NoFaceFrame) and no_face.header.seq == 43
    jpg = decode_frame(base64.b64decode(got["jpeg"]), limits)
    assert isinstance(jpg, JpegFrame) and jpg.jpeg == jpeg and jpg.header.timestamp_ms == 1500


JS_CREASE_CONSTANTS = """async () => {
  const m = await import('/live-static/crease.js');
  return {
    GRID_COLS: m.GRID_COLS, GRID_ROWS: m.GRID_ROWS, EYE_OUTER_RIGHT: m.EYE_OUTER_RIGHT,
    EYE_OUTER_LEFT: m.EYE_OUTER_LEFT, FOREHEAD_TOP: m.FOREHEAD_TOP, BROW_UPPER: Array.from(m.BROW_UPPER),
    HALF_WIDTH: m.HALF_WIDTH, BROW_GAP: m.BROW_GAP, TOP_FRACTION: m.TOP_FRACTION,
  };
}"""


def test_js_crease_constants_equal_the_python_ones(static_page: Any) -> None:
    """JavaScript cannot import the landmark ids: the page's copies must equal the Python definitions
    (the energies above agreeing on a few faces would not notice, say, a wrong but nearby eye corner)."""
    got = static_page.evaluate(JS_CREASE_CONSTANTS)
    assert got == {
        "GRID_COLS": wrinkle.GRID_COLS,
        "GRID_ROWS": wrinkle.GRID_ROWS,
        "EYE_OUTER_RIGHT": ids.RIGHT_EYE_OUTER,
        "EYE_OUTER_LEFT": ids.LEFT_EYE_OUTER,
        "FOREHEAD_TOP": ids.FOREHEAD,
        "BROW_UPPER": list(wrinkle.BROW_UPPER),
        "HALF_WIDTH": wrinkle.HALF_WIDTH,
        "BROW_GAP": wrinkle.BROW_GAP,
        "TOP_FRACTION": wrinkle.TOP_FRACTION,
    }
