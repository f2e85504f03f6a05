"""Hands in the video audit, on real hands: the woman_expressions clip (her hand on her face from about
2.4 s to 9.5 s only) and a real hand cut out of it with GrabCut, moved along known paths over a real face
photo and written to an mp4 (tests/support/hand_paste.py), audited through the audit entry points."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from facecoach.coaching.audit import (
    AnalysedVideo,
    AnalysisStats,
    AuditFault,
    analyse_video,
    audit_any,
    audit_video,
    hand_spans,
)
from facecoach.coaching.hand_audit import HandSpan, spans
from facecoach.coaching.massage_audit import StrokeOut
from facecoach.coaching.segments import HandPresence
from facecoach.config import InputLimits
from tests.coaching.test_strokes import (
    CLIP,
    EAR,
    HAND_FRAME,
    HOLD_S,
    NOSE_SIDE,
    Scene,
    _mirror,
    first_stroke_s,
    strokes_between,
)
from tests.support.hand_paste import Leg, cut_hand, hand_points_in_clip, journey, paste

FPS = 24.0
LEAD_S = 2.0  # the face alone first: the audit calibrates on it


@pytest.fixture(scope="module")
def woman(shared_data: Path) -> AnalysedVideo:
    return analyse_video(shared_data / CLIP, limits=InputLimits())


@pytest.fixture(scope="module")
def scene(shared_data: Path) -> Scene:
    rgb, points = hand_points_in_clip(shared_data / CLIP, HAND_FRAME)
    face = np.asarray(Image.open(shared_data / "happy_f15.jpg").convert("RGB"))
    return Scene(np.ascontiguousarray(face), cut_hand(rgb, points))


def write_massage(scene: Scene, path: Path, legs: list[Leg], start: tuple[float, float], side: str) -> Path:
    """The face alone for LEAD_S, then the hand along ``legs``, with camera noise, as an mp4."""
    hand = scene.right_hand if side == "right" else scene.left_hand
    rng = np.random.default_rng(0)
    h, w = scene.face.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), FPS, (w, h))
    for _t, at in journey(start, [Leg(start, LEAD_S, visible=False), *legs], FPS):
        image = paste(scene.face, hand, at) if at is not None else scene.face.copy()
        noisy = image.astype(np.float32) + rng.normal(0.0, 3.0, image.shape).astype(np.float32)
        writer.write(cv2.cvtColor(np.clip(noisy, 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def strokes_video(
    scene: Scene, path: Path, a: tuple[float, float], b: tuple[float, float], side: str
) -> Path:
    settle = EAR if side == "right" else _mirror(EAR)
    start = scene.fp.px(settle[0], settle[1] + 0.3)
    return write_massage(scene, path, strokes_between(scene.fp, a, b, settle), start, side)


@pytest.fixture(scope="module")
def outwards(scene: Scene, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return strokes_video(scene, tmp_path_factory.mktemp("hands") / "out.mp4", NOSE_SIDE, EAR, "right")


@pytest.fixture(scope="module")
def inwards(scene: Scene, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return strokes_video(scene, tmp_path_factory.mktemp("hands") / "in.mp4", EAR, NOSE_SIDE, "right")


@pytest.fixture(scope="module")
def still(scene: Scene, tmp_path_factory: pytest.TempPathFactory) -> Path:
    at = scene.fp.px(0.3, 0.56)
    below = scene.fp.px(0.3, 0.86)
    legs = [Leg(below, 0.5), Leg(at, 0.12), Leg(at, 4.0)]
    return write_massage(scene, tmp_path_factory.mktemp("hands") / "still.mp4", legs, below, "right")


def settled_s(moves_to_start: bool) -> float:
    """When the first stroke begins in the video (after the lead-in and the hand's way in)."""
    return LEAD_S + first_stroke_s(moves_to_start) - HOLD_S / 2


def test_the_hand_is_on_her_face_from_2_4_to_9_5_s_and_never_else(woman: AnalysedVideo) -> None:
    found = hand_spans(woman)
    assert len(found) == 1, found
    assert found[0].start_s == pytest.approx(2.4, abs=0.35)
    assert found[0].end_s == pytest.approx(9.5, abs=0.35)
    assert len(woman.hand_frames) == len(woman.frames)


def test_every_audit_reports_the_hands(shared_data: Path) -> None:
    found = audit_any(shared_data / CLIP, limits=InputLimits())
    assert len(found.hands) == 1
    assert found.hands[0]["start_s"] == pytest.approx(2.4, abs=0.35)
    assert found.hands[0]["end_s"] == pytest.approx(9.5, abs=0.35)


def test_spans_merge_short_gaps_only() -> None:
    seen = [HandPresence(t / 10, on) for t, on in enumerate([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1])]
    assert spans(seen, 0.5) == [HandSpan(0.1, 0.5), HandSpan(1.2, 1.2)]


def test_outward_strokes_are_counted_and_the_skipped_side_flagged(outwards: Path, scene: Scene) -> None:
    result = audit_video(outwards, "cheek-release", limits=InputLimits())
    data = result.model_dump()
    assert {"hands", "strokes", "massage"} <= set(data)
    begins = settled_s(True)
    strokes = [s for s in result.strokes if s.start_s >= begins - 0.2]
    assert len(strokes) == 3, result.strokes
    assert all(s.side == "right" and s.direction == "outwards" and s.region == "cheeks" for s in strokes)
    drawn = scene.path_mm(NOSE_SIDE, EAR)
    # the hand is found a little late on its first stroke (it stood still beside the nose): the others are
    # the whole drawn path
    lengths = sorted(s.length_mm for s in strokes)
    assert lengths[0] >= 0.3 * drawn and all(x == pytest.approx(drawn, rel=0.25) for x in lengths[1:])
    late = [f for f in result.faults if f.start_s >= begins - 0.2 and f.kind != "side_skipped"]
    assert late == [], late
    assert [(f.kind, f.side) for f in result.faults if f.kind == "side_skipped"] == [("side_skipped", "left")]
    assert result.massage is not None and not result.massage.completed
    assert result.massage.per_side["right"] >= 3 and result.massage.per_side["left"] == 0
    # the hands are seen only while the hand is in the picture (measured: lost for ~1 s while it stands
    # still beside the nose before the first stroke)
    assert result.hands and all(LEAD_S <= h.start_s <= h.end_s <= result.duration_s for h in result.hands)
    assert sum(h.end_s - h.start_s for h in result.hands) >= 4.0
    assert result.reps == 0 and result.holds == []


def test_strokes_the_wrong_way_are_flagged_with_the_cue(inwards: Path) -> None:
    result = audit_video(inwards, "cheek-release", limits=InputLimits())
    begins = settled_s(False)
    wrong = [f for f in result.faults if f.kind == "stroke_direction" and f.start_s >= begins - 0.2]
    assert len(wrong) >= 2, result.faults
    assert all(f.side == "right" and "ear" in f.cue.lower() for f in wrong)
    inward = [s for s in result.strokes if s.start_s >= begins - 0.2 and s.direction == "inwards"]
    assert len(inward) >= 2


def test_a_still_hand_makes_no_stroke(still: Path) -> None:
    result = audit_video(still, "cheek-release", limits=InputLimits())
    assert result.hands, "the hand is on the face"
    settled = LEAD_S + 0.62 + 0.3
    assert [s for s in result.strokes if s.start_s >= settled] == []
    assert {f.kind for f in result.faults if f.start_s >= settled} <= {"side_skipped"}


def test_the_any_video_audit_finds_the_massage_and_checks_its_strokes(inwards: Path) -> None:
    found = audit_any(inwards, limits=InputLimits())
    assert len(found.hands) == 1
    massages = [s for s in found.segments if s.kind == "massage"]
    assert massages, [(s.kind, s.start_s, s.end_s) for s in found.segments]
    strokes = [st for s in massages for st in s.strokes]
    assert len([st for st in strokes if st.direction == "inwards"]) >= 2
    assert any(f.kind == "stroke_direction" for s in massages for f in s.faults)


# The fast path (SparseHandTracker: one-hand lanes, probes, rewinds) against the thorough one (a two-hand
# tracker on every analysed frame): the same hands, strokes, segments and faults.


def _same_strokes(fast: list[StrokeOut], thorough: list[StrokeOut]) -> None:
    assert len(fast) == len(thorough), (fast, thorough)
    for a, b in zip(fast, thorough, strict=True):
        assert (a.side, a.region, a.direction) == (b.side, b.region, b.direction)
        assert a.start_s == pytest.approx(b.start_s, abs=0.15)
        assert a.end_s == pytest.approx(b.end_s, abs=0.15)
        assert a.length_mm == pytest.approx(b.length_mm, rel=0.2, abs=3.0)


def _fault_keys(faults: list[AuditFault]) -> list[tuple[str, str | None]]:
    return sorted((f.kind, f.side) for f in faults)


def test_fast_hands_are_the_thorough_hands_frame_by_frame(woman: AnalysedVideo, shared_data: Path) -> None:
    thorough = analyse_video(shared_data / CLIP, limits=InputLimits(), thorough_hands=True)
    assert [h.timestamp_s for h in woman.hand_frames] == [h.timestamp_s for h in thorough.hand_frames]
    fast_on = [bool(h.hands) for h in woman.hand_frames]
    slow_on = [bool(h.hands) for h in thorough.hand_frames]
    agree = sum(a == b for a, b in zip(fast_on, slow_on, strict=True)) / len(fast_on)
    assert agree >= 0.97, agree
    assert sum(fast_on) >= 60  # she holds her hand on her face for ~7 s
    fast, slow = hand_spans(woman), hand_spans(thorough)
    assert len(fast) == len(slow) == 1
    assert fast[0].start_s == pytest.approx(slow[0].start_s, abs=0.1)
    assert fast[0].end_s == pytest.approx(slow[0].end_s, abs=0.1)


def test_the_fast_any_audit_finds_what_the_thorough_one_finds_on_the_real_clip(shared_data: Path) -> None:
    fast = audit_any(shared_data / CLIP, limits=InputLimits())
    slow = audit_any(shared_data / CLIP, limits=InputLimits(), thorough_hands=True)
    assert [(s.kind, s.technique) for s in fast.segments] == [(s.kind, s.technique) for s in slow.segments]
    for a, b in zip(fast.segments, slow.segments, strict=True):
        assert a.start_s == pytest.approx(b.start_s, abs=0.15)
        assert a.end_s == pytest.approx(b.end_s, abs=0.15)
        assert sorted((f.kind, f.side) for f in a.faults) == sorted((f.kind, f.side) for f in b.faults)
    assert fast.verdict.level == slow.verdict.level
    assert fast.hands == slow.hands or (
        len(fast.hands) == len(slow.hands) == 1
        and fast.hands[0]["start_s"] == pytest.approx(slow.hands[0]["start_s"], abs=0.1)
        and fast.hands[0]["end_s"] == pytest.approx(slow.hands[0]["end_s"], abs=0.1)
    )
    assert len(fast.hands) == 1


@pytest.mark.parametrize("which", ["outwards", "inwards", "still"])
def test_the_fast_massage_audit_finds_the_thorough_strokes_and_faults(
    which: str, request: pytest.FixtureRequest
) -> None:
    video: Path = request.getfixturevalue(which)
    fast = audit_video(video, "cheek-release", limits=InputLimits())
    slow = audit_video(video, "cheek-release", limits=InputLimits(), thorough_hands=True)
    _same_strokes(fast.strokes, slow.strokes)
    assert _fault_keys(fast.faults) == _fault_keys(slow.faults)
    assert fast.massage == slow.massage
    assert len(fast.hands) == len(slow.hands)
    for a, b in zip(fast.hands, slow.hands, strict=True):
        assert a.start_s == pytest.approx(b.start_s, abs=0.15)
        assert a.end_s == pytest.approx(b.end_s, abs=0.15)


@pytest.mark.parametrize("which", ["outwards", "inwards", "still"])
def test_the_gates_keep_the_strokes_faults_and_hands(which: str, request: pytest.FixtureRequest) -> None:
    """audit.yaml's still-face and hand-probe gates skip work on these clips (the face alone for 2 s, a
    still hand) and the audit finds the same strokes, faults and hands as without them."""
    video: Path = request.getfixturevalue(which)
    stats = AnalysisStats()
    gated = audit_video(video, "cheek-release", limits=InputLimits(), stats=stats)
    plain = audit_video(video, "cheek-release", limits=InputLimits(), gate=False)
    assert stats.reused >= 10 and stats.hand_still >= 10, stats  # the gates did skip work here
    assert stats.analysed + stats.reused == (stats.frames_read + 1) // 2  # 24 fps: every other frame
    _same_strokes(gated.strokes, plain.strokes)
    assert _fault_keys(gated.faults) == _fault_keys(plain.faults)
    assert gated.massage == plain.massage
    assert len(gated.hands) == len(plain.hands)
    for a, b in zip(gated.hands, plain.hands, strict=True):
        assert a.start_s == pytest.approx(b.start_s, abs=0.1)
        assert a.end_s == pytest.approx(b.end_s, abs=0.1)
