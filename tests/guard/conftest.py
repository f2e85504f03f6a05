"""Fixtures for the habit guard: real footage and warped real faces, landmarked once per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from facecoach.config import InputLimits
from facecoach.guard.detector import GuardFrame
from tests.guard.clips import HABIT_WARPS, HeldClip, landmark_clip, render_hold, woman_at_rest
from tests.live.clips import canvas

#: an epoch time for the sequences (a Tuesday, 09:00 UTC): the detector needs only differences and hours
T0 = 1_800_000_000.0 - (1_800_000_000 % 86400) + 9 * 3600
CLIP = "woman_expressions_24fps.mp4"


@pytest.fixture(scope="session")
def base_faces(
    shared_data: Path, astronaut: np.ndarray, image_landmarker: Any
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name → (640×480 picture, its landmarks)."""
    out = {}
    for name, face in (("astronaut", canvas(astronaut)), ("woman", woman_at_rest(str(shared_data / CLIP)))):
        found = image_landmarker.detect(face).faces
        assert len(found) == 1, name
        out[name] = (face, found[0].points_px)
    return out


@pytest.fixture(scope="session")
def held_clips(base_faces: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str | None, HeldClip]:
    """Each habit held 14 s after 8 s at rest (and a neutral clip, key None), at 1 frame/s."""
    clips: dict[str | None, HeldClip] = {}
    for habit, (face_name, _move, _amp) in HABIT_WARPS.items():
        clips[habit] = render_hold(*base_faces[face_name], habit, fps=1.0)
    clips[None] = render_hold(*base_faces["astronaut"], None, fps=1.0)
    return clips


@pytest.fixture(scope="session")
def held_frames(held_clips: dict[str | None, HeldClip]) -> dict[str | None, list[GuardFrame]]:
    return {habit: landmark_clip(clip, T0) for habit, clip in held_clips.items()}


@pytest.fixture(scope="session")
def footage(shared_data: Path) -> list[tuple[float, GuardFrame]]:
    """The real clip, every 3rd frame (8 frames/s), through the guard's frame path."""
    from facecoach.guard.frames import guard_frames
    from facecoach.vision.landmarks import FaceLandmarker
    from facecoach.vision.sources import VideoSource

    with (
        VideoSource(shared_data / CLIP, InputLimits()) as src,
        FaceLandmarker(mode="video", max_faces=2) as lm,
    ):
        return list(guard_frames(src.frames(step=3), lm, T0))


STATIC_GUARD = Path(__file__).resolve().parents[2] / "facecoach" / "web" / "static" / "guard"


@pytest.fixture(scope="module")
def guard_static_page(playwright_instance: Any) -> Iterator[Any]:
    """A page on a fake origin serving ``facecoach/web/static/guard/``."""
    from tests.support.browser import static_module_page

    with static_module_page(playwright_instance, "guard") as page:
        yield page
