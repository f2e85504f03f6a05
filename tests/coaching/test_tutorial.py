"""Auditing any video without --technique, on tutorials assembled from a warped real face (happy_f15.jpg:
a bare forehead, so painted creases are visible) with known segments, and on the real clip.

Each tutorial is several exercises in a row with rests (tests/coaching/synth.py scripts); every known
segment runs from the first ramp of its first rep to the end of the ramp of its last one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from facecoach.coaching.audit import analyse, audit_frames
from facecoach.coaching.tutorial import SegmentOut, TutorialResult
from facecoach.config import InputLimits
from facecoach.vision.landmarks import FaceLandmarker, FaceObservation
from facecoach.vision.sources import VideoSource
from tests.coaching.synth import FaceWarper, Script, Segment, render, rep_script

FPS = 10.0
HOLD_S = 5.4  # the library holds are 5 s
RAMP_S = 0.4  # rep_script's ramps
BOUNDARY_S = 0.5  # each segment found within this of its true start and end
FACE = "happy_f15.jpg"


@dataclass(frozen=True)
class Known:
    start_s: float
    end_s: float
    move: str


def tutorial(parts: list[tuple[str, float]], *, rest_between_s: float = 3.0) -> tuple[Script, list[Known]]:
    """rest → (two reps of each move, ``creases`` painted in its holds) with rests between, → rest."""
    segs: list[Segment] = [Segment(2.0)]
    known: list[Known] = []
    t = 2.0
    for move, creases in parts:
        reps = rep_script(move, 2, HOLD_S, rest_first_s=0.0, rest_s=1.5, creases_in_hold=creases)
        # the known segment: from the first ramp's start to the end of the last ramp (before its rest)
        length = reps.duration_s - 1.5
        known.append(Known(t, t + length, move))
        segs.extend(reps.segments)
        segs.append(Segment(rest_between_s))
        t += reps.duration_s + rest_between_s
    segs.append(Segment(2.0))
    return Script(segs), known


TUTORIALS: dict[str, list[tuple[str, float]]] = {
    "clean": [("smile", 0.0), ("pucker", 0.0), ("jaw_open", 0.0)],
    # the same tutorial with one bad segment: the forehead creases through the pucker's holds
    "bad_pucker": [("smile", 0.0), ("pucker", 1.0), ("jaw_open", 0.0)],
    # a brow raise with forehead creases (frontalis: over-used), then a smile whose right side lags
    "faults": [("brows_up", 1.0), ("smile_left_only", 0.0)],
}
TECHNIQUE_OF = {"smile": "smile-lift", "pucker": "lip-pucker", "jaw_open": "long-o-stretch"}


@dataclass(frozen=True)
class Audited:
    known: list[Known]
    result: TutorialResult


@pytest.fixture(scope="module")
def audited(warpers: Callable[[str], FaceWarper]) -> Callable[[str], Audited]:
    cache: dict[str, Audited] = {}

    def get(name: str) -> Audited:
        if name not in cache:
            script, known = tutorial(TUTORIALS[name])
            with FaceLandmarker(mode="video", max_faces=1) as lm:
                frames = list(analyse(render(warpers(FACE), script, FPS), lm))
            cache[name] = Audited(known, audit_frames(frames, FPS, script.duration_s))
        return cache[name]

    return get


def moving(result: TutorialResult) -> list[SegmentOut]:
    return [s for s in result.segments if s.kind in ("exercise", "unrecognised")]


def test_clean_tutorial_finds_every_segment_and_technique_and_flags_nothing(
    audited: Callable[[str], Audited],
) -> None:
    a = audited("clean")
    found = moving(a.result)
    assert [s.action for s in found] == ["smile", "pucker", "jaw_open"]
    for seg, known in zip(found, a.known, strict=True):
        assert abs(seg.start_s - known.start_s) < BOUNDARY_S, (seg, known)
        assert abs(seg.end_s - known.end_s) < BOUNDARY_S, (seg, known)
        assert seg.kind == "exercise" and seg.technique == TECHNIQUE_OF[known.move]
        assert seg.confidence >= 0.5
        assert seg.reps == 2 and all(h.completed for h in seg.holds)
        assert seg.faults == [] and seg.wrinkling == [] and seg.trains_overused == []
    # between the exercises: rest
    kinds = [s.kind for s in a.result.segments]
    assert kinds[0] == "rest" and kinds[-1] == "rest" and kinds.count("rest") == 4
    assert a.result.calibration.neutral and a.result.calibration.end_s < 2.0
    assert a.result.verdict.level == "safe" and a.result.verdict.reasons == []
    assert a.result.hands == []


def test_one_bad_segment_changes_the_verdict(audited: Callable[[str], Audited]) -> None:
    a = audited("bad_pucker")
    found = moving(a.result)
    assert [s.technique for s in found] == ["smile-lift", "lip-pucker", "long-o-stretch"]
    smile, pucker, jaw = found
    assert smile.faults == [] and jaw.faults == []
    creased = [w for w in pucker.wrinkling if w.kind == "forehead_wrinkle"]
    assert len(creased) == 1 and creased[0].share >= 0.5  # creased through both holds
    holds = [(k.start_s + RAMP_S, k.start_s + RAMP_S + HOLD_S) for k in [a.known[1]]]
    second = a.known[1].start_s + 2 * RAMP_S + HOLD_S + 1.5 + RAMP_S
    holds.append((second, second + HOLD_S))
    faults = [f for f in pucker.faults if f.kind == "forehead_wrinkle"]
    assert len(faults) == 2
    for fault, (start, end) in zip(faults, holds, strict=True):
        assert abs(fault.start_s - start) < BOUNDARY_S and abs(fault.end_s - end) < BOUNDARY_S
    # the worst moments lie inside the creased holds
    assert pucker.worst_moments and all(any(a <= m.t_s <= b for a, b in holds) for m in pucker.worst_moments)
    assert a.result.verdict.level == "unsafe"
    assert any("forehead wrinkle" in r and "lip-pucker" in r for r in a.result.verdict.reasons)
    assert audited("clean").result.verdict.level == "safe"


def test_brow_raise_trains_the_frontalis_and_the_lagging_side_is_placed(
    audited: Callable[[str], Audited],
) -> None:
    a = audited("faults")
    brows, smile = moving(a.result)
    k_brows, k_smile = a.known
    for seg, known in ((brows, k_brows), (smile, k_smile)):
        assert abs(seg.start_s - known.start_s) < BOUNDARY_S and abs(seg.end_s - known.end_s) < BOUNDARY_S
    # no technique of the library raises the brows: unrecognised, with what moved
    assert brows.kind == "unrecognised" and brows.technique is None and brows.action == "brows_up"
    assert brows.what_moved.regions == ["forehead"] and brows.what_moved.muscles == ["frontalis"]
    assert brows.trains_overused == ["frontalis"]
    assert brows.overuse[0].release and "forehead-release" in brows.overuse[0].release
    assert any(w.kind == "forehead_wrinkle" and w.share > 0.3 for w in brows.wrinkling)
    assert brows.reps == 2
    # the smile with the person's right side lagging: smile-lift, asymmetry (right) in each hold
    assert smile.technique == "smile-lift"
    lag = [f for f in smile.faults if f.kind == "asymmetry"]
    assert lag and all(f.side == "right" for f in lag)
    first_hold = k_smile.start_s + RAMP_S
    assert abs(lag[0].start_s - first_hold) < 1.0
    assert a.result.verdict.level == "unsafe"
    assert "Safe to follow: no, because" in a.result.verdict.sentence
    assert any("Frontalis" in r for r in a.result.verdict.reasons)


def test_the_series_for_the_report(audited: Callable[[str], Audited]) -> None:
    s = audited("faults").result.series
    assert len(s.t) == len(s.values["brows_up_left"]) > 100
    assert s.thresholds["forehead_wrinkle"] == pytest.approx(1.5, abs=0.2)
    assert s.units["brows_up_left"] == "mm" and s.units["forehead_wrinkle"] == "ratio"
    # the brows go up past their threshold during the brow raise and stay under it in the first rest
    peak = max(v for v in s.values["brows_up_left"] if v is not None)
    assert peak > s.thresholds["brows_up_left"]
    rest = [v for t, v in zip(s.t, s.values["brows_up_left"], strict=True) if t < 1.5 and v is not None]
    assert rest and max(rest) < s.thresholds["brows_up_left"]


# -- the real clip --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clip(shared_data: Path) -> tuple[list[tuple[float, FaceObservation | None]], float, float]:
    clip_path = shared_data / "woman_expressions_24fps.mp4"
    with VideoSource(clip_path, InputLimits()) as src, FaceLandmarker(mode="video") as lm:
        frames = list(analyse(src.frames(2), lm))  # ~12 fps, as an audit at its default rate
        return frames, src.info.fps, src.info.duration_s


def test_real_clip_frown_is_frowning_and_not_the_reference(
    clip: tuple[list[tuple[float, FaceObservation | None]], float, float],
) -> None:
    """woman_expressions_24fps.mp4 frowns from ~0.8 s to ~5.6 s (eyes shut, crying), raises her brows
    near 7–9 s and smiles broadly from ~10 s: no 1.5 s of it is a face at rest. The old audit calibrated
    on its first 1.5 s (the frown) and saw only head motion."""
    frames, fps, duration = clip
    result = audit_frames(frames, fps, duration)
    cal = result.calibration
    assert cal.start_s > 5.6  # not on the frown
    assert cal.end_s - cal.start_s < 1.5  # the longest steady neutral run is shorter than asked for
    # the frown is a segment of its own, read from the creases between her brows (hands not tracked here;
    # tests/coaching/test_real_tutorial.py audits the same clip with them)
    frowns = [s for s in result.segments if s.action == "frown"]
    assert len(frowns) == 1, [(s.action, s.start_s, s.end_s) for s in result.segments]
    assert frowns[0].start_s == pytest.approx(0.8, abs=0.5)
    assert frowns[0].end_s == pytest.approx(5.6, abs=0.5)
    assert "corrugator-supercilii" in frowns[0].trains_overused
    assert cal.start_s >= frowns[0].end_s
    assert result.verdict.level == "unsafe"
    # the head turns past the limits near 16.8–17.3 s: a segment of its own, not an error
    assert any(s.view == "turned_away" and 16.0 < s.start_s < 17.5 for s in result.segments)
