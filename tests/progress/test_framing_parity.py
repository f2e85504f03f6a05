"""One definition of the framing rules, two implementations: framing.py (Python) and framing.js (the page)
must give the same figures and the same verdict on the same frames. Headless Chromium runs framing.js on
the landmarks, blendshapes and pixels Python used, with the document the server serves."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from facecoach.progress.checkin import Guide
from facecoach.progress.framing import FramingRules, check_framing, frame_facts
from facecoach.web.routes.checkin import framing_document
from tests.progress import clips
from tests.support.browser import static_module_page

pytestmark = [pytest.mark.browser]
STATIC = Path(__file__).resolve().parents[2] / "facecoach" / "web" / "static" / "checkin"


@pytest.fixture(scope="module")
def page(playwright_instance: Any) -> Iterator[Any]:
    with static_module_page(playwright_instance, "checkin") as pg:
        yield pg


def _frames(still: np.ndarray, happy: np.ndarray) -> dict[str, np.ndarray]:
    x = np.arange(still.shape[1], dtype=np.float32)
    side = (0.55 + 0.6 / (1 + np.exp(-(x - 320) / 10)))[None, :, None]
    return {
        "still": still,
        "turned": clips.turned_frames()[0],
        "turned_mirrored": np.ascontiguousarray(clips.turned_frames()[0][:, ::-1]),
        "off_centre": clips.video_frames()[clips.STILL_FRAME],
        "smile": happy,
        "dark": (still.astype(np.float32) * 0.3).astype(np.uint8),
        "side_lit": np.clip(still.astype(np.float32) * side, 0, 255).astype(np.uint8),
        "rolled": np.ascontiguousarray(
            cv2.warpAffine(
                still,
                cv2.getRotationMatrix2D((320, 180), 9, 1.0),
                (640, 360),
                borderMode=cv2.BORDER_REPLICATE,
            )
        ),
    }


JS = """async ([frame, doc, ref]) => {
  const m = await import('/checkin-static/framing.js');
  const raw = atob(frame.pixels);
  const pixels = new Uint8ClampedArray(raw.length);
  for (let i = 0; i < raw.length; i++) pixels[i] = raw.charCodeAt(i);
  const facts = m.frameFacts({...frame, pixels}, doc);
  return {facts, problem: m.checkFraming(facts, doc.rules, ref)};
}"""


def test_python_and_the_page_agree_on_the_same_frames(
    page: Any, still: np.ndarray, happy: np.ndarray, framing_landmarker: Any, rules: FramingRules
) -> None:
    doc = framing_document(rules)
    codes = {}
    for name, rgb in _frames(still, happy).items():
        rgb = np.ascontiguousarray(rgb)
        faces = framing_landmarker.detect(rgb).faces
        facts = frame_facts(rgb, faces, rules)
        verdict = check_framing(facts, rules)
        rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
        frame = {
            "faces": len(faces),
            "width": rgb.shape[1],
            "height": rgb.shape[0],
            "points": faces[0].points_px.tolist() if faces else None,
            "blendshapes": faces[0].blendshapes if faces else {},
            "pixels": base64.b64encode(rgba.tobytes()).decode(),
        }
        js = page.evaluate(JS, [frame, doc, None])
        py = facts.as_dict()
        for key in ("iris_px", "luma", "clipped", "evenness"):
            assert js["facts"][key] == pytest.approx(py[key], abs=1e-6), (name, key)
        assert js["facts"]["pose"] == pytest.approx(py["pose"], abs=1e-6), name
        assert js["facts"]["nose"] == pytest.approx(py["nose"], abs=1e-9) and js["facts"][
            "box"
        ] == pytest.approx(py["box"])
        assert js["facts"]["expressions"] == pytest.approx(py["expressions"]), name
        expected = (
            None
            if verdict.problem is None
            else {"code": verdict.problem.code, "message": verdict.problem.message}
        )
        assert js["problem"] == expected, name
        codes[name] = expected and expected["code"]
    # The frames cover passing and every kind of refusal the rules make here.
    assert codes == {
        "still": None,
        "turned": "turned_right",
        "turned_mirrored": "turned_left",
        "off_centre": "off_centre",
        "smile": "not_neutral",
        "dark": "too_dark",
        "side_lit": "uneven_light",
        "rolled": "tilted_right",  # turned 9° anticlockwise in the picture: toward her right shoulder
    }


def test_the_guides_capture_the_same_frames(page: Any, rules: FramingRules) -> None:
    """The hold-then-capture state machine, stepped on the same facts: the same frames captured."""
    from facecoach.progress.framing import FrameFacts
    from tests.progress.clips import GOOD_FACTS as good

    bad = FrameFacts(faces=0, width=640, height=360)
    script = [(i / 24, bad if 20 <= i < 26 or i == 50 else good) for i in range(140)]
    guide = Guide(rules)
    py = [t for t, f in script if guide.step(t, f).captured]
    js = page.evaluate(
        """async ([rules, steps]) => {
          const m = await import('/checkin-static/framing.js');
          const g = new m.Guide(rules, null);
          return steps.filter(([t, f]) => g.step(t, f).captured).map(([t]) => t);
        }""",
        [rules.model_dump(mode="json"), [[t, {**f.as_dict()}] for t, f in script]],
    )
    assert js == pytest.approx(py) and len(py) == round(rules.capture_s * rules.capture_fps) + 1
    assert py[0] == pytest.approx(51 / 24 + rules.hold_s, abs=1 / 24)
