"""The Hand Landmarker on real footage, its pinned bundle, and hands in the face frame.

``woman_expressions_24fps.mp4`` (see ../shared/data/MANIFEST.md): her right hand is on her face from about
2.4 s to 9.5 s and nowhere else — looked at frame by frame; from the back (palm on the face, nails to the
camera), coming in from her right.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from facecoach.vision import hand_model
from facecoach.vision.hand_model import (
    BUNDLE_SHA256,
    MEMBERS,
    HandModelError,
    build_bundle,
    hand_model_bytes,
    models_from_wheel,
    sha256_hex,
    verify_bundle,
)
from facecoach.vision.hands import (
    HandObservation,
    HandTracker,
    drop_duplicate_hands,
    hand_in_face_mm,
    own_side,
    working_point,
)
from facecoach.vision.landmarks import FaceLandmarker, FaceObservation

CLIP = "woman_expressions_24fps.mp4"
HAND_FROM_S, HAND_TO_S = 2.4, 9.5  # seen by eye
EDGE_TOLERANCE_S = 0.5
FLIP_FRAMES = 260  # 0–10.8 s: the whole time her hand is up, and some without


@dataclass(frozen=True)
class Seen:
    t_s: float
    hands: list[HandObservation]
    face: FaceObservation | None


def _run(video: Path, flip: bool, frames: int | None) -> list[Seen]:
    cap = cv2.VideoCapture(str(video))
    fps = cap.get(cv2.CAP_PROP_FPS)
    out: list[Seen] = []
    try:
        with HandTracker(mode="video") as hands, FaceLandmarker(mode="video", max_faces=1) as faces:
            i = 0
            while frames is None or i < frames:
                ok, bgr = cap.read()
                if not ok:
                    break
                rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                rgb = np.ascontiguousarray(rgb[:, ::-1] if flip else rgb)
                result = faces.detect(rgb, i / fps)
                out.append(Seen(i / fps, hands.detect(rgb, i / fps).hands, (result.faces or [None])[0]))
                i += 1
    finally:
        cap.release()
    return out


@pytest.fixture(scope="module")
def clip(shared_data: Path) -> list[Seen]:
    return _run(shared_data / CLIP, flip=False, frames=None)


@pytest.fixture(scope="module")
def flipped(shared_data: Path) -> list[Seen]:
    return _run(shared_data / CLIP, flip=True, frames=FLIP_FRAMES)


# --- the bundle ----------------------------------------------------------------------------------------


def test_the_installed_bundle_is_the_pinned_one_and_rebuilds_byte_for_byte() -> None:
    data = hand_model_bytes()
    assert sha256_hex(data) == BUNDLE_SHA256
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        infos = bundle.infolist()
        assert [i.filename for i in infos] == ["hand_detector.tflite", "hand_landmarks_detector.tflite"]
        assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)
        models = {m.bundle_name: bundle.read(m.bundle_name) for m in MEMBERS}
    assert build_bundle(models) == data


def _bundle_with(replace: dict[str, bytes] | None = None, extra: str | None = None) -> bytes:
    with zipfile.ZipFile(io.BytesIO(hand_model_bytes())) as src:
        models = {m.bundle_name: src.read(m.bundle_name) for m in MEMBERS}
    models.update(replace or {})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in models.items():
            zf.writestr(name, data)
        if extra:
            zf.writestr(extra, b"x")
    return out.getvalue()


def test_a_bundle_with_an_altered_model_is_refused_naming_the_model() -> None:
    with zipfile.ZipFile(io.BytesIO(hand_model_bytes())) as src:
        landmarks = bytearray(src.read("hand_landmarks_detector.tflite"))
    landmarks[len(landmarks) // 2] ^= 0xFF
    with pytest.raises(HandModelError, match=r"hand_landmarks_detector\.tflite .*SHA-256"):
        verify_bundle(_bundle_with({"hand_landmarks_detector.tflite": bytes(landmarks)}))


def test_a_bundle_with_other_members_or_not_a_zip_is_refused() -> None:
    with pytest.raises(HandModelError, match="expected exactly"):
        verify_bundle(_bundle_with(extra="hand_landmarks_detector.tflite.bak"))
    with pytest.raises(HandModelError, match="not a model bundle"):
        verify_bundle(b"not a zip at all")
    # the same two models zipped another way (deflated): the members pass, the pinned file does not
    with pytest.raises(HandModelError, match="rebuild it"):
        out = io.BytesIO()
        with (
            zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf,
            zipfile.ZipFile(io.BytesIO(hand_model_bytes())) as src,
        ):
            for m in MEMBERS:
                zf.writestr(m.bundle_name, src.read(m.bundle_name))
        verify_bundle(out.getvalue())


def test_the_tracker_refuses_a_missing_or_altered_bundle(tmp_path: Path) -> None:
    with pytest.raises(HandModelError, match="make install"):
        HandTracker(model=tmp_path / "absent.task")
    bad = tmp_path / "hand_landmarker.task"
    data = bytearray(hand_model_bytes())
    data[len(data) // 2] ^= 0x01  # one bit, inside the landmark model
    bad.write_bytes(bytes(data))
    with pytest.raises(HandModelError, match="hand_landmarks_detector"):  # its CRC-32 catches it first
        HandTracker(model=bad)


def test_a_wheel_whose_model_differs_is_refused(tmp_path: Path) -> None:
    wheel = tmp_path / "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for m in MEMBERS:
            zf.writestr(m.wheel_path, b"\0" * m.size)  # right size, wrong bytes
    with pytest.raises(HandModelError, match=r"palm_detection_full\.tflite in .*SHA-256"):
        models_from_wheel(wheel)
    assert hand_model.WHEEL_REQUIREMENT == "mediapipe==0.10.21"


# --- real footage ----------------------------------------------------------------------------------------


def test_the_hand_is_found_exactly_while_it_is_on_her_face(clip: list[Seen]) -> None:
    seconds = int(clip[-1].t_s) + 1
    presence = np.zeros(seconds)
    counts = np.zeros(seconds)
    for seen in clip:
        presence[int(seen.t_s)] += bool(seen.hands)
        counts[int(seen.t_s)] += 1
    share = presence / counts
    for second in range(seconds):
        if second >= HAND_FROM_S + EDGE_TOLERANCE_S and second + 1 <= HAND_TO_S - EDGE_TOLERANCE_S:
            assert share[second] >= 0.95, (second, share.round(2).tolist())
        elif second + 1 <= HAND_FROM_S - EDGE_TOLERANCE_S or second >= HAND_TO_S + EDGE_TOLERANCE_S:
            assert share[second] == 0, (second, share.round(2).tolist())
    times = [s.t_s for s in clip if s.hands]
    assert abs(times[0] - HAND_FROM_S) <= EDGE_TOLERANCE_S
    assert abs(times[-1] - HAND_TO_S) <= EDGE_TOLERANCE_S
    assert max(len(s.hands) for s in clip) == 1  # one hand, never counted twice


def test_her_own_right_hand_is_right_and_left_in_the_mirror(clip: list[Seen], flipped: list[Seen]) -> None:
    sides = [h.side for s in clip for h in s.hands]
    assert sides.count("right") >= 0.95 * len(sides)
    mirror_sides = [h.side for s in flipped for h in s.hands]
    assert len(mirror_sides) >= 0.9 * len([h for s in clip[:FLIP_FRAMES] for h in s.hands])
    assert mirror_sides.count("left") >= 0.95 * len(mirror_sides)
    # a selfie-mirrored frame says so, and the person's own side comes back
    assert own_side("Left", mirrored=True) == "right" and own_side("Right", mirrored=False) == "right"


def test_hand_points_in_face_mm_mirror_with_the_picture(clip: list[Seen], flipped: list[Seen]) -> None:
    """Metamorphic: flipping the frame negates x of the working point in the face frame, keeps y."""
    pairs = []
    for a, b in zip(clip[:FLIP_FRAMES], flipped, strict=True):
        if a.hands and b.hands and a.face is not None and b.face is not None:
            pa = working_point(hand_in_face_mm(a.hands[0], a.face))
            pb = working_point(hand_in_face_mm(b.hands[0], b.face))
            pairs.append((pa, pb))
    assert len(pairs) >= 100
    pa, pb = np.array([p for p, _ in pairs]), np.array([q for _, q in pairs])
    x_error = np.abs(pa[:, 0] + pb[:, 0])
    y_error = np.abs(pa[:, 1] - pb[:, 1])
    assert np.median(x_error) < 3.0 and np.median(y_error) < 3.0, (np.median(x_error), np.median(y_error))
    # her fingertips are on her face: within its width and between the brows and the chin
    assert np.all(np.abs(pa[:, 0]) < 75) and np.median(pa[:, 1]) > 0


def test_hand_and_face_from_different_frames_are_refused(clip: list[Seen]) -> None:
    seen = next(s for s in clip if s.hands and s.face is not None)
    assert seen.face is not None
    other = HandObservation(seen.hands[0].points_px, "right", 0.9, "Right", (100, 100))
    with pytest.raises(ValueError, match="different frames"):
        hand_in_face_mm(other, seen.face)


def _hand(x0: float, label: str, score: float) -> HandObservation:
    grid = np.array([(x0 + 10 * (i % 5), 100 + 12 * (i // 5), 0.0) for i in range(21)], dtype=np.float64)
    return HandObservation(grid, own_side(label, False), score, label, (640, 360))


def test_one_hand_seen_twice_is_kept_once_and_two_hands_both() -> None:
    previous = [_hand(100, "Right", 0.9)]
    twice = [_hand(104, "Left", 0.99), _hand(102, "Right", 0.95)]
    kept = drop_duplicate_hands(twice, previous)
    assert [h.label for h in kept] == ["Right"]  # the one that goes on from the last frame
    assert [h.label for h in drop_duplicate_hands(twice, [])] == ["Left"]  # else the more confident
    two = [_hand(100, "Right", 0.9), _hand(400, "Left", 0.9)]
    assert len(drop_duplicate_hands(two, previous)) == 2


def test_creating_and_closing_a_tracker_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    with HandTracker(mode="video") as tracker:
        tracker.detect(np.zeros((64, 64, 3), np.uint8), 0.0)
    assert capfd.readouterr().err == ""


def test_a_closed_tracker_or_a_bad_frame_is_a_clear_error() -> None:
    tracker = HandTracker(mode="image")
    with pytest.raises(ValueError, match="RGB uint8"):
        tracker.detect(np.zeros((8, 8), np.uint8))
    tracker.close()
    with pytest.raises(RuntimeError, match="closed"):
        tracker.detect(np.zeros((8, 8, 3), np.uint8))
