"""Frame sources (EXIF, formats, video iteration) and the video scan of a still face."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from facecoach.config import InputLimits
from facecoach.vision.annotate import write_annotation
from facecoach.vision.scan import ScanResult
from facecoach.vision.scan_file import analyse_file
from facecoach.vision.scan_video import scan_video, video_step
from facecoach.vision.sources import SourceError, VideoSource, file_kind, read_image, sniff_kind

LIMITS = InputLimits()


def test_exif_orientation_is_honoured(tmp_path: Path, astronaut: np.ndarray) -> None:
    # Stored sideways with "rotate 90° clockwise to display" (orientation 6): reading gives it upright.
    stored = np.ascontiguousarray(np.rot90(astronaut[:, :400], k=1))  # 400 wide → stored 400 tall
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "phone.jpg"
    Image.fromarray(stored).save(path, quality=95, exif=exif.tobytes())
    upright = read_image(path, LIMITS)
    assert upright.shape == (512, 400, 3)
    assert np.abs(upright.astype(int) - astronaut[:, :400].astype(int)).mean() < 6


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "JPEG"])
def test_formats_read_as_rgb(tmp_path: Path, astronaut: np.ndarray, fmt: str) -> None:
    path = tmp_path / f"face.{fmt.lower()}"
    Image.fromarray(astronaut).convert("RGBA" if fmt == "PNG" else "RGB").save(path, format=fmt)
    rgb = read_image(path, LIMITS)
    assert rgb.shape == astronaut.shape and rgb.dtype == np.uint8
    assert file_kind(path) == "image"


def test_odd_modes_read_as_rgb(tmp_path: Path, astronaut: np.ndarray) -> None:
    grey = np.asarray(Image.fromarray(astronaut).convert("L"))
    Image.fromarray(grey.astype(np.uint16) * 257).save(tmp_path / "g16.png")  # 16-bit greyscale
    Image.fromarray(astronaut).convert("CMYK").save(tmp_path / "cmyk.jpg")
    Image.fromarray(astronaut).convert("P").save(tmp_path / "palette.png")
    g16 = read_image(tmp_path / "g16.png", LIMITS)
    assert g16.dtype == np.uint8 and np.abs(g16[:, :, 0].astype(int) - grey).max() <= 1
    for name in ("cmyk.jpg", "palette.png"):
        rgb = read_image(tmp_path / name, LIMITS)
        assert rgb.shape == astronaut.shape and np.abs(rgb.astype(int) - astronaut).mean() < 20


def test_gif_is_not_accepted(tmp_path: Path, astronaut: np.ndarray) -> None:
    path = tmp_path / "face.gif"
    Image.fromarray(astronaut).save(path, format="GIF")
    with pytest.raises(SourceError) as info:
        file_kind(path)
    assert info.value.code == "unreadable"


def test_sniffing_is_by_content() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, format="PNG")
    assert sniff_kind(buf.getvalue()[:32]) == "image"
    assert sniff_kind(b"\x00\x00\x00\x20ftypisom" + b"\0" * 20) == "video"
    assert sniff_kind(b"\x1a\x45\xdf\xa3" + b"\0" * 28) == "video"
    assert sniff_kind(b"RIFF\0\0\0\0AVI LIST" + b"\0" * 16) == "video"
    assert sniff_kind(b"hello world, not media at all!!!") is None


def test_video_frames_with_timestamps(shared_data: Path) -> None:
    with VideoSource(shared_data / "woman_expressions_24fps.mp4", LIMITS) as video:
        assert video.info.fps == pytest.approx(23.98, abs=0.05)
        assert video.info.frame_count == 472 and (video.info.width, video.info.height) == (640, 360)
        frames = []
        for t, rgb in video.frames(step=5):
            frames.append(t)
            assert rgb.shape == (360, 640, 3) and rgb.dtype == np.uint8
            if len(frames) == 4:
                break
    assert frames == pytest.approx([0.0, 5 / 23.976, 10 / 23.976, 15 / 23.976], abs=1e-3)
    assert video_step(30.0) == 5 and video_step(6.0) == 1


# --- a still face filmed: the repeat test --------------------------------------------------------------


def _still_face_frames(face: np.ndarray, n: int, seed: int = 0) -> list[np.ndarray]:
    """The same photo, per frame: sensor noise, brightness ±10 %, JPEG re-encoding at varying quality."""
    rng = np.random.default_rng(seed)
    canvas = np.full((480, 640, 3), 90, np.uint8)
    canvas[:, 80:560] = cv2.resize(face, (480, 480), interpolation=cv2.INTER_AREA)
    out = []
    for _ in range(n):
        frame = canvas.astype(np.float32) * rng.uniform(0.9, 1.1) + rng.normal(0, 2.0, canvas.shape)
        frame = np.clip(frame, 0, 255).astype(np.uint8)
        ok, jpg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(70, 96))])
        assert ok
        out.append(np.ascontiguousarray(cv2.imdecode(jpg, cv2.IMREAD_COLOR)[:, :, ::-1]))
    return out


@pytest.fixture(scope="module")
def still_clip(tmp_path_factory: pytest.TempPathFactory, photos: dict[str, np.ndarray]) -> Path:
    path = tmp_path_factory.mktemp("clip") / "still.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (640, 480))
    for rgb in _still_face_frames(photos["surprise_f1"], 16):
        writer.write(np.ascontiguousarray(rgb[:, :, ::-1]))
    writer.release()
    return path


def test_video_scan_of_a_still_face(still_clip: Path, tmp_path: Path) -> None:
    scan = analyse_file(still_clip, LIMITS, require_neutral=False)
    result = scan.result
    assert result.kind == "video" and result.frames_used == 8  # 16 frames at 10/s, every 2nd scanned
    assert any("every 2nd frame" in note for note in result.notes)
    assert result.noise_mm is not None
    noise = result.noise_mm.model_dump()
    for key, sd in noise.items():
        assert sd < 0.5, (key, sd)
    assert scan.frame.shape == (480, 640, 3)
    assert not any("moved or changed expression" in note for note in result.notes)
    # The representative frame's landmarks belong to that frame (drawn where the face is).
    assert 80 < scan.measure.face.points_px[1, 0] < 560
    out = write_annotation(scan, tmp_path / "video.png")
    with Image.open(out) as im:
        assert im.width >= 900


def test_video_median_agrees_with_the_photo(still_clip: Path, base_scans: dict[str, ScanResult]) -> None:
    video = scan_video(still_clip, limits=LIMITS, require_neutral=False).asymmetry.model_dump()
    photo = base_scans["surprise_f1"].asymmetry.model_dump()
    # Same face, resized and re-encoded; the video measures 2 landmark passes a frame, the photo 6.
    for key in video:
        assert abs(video[key] - photo[key]) <= 0.6, (key, video[key], photo[key])


def test_video_scan_from_frames_and_refused_frames_are_counted(photos: dict[str, np.ndarray]) -> None:
    frames = _still_face_frames(photos["smile_man"], 8, seed=1)
    frames[3] = np.zeros_like(frames[3])  # a dropped (black) frame
    result = scan_video([(i / 10, f) for i, f in enumerate(frames)], require_neutral=False)
    assert result.frames_used == 7
    assert any("1 of 8 frames refused" in note and "no face" in note for note in result.notes)


def test_missing_camera_is_a_refusal_not_a_crash() -> None:
    from facecoach.vision.sources import camera_frames

    with pytest.raises(SourceError) as info:
        next(camera_frames(97, LIMITS))  # no such device on any test machine
    assert info.value.code == "unreadable" and "camera 97" in info.value.message


@pytest.mark.parametrize(
    ("suffix", "codec"), [("avi", "MJPG"), ("webm", "VP80"), ("mov", "mp4v"), ("mp4", "mp4v")]
)
def test_video_containers_are_recognised_and_read(tmp_path: Path, suffix: str, codec: str) -> None:
    written = tmp_path / f"clip.{suffix}"
    writer = cv2.VideoWriter(str(written), cv2.VideoWriter_fourcc(*codec), 10.0, (64, 48))
    assert writer.isOpened(), f"{codec} writer unavailable in this OpenCV build"
    for i in range(6):
        writer.write(np.full((48, 64, 3), 30 * i, np.uint8))
    writer.release()
    path = written.rename(tmp_path / "clip.bin")  # the kind is decided by content, not by the name
    assert file_kind(path) == "video"
    with VideoSource(path, LIMITS) as video:
        frames = list(video.frames())
    assert len(frames) == 6 and frames[0][1].shape == (48, 64, 3)
    assert [t for t, _ in frames] == pytest.approx([i / 10 for i in range(6)])


def test_a_second_person_in_a_video_is_refused(photos: dict[str, np.ndarray]) -> None:
    """The trackers follow one face; the once-a-second crowd check must still see the second one."""
    from facecoach.vision.scan import ScanRefused

    both = np.ascontiguousarray(np.hstack([photos["surprise_f1"], photos["happy_f15"]]))
    with pytest.raises(ScanRefused) as info:
        scan_video([(i / 4, both) for i in range(6)])  # 1.5 s: two crowd checks
    assert info.value.code == "several_faces"
