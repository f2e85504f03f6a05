"""One image-mode Face Landmarker per app, shared by requests under a lock (it is not thread-safe and
loading it costs ~100 ms), plus the annotated picture shown back to the member."""

from __future__ import annotations

import io
import threading
from pathlib import Path

from facecoach.vision.landmarks import FaceLandmarker
from facecoach.vision.scan import MAX_FACES, Scan, analyse_image
from facecoach.vision.sources import read_image


class Scanner:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._landmarker: FaceLandmarker | None = None

    def scan_path(self, path: Path) -> Scan:
        """Raises ``SourceError`` (unreadable/too large) or ``ScanRefused`` (no usable face)."""
        rgb = read_image(path)
        with self._lock:
            if self._landmarker is None:
                self._landmarker = FaceLandmarker(mode="image", max_faces=MAX_FACES).__enter__()
            return analyse_image(rgb, self._landmarker)

    def close(self) -> None:
        with self._lock:
            if self._landmarker is not None:
                self._landmarker.__exit__(None, None, None)
                self._landmarker = None


def annotated_jpeg(scan: Scan, max_side: int = 720) -> bytes:
    """The frame with the scan's landmarks and measures drawn by :mod:`facecoach.vision.annotate`."""
    from PIL import Image

    from facecoach.vision import annotate

    picture = annotate.annotate(scan)
    image = Image.fromarray(picture)
    image.thumbnail((max_side, max_side))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()
