"""The evaluator with hands, on a real hand (cut out of woman_expressions with GrabCut) pasted on a real
face photo and run through the real Face and Hand Landmarkers: a hand on the face in an exercise done
without hands is a fault, a face fault under a hand is "not visible", a resisted exercise checks where
the hands are; without the ``hands`` argument nothing changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facecoach.coaching.calibration import calibrate
from facecoach.coaching.evaluator import Evaluator, Event, NotVisible
from facecoach.coaching.hand_checks import HandsOnFace, load_hand_settings, placed
from facecoach.coaching.specs import spec_by_id
from facecoach.knowledge.library import load_library
from facecoach.vision.hands import HandObservation, HandTracker
from facecoach.vision.landmarks import FaceLandmarker, FaceObservation
from tests.support.hand_paste import (
    HandCutout,
    Leg,
    cut_hand,
    face_pixels,
    hand_points_in_clip,
    journey,
    paste,
)

HAND_IN_S = 1.6  # the face alone first (the calibration), then the hand comes in from below and rests
Seq = list[tuple[float, FaceObservation | None, list[HandObservation]]]


@pytest.fixture(scope="module")
def scene(shared_data: Path) -> tuple[np.ndarray, HandCutout]:
    rgb, points = hand_points_in_clip(shared_data / "woman_expressions_24fps.mp4", 96)
    face = np.asarray(Image.open(shared_data / "happy_f15.jpg").convert("RGB"))
    return np.ascontiguousarray(face), cut_hand(rgb, points)


def resting_hand(scene: tuple[np.ndarray, HandCutout], x: float, y: float) -> Seq:
    face, cutout = scene
    with FaceLandmarker(mode="image") as lm:
        fp = face_pixels(lm.detect(face).faces[0].points_px)
    at, below = fp.px(x, y), fp.px(x, y + 0.3)
    legs = [Leg(below, HAND_IN_S, visible=False), Leg(below, 0.4), Leg(at, 0.12), Leg(at, 3.0)]
    rng = np.random.default_rng(0)
    seq: Seq = []
    with HandTracker() as hands, FaceLandmarker() as faces:
        for t, p in journey(below, legs):
            image = paste(face, cutout, p) if p is not None and t > 0 else face.copy()
            image = np.clip(image + rng.normal(0, 3, image.shape), 0, 255).astype(np.uint8)
            found = faces.detect(image, t).faces
            seq.append((t, found[0] if found else None, hands.detect(image, t).hands))
    return seq


@pytest.fixture(scope="module")
def on_cheek(scene: tuple[np.ndarray, HandCutout]) -> Seq:
    return resting_hand(scene, 0.3, 0.56)


@pytest.fixture(scope="module")
def over_eye(scene: tuple[np.ndarray, HandCutout]) -> Seq:
    return resting_hand(scene, 0.3, 0.40)


def run(seq: Seq, technique: str, with_hands: bool) -> tuple[Evaluator, list[Event]]:
    cal = calibrate([f for t, f, _h in seq if t < HAND_IN_S - 0.1 and f is not None])
    ev = Evaluator(spec_by_id(technique), stop_after_reps=False, calibration=cal)
    events: list[Event] = []
    for t, face, hands in seq:
        events += ev.push(face, t, hands if with_hands else None)
    events += ev.finish(seq[-1][0])
    return ev, events


def test_a_hand_on_the_face_of_an_exercise_without_hands_is_a_fault(on_cheek: Seq) -> None:
    ev, _ = run(on_cheek, "smile-lift", with_hands=True)
    hands_on = [f for f in ev.faults if f.kind == "hands_on_face"]
    assert len(hands_on) == 1
    assert hands_on[0].cue == "hands down: this one is done by your muscles alone"
    assert hands_on[0].cue == load_hand_settings().hands_off_cue
    assert HAND_IN_S <= hands_on[0].start_s <= HAND_IN_S + 1.0
    # without hands the evaluator is as before: it cannot know
    old, _ = run(on_cheek, "smile-lift", with_hands=False)
    assert [f.kind for f in old.faults] == []


def test_a_face_fault_under_a_hand_is_not_visible_never_a_fault(over_eye: Seq) -> None:
    """A hand over the eye drags the eye corners the head pose is measured from: without hands, a still
    photo gets a head_motion fault; with them, it is "not visible" while the hand is there."""
    old, _ = run(over_eye, "smile-lift", with_hands=False)
    assert [f.kind for f in old.faults] == ["head_motion"]
    ev, events = run(over_eye, "smile-lift", with_hands=True)
    assert "head_motion" not in [f.kind for f in ev.faults]
    hidden = [e for e in events if isinstance(e, NotVisible) and e.kind == "head_motion"]
    assert hidden and hidden[0].region == "eyes" and hidden[0].end_s is None
    assert any(n.kind == "head_motion" and n.end_s is not None for n in ev.not_visible)
    assert all(not isinstance(e, NotVisible) or e.start_s >= HAND_IN_S - 0.1 for e in events)


def test_a_resisted_exercise_checks_where_the_hands_are(on_cheek: Seq) -> None:
    ev, _ = run(on_cheek, "smile-resist", with_hands=True)
    kinds = [f.kind for f in ev.faults]
    assert "hands_on_face" not in kinds  # its hands belong on the face
    # no hand at first, then a hand on the cheek instead of at the mouth corners: misplaced throughout
    end = on_cheek[-1][0]
    misplaced = [f for f in ev.faults if f.kind == "hand_placement"]
    assert misplaced and misplaced[0].cue == "Rest your index fingertips on the corners of your mouth."
    assert misplaced[-1].end_s is not None and misplaced[-1].end_s >= end - 0.5
    old, _ = run(on_cheek, "smile-resist", with_hands=False)
    assert "hand_placement" not in [f.kind for f in old.faults]


def test_placement_is_the_knowledge_base_target_on_either_side() -> None:
    spec = load_library().technique("smile-resist").exercise
    assert spec is not None and spec.hands is not None
    at = spec.hands.at[0]
    seen = HandsOnFace(frozenset({"mouth"}), True, ((at[0] + 0.05, at[1]),))
    assert placed(seen, spec.hands)
    assert placed(HandsOnFace(frozenset({"mouth"}), True, ((1 - at[0], at[1] - 0.05),)), spec.hands)
    assert not placed(HandsOnFace(frozenset({"cheeks"}), True, ((0.3, 0.56),)), spec.hands)
    assert not placed(HandsOnFace(frozenset(), False, ()), spec.hands)


def test_every_hand_resisted_exercise_has_a_placement_and_no_other_does() -> None:
    for t in load_library().techniques.values():
        if t.exercise is not None:
            assert (t.exercise.hands is not None) == bool(t.exercise.resistance), t.id
