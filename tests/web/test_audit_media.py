"""The worst moment each thumbnail shows, and the thumbnails themselves, from a real video."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facecoach.config import InputLimits
from facecoach.jobs.audit_media import MAX_THUMBNAILS, Moment, fault_moment, fault_moments, thumbnails


def _fault(kind: str, start: float, end: float) -> dict[str, object]:
    return {"kind": kind, "side": None, "start_s": start, "end_s": end, "cue": "c"}


def test_the_worst_moment_is_the_engines_inside_the_fault_else_its_middle() -> None:
    seg = {
        "worst_moments": [
            {"t_s": 2.0, "kind": "frown", "severity": 1.5},
            {"t_s": 3.0, "kind": "frown", "severity": 2.5},
            {"t_s": 9.0, "kind": "frown", "severity": 9.0},  # outside the fault
            {"t_s": 2.5, "kind": "squint", "severity": 7.0},  # another kind
        ]
    }
    assert fault_moment(seg, _fault("frown", 1.0, 4.0)) == Moment(3.0, "frown", 2.5)
    assert fault_moment(seg, _fault("head_motion", 1.0, 4.0)) == Moment(2.5, "head_motion", 0.0)


def test_one_moment_per_fault_without_repeats_and_at_most_the_cap() -> None:
    both_sides = [_fault("side_skipped", 0.0, 2.0), _fault("side_skipped", 0.0, 2.0)]
    many = [_fault("head_motion", float(i), float(i) + 1) for i in range(40)]
    result = {
        "segments": [{"faults": both_sides, "worst_moments": []}, {"faults": many, "worst_moments": []}]
    }
    moments = fault_moments(result)
    assert len(moments) == MAX_THUMBNAILS
    assert len({(m.t_s, m.kind) for m in moments}) == len(moments)
    technique = {"faults": [_fault("jaw_clench", 1.0, 3.0)]}  # the one-exercise result
    assert fault_moments(technique) == [Moment(2.0, "jaw_clench", 0.0)]


def test_thumbnails_are_the_frames_at_the_moments(shared_data: Path) -> None:
    clip = shared_data / "woman_expressions_24fps.mp4"
    moments = [Moment(1.0, "a", 0.0), Moment(12.5, "b", 0.0)]
    shots = thumbnails(clip, moments, InputLimits())
    assert [m for m, _ in shots] == moments
    cap = cv2.VideoCapture(str(clip))
    fps = cap.get(cv2.CAP_PROP_FPS)
    for m, jpeg in shots:
        img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert max(img.shape[:2]) <= 360
        cap.set(cv2.CAP_PROP_POS_FRAMES, round(m.t_s * fps))
        ok, frame = cap.read()
        assert ok
        small = cv2.resize(frame, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_AREA)
        other = shots[1 - moments.index(m)][1]
        other_img = cv2.imdecode(np.frombuffer(other, np.uint8), cv2.IMREAD_COLOR)
        # Nearer to the frame at its own moment than to the other thumbnail's.
        own = float(np.abs(small.astype(int) - img.astype(int)).mean())
        assert own < 8 and own < float(np.abs(small.astype(int) - other_img.astype(int)).mean())
    cap.release()
