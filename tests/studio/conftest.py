"""Fixtures for the studio tests: lesson videos made from a real face (the astronaut photo doing smile
lifts, tests/live/clips.py), one with forehead creases painted in its hold, one without."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from tests.live.clips import canvas, render_clip


def write_mp4v(path: Path, frames: list[np.ndarray], fps: float) -> Path:
    """MPEG-4 Part 2 in MP4 (OpenCV's ``mp4v``): a real video no browser plays, so it needs a web copy."""
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (w, h))
    assert writer.isOpened()
    for rgb in frames:
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


@pytest.fixture(scope="session")
def lesson_face(astronaut: np.ndarray, image_landmarker: Any) -> tuple[np.ndarray, np.ndarray]:
    face = canvas(astronaut)
    found = image_landmarker.detect(face).faces
    assert len(found) == 1
    return face, found[0].points_px


@pytest.fixture(scope="session")
def creased_lesson(tmp_path_factory: pytest.TempPathFactory, lesson_face: Any) -> Path:
    """One smile lift whose hold shows forehead creases (~10 s at 15 fps, mp4v)."""
    clip = render_clip(*lesson_face, reps=1, creased_rep=0, fps=15.0)
    return write_mp4v(tmp_path_factory.mktemp("lessons") / "creased.mp4", clip.frames, clip.fps)


@pytest.fixture(scope="session")
def clean_lesson(tmp_path_factory: pytest.TempPathFactory, lesson_face: Any) -> Path:
    """One smile lift done well: no creases (~10 s at 15 fps, mp4v)."""
    clip = render_clip(*lesson_face, reps=1, creased_rep=None, fps=15.0)
    return write_mp4v(tmp_path_factory.mktemp("lessons") / "clean.mp4", clip.frames, clip.fps)
