"""MediaPipe Face Landmarker wrapper: RGB frames in, :class:`FaceObservation` out.

One landmarker is reused across frames (VIDEO running mode for a video, IMAGE mode for stills) and
must be closed explicitly — MediaPipe's own ``__del__`` fails at interpreter exit. Use it as a
context manager.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from facecoach.vision.frown_lines import frown_lines
from facecoach.vision.model import model_bytes

Mode = Literal["image", "video"]


_STDERR_LOCK = threading.Lock()
# What MediaPipe's graph set-up prints on a normal start (glog/absl and TFLite lines; the Hand Landmarker's
# LiteRT runtime also logs "INFO: [environment.cc:36] …" lines when it starts and stops).
_START_UP_NOISE = re.compile(
    r"^(?:[IW]\d{4} |INFO: Created TensorFlow Lite|WARNING: Logging before InitGoogle|INFO: \[\w+\.cc:\d+\] )"
)


@contextmanager
def native_stderr_captured() -> Iterator[None]:
    """Hold back what MediaPipe's C++ layer prints on file descriptor 2 while a graph is built.

    Creating a landmarker logs half a dozen INFO/WARNING lines straight to fd 2, which would break the
    CLI's "a refusal is one line on stderr" rule. They are captured in a temporary file; afterwards
    every other line (another thread's output, a real error) is written back, and if creation fails
    everything is. A lock keeps two threads from swapping fd 2 under each other.
    """
    with _STDERR_LOCK:
        sys.stderr.flush()
        saved = os.dup(2)
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            failed = False
            try:
                yield
            except BaseException:
                failed = True
                raise
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                sink.seek(0)
                lines = sink.read().decode("utf-8", "replace").splitlines(keepends=True)
                kept = lines if failed else [line for line in lines if not _START_UP_NOISE.match(line)]
                if kept:
                    sys.stderr.write("".join(kept))
                    sys.stderr.flush()


N_LANDMARKS = 478


@dataclass(frozen=True, slots=True)
class FaceObservation:
    """One face seen in one frame: the one type from the landmarker (here or in the browser, whose
    landmark frames ``live.protocol`` decodes into it) through the scan to the coaching engine.

    ``points_px``: (478, 3) float array; x, y in pixels of the frame, z in MediaPipe's relative depth
    scaled by the frame width (so roughly pixels, positive away from the camera).
    ``blendshapes``: the model's 52 scores in [0, 1], by MediaPipe category name.
    ``matrix``: 4×4 facial transformation matrix (canonical face model → camera space, cm), or None when
    the landmarks came without one (the browser does not send it; nothing measures from it).
    ``image_size``: (width, height) of the frame in pixels. ``timestamp_s``: when the frame was taken.
    ``crease_energy``: :func:`facecoach.coaching.wrinkle.forehead_crease_energy` of the frame, or None
    when it was not computed (the coaching measure ``forehead_wrinkle`` is then unknown).
    ``frown_lines``: :func:`facecoach.vision.frown_lines.frown_lines` of the frame (the vertical creases
    between the brows, read by the neutral check), or None when it was not computed (landmarks from the
    browser) or could not be placed.
    """

    points_px: NDArray[np.float64]
    blendshapes: dict[str, float]
    matrix: NDArray[np.float64] | None
    image_size: tuple[int, int]
    timestamp_s: float = 0.0
    crease_energy: float | None = None
    frown_lines: float | None = None


@dataclass(frozen=True, slots=True)
class FrameResult:
    """Everything the landmarker saw in one frame (``faces`` is empty when there is no face)."""

    timestamp_s: float
    faces: list[FaceObservation] = field(default_factory=list)


class FaceLandmarker:
    """Reusable landmarker over the verified asset.

    ``max_faces`` is above one on purpose for scans: a second face must be *seen* to be refused.
    ``model``: where the asset is read from (the ``model_path`` setting, given by the caller), else the
    installed wheel's; it is checked by SHA-256 either way.
    """

    def __init__(
        self,
        mode: Mode = "image",
        max_faces: int = 2,
        min_confidence: float = 0.5,
        *,
        model: Path | None = None,
    ) -> None:
        from mediapipe.tasks.python import BaseOptions, vision

        self.mode: Mode = mode
        running_mode = vision.RunningMode.VIDEO if mode == "video" else vision.RunningMode.IMAGE
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_buffer=model_bytes(model)),
            running_mode=running_mode,
            num_faces=max_faces,
            min_face_detection_confidence=min_confidence,
            min_face_presence_confidence=min_confidence,
            min_tracking_confidence=min_confidence,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        with native_stderr_captured():
            self._landmarker = vision.FaceLandmarker.create_from_options(options)
        self._last_ts_ms = -1

    def detect(self, rgb: NDArray[np.uint8], timestamp_s: float = 0.0) -> FrameResult:
        """Landmarks of every face in an RGB uint8 (H, W, 3) frame.

        In video mode timestamps must increase; equal or earlier ones are nudged forward by 1 ms.
        """
        import mediapipe as mp

        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 frame (H, W, 3), got {rgb.dtype} {rgb.shape}")
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        if self.mode == "video":
            ts_ms = max(round(timestamp_s * 1000), self._last_ts_ms + 1)
            self._last_ts_ms = ts_ms
            result = self._landmarker.detect_for_video(image, ts_ms)
        else:
            result = self._landmarker.detect(image)
        height, width = rgb.shape[:2]
        faces: list[FaceObservation] = []
        for i, landmarks in enumerate(result.face_landmarks):
            pts = np.array([(p.x * width, p.y * height, p.z * width) for p in landmarks], dtype=np.float64)
            shapes = (
                {c.category_name: float(c.score) for c in result.face_blendshapes[i]}
                if result.face_blendshapes
                else {}
            )
            matrix = (
                np.asarray(result.facial_transformation_matrixes[i], dtype=np.float64)
                if result.facial_transformation_matrixes
                else None
            )
            lines = frown_lines(rgb, pts)
            faces.append(FaceObservation(pts, shapes, matrix, (width, height), timestamp_s, None, lines))
        return FrameResult(timestamp_s=timestamp_s, faces=faces)

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None  # type: ignore[assignment]

    def __enter__(self) -> FaceLandmarker:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class FaceCounter:
    """How many faces a frame holds, from the face detector inside the same verified asset (the Face
    Landmarker's own first stage, without the landmarks: ≈ 3 ms a frame here against ≈ 16 ms for an
    image-mode landmarker with three faces; the same counts on the real clips tried). Close it, or use it
    as a context manager. ``model``: as for :class:`FaceLandmarker`."""

    def __init__(self, min_confidence: float = 0.5, *, model: Path | None = None) -> None:
        import io
        import zipfile

        from mediapipe.tasks.python import BaseOptions, vision

        with zipfile.ZipFile(io.BytesIO(model_bytes(model))) as bundle:
            detector = bundle.read("face_detector.tflite")
        options = vision.FaceDetectorOptions(
            base_options=BaseOptions(model_asset_buffer=detector),
            min_detection_confidence=min_confidence,
        )
        with native_stderr_captured():
            self._detector = vision.FaceDetector.create_from_options(options)
        self._first = True

    def count(self, rgb: NDArray[np.uint8]) -> int:
        """The number of faces in an RGB uint8 (H, W, 3) frame."""
        import mediapipe as mp

        if self._detector is None:
            raise RuntimeError("the face counter is closed")
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 frame (H, W, 3), got {rgb.dtype} {rgb.shape}")
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        if self._first:  # the runtime logs its set-up at the first inference
            with native_stderr_captured():
                result = self._detector.detect(image)
            self._first = False
        else:
            result = self._detector.detect(image)
        return len(result.detections)

    def close(self) -> None:
        if self._detector is not None:
            with native_stderr_captured():
                self._detector.close()
            self._detector = None  # type: ignore[assignment]

    def __enter__(self) -> FaceCounter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
