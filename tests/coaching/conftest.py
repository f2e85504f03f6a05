"""Session-scoped synthetic exercise videos (warped real faces) and their landmark results.

Rendering and running the landmarker is the slow part; every sequence is analysed once per test session
and the evaluator (fast, pure) is then run over the cached frames as often as the tests like.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from facecoach.coaching.audit import analyse
from facecoach.coaching.specs import CoachingSpec, spec_for
from facecoach.knowledge.library import load_library
from facecoach.knowledge.models import FaultKind
from facecoach.vision.landmarks import FaceLandmarker, FaceObservation
from tests.coaching.synth import FaceWarper, Script, Segment, render, rep_script

FPS = 30.0
HOLD_S = 2.0
ALL_FAULTS: list[FaultKind] = ["forehead_wrinkle", "frown", "squint", "asymmetry", "head_motion", "scrunch"]

Frames = list[tuple[float, FaceObservation | None]]


@dataclass(frozen=True)
class Sequence:
    """A rendered script and what the landmarker saw in it."""

    script: Script
    frames: Frames


def head_turn_script(move: str) -> Script:
    """rest → one clean rep → a rep during which the head rolls 15° and drifts sideways, then back."""
    return Script(
        [
            Segment(2.0),
            Segment(0.4, {move: (0.0, 1.0)}),
            Segment(HOLD_S, {move: (1.0, 1.0)}),
            Segment(0.4, {move: (1.0, 0.0)}),
            Segment(1.2),
            Segment(0.4, {move: (0.0, 1.0)}),
            Segment(0.5, {move: (1.0, 1.0)}, roll_deg=(0.0, 15.0), shift_px=(0.0, 20.0)),  # the head moves
            Segment(1.5, {move: (1.0, 1.0)}, roll_deg=(15.0, 15.0), shift_px=(20.0, 20.0)),
            Segment(0.5, {move: (1.0, 1.0)}, roll_deg=(15.0, 0.0), shift_px=(20.0, 0.0)),
            Segment(0.4, {move: (1.0, 0.0)}),
            Segment(1.2),
        ]
    )


HEAD_MOVES_AT_S = 2.0 + 0.4 + HOLD_S + 0.4 + 1.2 + 0.4  # the roll starts here

# Sequences compared at 30 and 10 fps are rendered at 30 fps; the others at 15 fps (the evaluator is
# timed by timestamps, so this also exercises another frame rate, and keeps the suite fast).
FPS_OF: dict[str, float] = {"smile_head": 15.0, "smile_short_hold": 15.0, "pucker": 15.0, "cheeks": 15.0}

# The astronaut's forehead is under her fringe: the crease test uses a bare forehead (happy_f15.jpg).
FACE_OF: dict[str, str] = {"smile_creases": "happy_f15.jpg"}

SCRIPTS: dict[str, Callable[[], Script]] = {
    "smile": lambda: rep_script("smile", 2, HOLD_S, rest_s=1.0),
    "smile_left_only": lambda: rep_script("smile_left_only", 2, HOLD_S, rest_s=1.2),
    "smile_creases": lambda: rep_script("smile", 2, HOLD_S, rest_s=1.2, creases_in_hold=1.0),
    "smile_head": lambda: head_turn_script("smile"),
    "smile_short_hold": lambda: rep_script("smile", 2, 1.0, rest_s=1.2),
    "pucker": lambda: rep_script("pucker", 2, HOLD_S, rest_s=1.0),
    "cheeks": lambda: rep_script("cheeks_puff", 2, HOLD_S, rest_s=1.2),
}


@pytest.fixture(scope="session")
def warpers(
    astronaut: np.ndarray, shared_data: Path, image_landmarker: FaceLandmarker
) -> Callable[[str], FaceWarper]:
    """``warpers(face)`` → a warper of ``astronaut`` or of a photo in ../shared/data."""
    cache: dict[str, FaceWarper] = {}

    def get(face: str) -> FaceWarper:
        if face not in cache:
            if face == "astronaut":
                image = astronaut
            else:
                bgr = cv2.imread(str(shared_data / face))
                assert bgr is not None, face
                image = np.ascontiguousarray(bgr[..., ::-1])
            found = image_landmarker.detect(image).faces
            assert len(found) == 1
            cache[face] = FaceWarper(image, found[0].points_px)
        return cache[face]

    return get


@pytest.fixture(scope="session")
def sequences(warpers: Callable[[str], FaceWarper]) -> Iterator[Callable[[str], Sequence]]:
    """``sequences(name)`` → the analysed sequence (rendered and landmarked once per session)."""
    cache: dict[str, Sequence] = {}

    def get(name: str) -> Sequence:
        if name not in cache:
            script = SCRIPTS[name]()
            warper = warpers(FACE_OF.get(name, "astronaut"))
            with FaceLandmarker(mode="video", max_faces=1) as lm:
                frames = list(analyse(render(warper, script, FPS_OF.get(name, FPS)), lm))
            cache[name] = Sequence(script, frames)
        return cache[name]

    yield get


def exercise_spec(
    technique_id: str, watch: list[FaultKind] | None = None, hold_s: float = HOLD_S
) -> CoachingSpec:
    """The knowledge base's spec for a technique, with the test's hold and (optionally) more faults."""
    technique = load_library().techniques[technique_id]
    if watch is not None:
        assert technique.exercise is not None
        technique = technique.model_copy(
            update={"exercise": technique.exercise.model_copy(update={"still": watch})}
        )
    return spec_for(technique).model_copy(update={"hold_s": hold_s})
