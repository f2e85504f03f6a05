"""Refusals: every bad input is a typed refusal with a reason, never a crash."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from facecoach.config import InputLimits
from facecoach.vision.geometry import HeadPose
from facecoach.vision.landmarks import FaceLandmarker
from facecoach.vision.quality import check_pose
from facecoach.vision.scan import ScanRefused
from facecoach.vision.scan_file import analyse_file, scan_file
from facecoach.vision.scan_photo import scan_image
from tests.fuzz.hostile import png_bomb
from tests.vision.conftest import rescale, rotate


def _refused(rgb: np.ndarray, lm: FaceLandmarker) -> ScanRefused:
    with pytest.raises(ScanRefused) as info:
        scan_image(np.ascontiguousarray(rgb), lm)
    assert info.value.message and "\n" not in info.value.message
    return info.value


def test_blank_picture_has_no_face(scan_landmarker: FaceLandmarker) -> None:
    assert _refused(np.full((480, 640, 3), 128, np.uint8), scan_landmarker).code == "no_face"


def test_cartoon_frame_has_no_face(shared_data: Path, scan_landmarker: FaceLandmarker) -> None:
    cap = cv2.VideoCapture(str(shared_data / "cartoon_no_face.mp4"))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 40)
    ok, bgr = cap.read()
    cap.release()
    assert ok
    assert _refused(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), scan_landmarker).code == "no_face"


def test_two_faces_side_by_side(photos: dict[str, np.ndarray], scan_landmarker: FaceLandmarker) -> None:
    both = np.hstack([photos["surprise_f1"], photos["happy_f15"]])
    err = _refused(both, scan_landmarker)
    assert err.code == "several_faces" and "2 faces" in err.message


def test_group_photo_is_refused(shared_data: Path, scan_landmarker: FaceLandmarker) -> None:
    group = np.asarray(Image.open(shared_data / "group_five.jpg").convert("RGB"))
    assert _refused(group, scan_landmarker).code == "several_faces"


def test_dark_frame(photos: dict[str, np.ndarray], scan_landmarker: FaceLandmarker) -> None:
    for name in ("astronaut", "smile_man"):
        dark = (photos[name].astype(np.float32) * 0.15).astype(np.uint8)
        assert _refused(dark, scan_landmarker).code == "too_dark"


def test_blown_out_frame(photos: dict[str, np.ndarray], scan_landmarker: FaceLandmarker) -> None:
    bright = np.clip(photos["smile_man"].astype(np.int32) * 3, 0, 255).astype(np.uint8)
    assert _refused(bright, scan_landmarker).code == "too_bright"


def test_tiny_face(photos: dict[str, np.ndarray], scan_landmarker: FaceLandmarker) -> None:
    err = _refused(rescale(photos["astronaut"], 0.5), scan_landmarker)
    assert err.code == "too_small" and "px" in err.message


@pytest.mark.parametrize("shape", [(2, 20000), (3000, 1), (40, 40)])
def test_degenerate_picture_sizes(shape: tuple[int, int], scan_landmarker: FaceLandmarker) -> None:
    err = _refused(np.full((*shape, 3), 120, np.uint8), scan_landmarker)
    assert err.code == "too_small" and "pixels" in err.message


def test_blurred_face(photos: dict[str, np.ndarray], scan_landmarker: FaceLandmarker) -> None:
    assert _refused(cv2.GaussianBlur(photos["astronaut"], (0, 0), 2.2), scan_landmarker).code == "blurred"
    # The same blur relative to face size on a bigger face.
    assert _refused(cv2.GaussianBlur(photos["surprise_f1"], (0, 0), 5.0), scan_landmarker).code == "blurred"


def test_strongly_tilted_head(photos: dict[str, np.ndarray], scan_landmarker: FaceLandmarker) -> None:
    err = _refused(rotate(photos["surprise_f1"], 35), scan_landmarker)
    assert err.code == "head_turned" and "tilted" in err.message


def test_pose_limits_speak_the_persons_side() -> None:
    assert check_pose(HeadPose(5, 5, 5)).ok
    turned = check_pose(HeadPose(27, 0, 0))
    assert turned.code == "head_turned" and "to your left" in turned.message
    assert "down" in check_pose(HeadPose(0, -25, 0)).message
    assert "right shoulder" in check_pose(HeadPose(0, 0, -30)).message


# --- files -----------------------------------------------------------------------------------------------


def _file_refused(path: Path, limits: InputLimits | None = None) -> ScanRefused:
    with pytest.raises(ScanRefused) as info:
        scan_file(path, limits or InputLimits())
    assert info.value.message and "\n" not in info.value.message
    return info.value


def test_truncated_jpeg(tmp_path: Path, shared_data: Path) -> None:
    data = (shared_data / "smile_man.jpg").read_bytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    err = _file_refused(path)
    assert err.code == "unreadable" and "truncated" in err.message


def test_text_file_named_jpg(tmp_path: Path) -> None:
    path = tmp_path / "face.jpg"
    path.write_text("this is not a picture\n")
    assert _file_refused(path).code == "unreadable"


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    assert _file_refused(empty).code == "unreadable"
    assert _file_refused(tmp_path / "missing.jpg").code == "unreadable"


def test_huge_declared_dimensions_are_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(png_bomb(100_000, 100_000))
    err = _file_refused(path)
    assert err.code == "too_large" and "pixels" in err.message


def test_the_hostile_6300_px_png_is_refused_before_decoding(tmp_path: Path, astronaut: np.ndarray) -> None:
    """Issue 11: a 131 kB PNG of 6300×6300 px cost ~500 MB to decode. Pictures declaring more than a
    face scan needs are refused from their header; PNG and WebP (decoded whole) have a lower bound
    than JPEG (reduced while decoding)."""
    path = tmp_path / "huge.png"
    path.write_bytes(png_bomb(6300, 6300))
    err = _file_refused(path)
    assert err.code == "too_large" and "6300×6300" in err.message
    limits = InputLimits()
    side = int(limits.max_png_webp_pixels**0.5) + 8  # over the PNG bound, under the JPEG one
    assert side * side < limits.max_image_pixels
    picture = np.asarray(Image.fromarray(astronaut).resize((side, side)))
    Image.fromarray(picture).save(tmp_path / "big.png", compress_level=1)
    Image.fromarray(picture).save(tmp_path / "big.jpg", quality=90)
    err = _file_refused(tmp_path / "big.png")
    assert err.code == "too_large" and "PNG/WebP" in err.message
    assert scan_file(tmp_path / "big.jpg", limits).kind == "photo"


def test_byte_and_duration_limits_come_from_the_arguments(shared_data: Path) -> None:
    small = InputLimits(max_image_bytes=20_000, max_video_seconds=2)
    err = _file_refused(shared_data / "smile_man.jpg", small)  # 81 kB > 20 kB
    assert err.code == "too_large" and "MB" in err.message
    err = _file_refused(shared_data / "cartoon_no_face.mp4", small)  # ~4 s > 2 s
    assert err.code == "too_large" and "s" in err.message


def test_text_file_named_mp4_and_truncated_video(tmp_path: Path, shared_data: Path) -> None:
    fake = tmp_path / "clip.mp4"
    fake.write_text("not a video")
    assert _file_refused(fake).code == "unreadable"
    cut = tmp_path / "cut.mp4"
    cut.write_bytes((shared_data / "woman_expressions_24fps.mp4").read_bytes()[:4000])
    assert _file_refused(cut).code == "unreadable"


def test_half_a_video_is_scanned_with_a_note(tmp_path: Path, shared_data: Path) -> None:
    half = tmp_path / "half.mp4"
    data = (shared_data / "woman_expressions_24fps.mp4").read_bytes()
    half.write_bytes(data[:200_000])  # the first ~2 s of frames
    with pytest.raises(ScanRefused) as frown:  # her frown: every frame dropped
        scan_file(half, InputLimits())
    assert frown.value.code == "expression"
    result = analyse_file(half, InputLimits(), require_neutral=False).result
    assert result.kind == "video" and result.frames_used >= 5
    assert any("stopped decoding" in note and "of its 472 frames" in note for note in result.notes)


def test_no_face_video(shared_data: Path) -> None:
    err = _file_refused(shared_data / "cartoon_no_face.mp4")
    assert err.code == "no_face" and "usable frame" in err.message


def test_a_stored_scan_with_an_unknown_pose_field_is_refused() -> None:
    """HeadPose is the one pose type: the pose fit's result, and the scan result's validated field."""
    from pydantic import ValidationError

    from facecoach.vision.scan import Asymmetry, ScanResult

    asymmetry = dict.fromkeys(Asymmetry.model_fields, 0.0)
    data = {
        "head_pose": {"yaw_deg": 1, "pitch_deg": -2.5, "roll_deg": 3},
        "mm_per_px": 0.1,
        "frames_used": 1,
        "asymmetry": asymmetry,
        "noise_mm": None,
        "iris_px": 40.0,
    }
    assert ScanResult.model_validate(data).head_pose == HeadPose(1.0, -2.5, 3.0)
    data["head_pose"] = {"yaw_deg": 1, "pitch_deg": 2, "roll_deg": 3, "tilt": 4}
    with pytest.raises(ValidationError, match="tilt"):
        ScanResult.model_validate(data)
