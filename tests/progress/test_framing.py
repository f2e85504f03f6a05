"""The check-in's framing rules on real faces: a still neutral frontal face passes; a turned head, a smile,
bad light, the wrong distance and a second face are refused with the reason (framing.yaml)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facecoach.progress.framing import FramingRules, check_framing, frame_facts, parse_rules
from facecoach.vision.landmarks import FaceLandmarker
from tests.progress import clips


def _verdict(rgb: np.ndarray, lm: FaceLandmarker, rules: FramingRules, reference: float | None = None):
    rgb = np.ascontiguousarray(rgb)
    return check_framing(frame_facts(rgb, lm.detect(rgb).faces, rules), rules, reference)


def test_her_still_neutral_frontal_face_passes(still, framing_landmarker, rules) -> None:
    v = _verdict(still, framing_landmarker, rules)
    assert v.ok, v.problem
    f = v.facts
    assert abs(f.pose.yaw_deg) < rules.pose.max_yaw_deg and 14 < f.iris_px < 22
    assert f.expressions["teeth"] < 0.1 and f.expressions["smile"] < rules.neutral["smile"].max


def test_a_turned_head_is_refused_with_the_way_to_turn(framing_landmarker, rules) -> None:
    """The clip's first frame: head turned ≈ 11° to her right (negative yaw): turn left."""
    v = _verdict(clips.turned_frames()[0], framing_landmarker, rules)
    assert v.problem is not None and v.problem.code == "turned_right"
    assert v.problem.message.startswith("Turn your head 1") and "to your left" in v.problem.message
    mirrored = _verdict(clips.turned_frames()[0][:, ::-1], framing_landmarker, rules)
    assert mirrored.problem is not None and mirrored.problem.code == "turned_left"


def test_a_smile_is_refused_as_not_neutral(happy, framing_landmarker, rules) -> None:
    v = _verdict(happy, framing_landmarker, rules)
    assert v.problem is not None and v.problem.code == "not_neutral"
    assert "teeth" in v.problem.message


def test_bad_light_is_refused_with_the_reason(still, framing_landmarker, rules) -> None:
    dark = (still.astype(np.float32) * 0.3).astype(np.uint8)
    v = _verdict(dark, framing_landmarker, rules)
    assert v.problem is not None and v.problem.code == "too_dark", v.facts.luma
    # A side light: her left (the picture's right) lit, her right in shadow, the edge of the shadow soft
    # (over 40 px) down the middle of her face.
    x = np.arange(still.shape[1], dtype=np.float32)
    ramp = (0.55 + 0.6 / (1 + np.exp(-(x - 320) / 10)))[None, :, None]
    side = np.clip(still.astype(np.float32) * ramp, 0, 255).astype(np.uint8)
    v = _verdict(side, framing_landmarker, rules)
    assert v.problem is not None and v.problem.code == "uneven_light", (v.facts.luma, v.facts.evenness)
    assert "both sides" in v.problem.message


def test_distance_must_match_the_first_check_in(still, framing_landmarker, rules) -> None:
    first = _verdict(still, framing_landmarker, rules).facts.iris_px
    h, w = still.shape[:2]
    zoomed = cv2.resize(still, None, fx=1.3, fy=1.3)
    top, left = int(h * 0.15), int(w * 0.15)
    closer = np.ascontiguousarray(zoomed[top : top + h, left : left + w])
    v = _verdict(closer, framing_landmarker, rules, reference=first)
    assert v.problem is not None and v.problem.code == "closer_than_before", v.problem
    assert (
        _verdict(still, framing_landmarker, rules, reference=first * 1.3).problem.code
        == "further_than_before"
    )


def test_two_people_are_refused(still, framing_landmarker, rules) -> None:
    small = cv2.resize(still, (320, 180))
    two = np.ascontiguousarray(np.vstack([np.hstack([small, small])] * 2))
    v = _verdict(two, framing_landmarker, rules)
    assert v.facts.faces == 2 and v.problem is not None and v.problem.code == "several_faces"
    assert v.problem.message.startswith("2 faces")


def test_rules_are_validated_on_load() -> None:
    from importlib import resources

    from facecoach.progress.framing import load_rules

    text = resources.files("facecoach.progress").joinpath("framing.yaml").read_text("utf-8")
    assert parse_rules(text) == load_rules()
    with pytest.raises(ValueError, match="messages"):
        parse_rules(text.replace('  off_centre: "Move your face to the middle of the picture."\n', ""))
    with pytest.raises(ValueError):
        parse_rules(text.replace("max_yaw_deg: 6.0", "max_yaw_deg: -6.0"))
    with pytest.raises(ValueError, match="twice"):
        parse_rules(text + "\nhold_s: 2.0\n")
