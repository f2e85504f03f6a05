"""Fixtures for the check-in tests: the shipped rules, real-face frames (tests/progress/clips.py)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from facecoach.progress.framing import FramingRules, load_rules
from facecoach.vision.landmarks import FaceLandmarker
from tests.live.conftest import live_app, server  # noqa: F401  (the app on a fresh database, on uvicorn)
from tests.progress import clips


@pytest.fixture(scope="session")
def rules() -> FramingRules:
    return load_rules()


@pytest.fixture(scope="session")
def framing_landmarker() -> Iterator[FaceLandmarker]:
    """Image mode, up to 2 faces (as the page asks: a second person must be seen)."""
    with FaceLandmarker(mode="image", max_faces=2) as lm:
        yield lm


@pytest.fixture(scope="session")
def still() -> np.ndarray:
    """Her near-neutral frontal face moved to the middle (one frame of clips.still_frames)."""
    return clips.still_frames(1 / clips.FPS)[0]


@pytest.fixture(scope="session")
def happy(shared_data: object) -> np.ndarray:
    """happy_f15 (a broad smile, frontal), shrunk to 450 px high, on a 640×480 canvas."""
    from PIL import Image

    from tests.live.clips import canvas

    with Image.open(clips.VIDEO.parent / "happy_f15.jpg") as im:
        rgb = np.asarray(im.convert("RGB").resize((450, 450), Image.Resampling.LANCZOS))
    return canvas(np.ascontiguousarray(rgb))
