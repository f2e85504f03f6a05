"""One image-mode Face Landmarker per app, shared by requests under a lock (it is not thread-safe and
loading it costs ~100 ms), plus the annotated picture shown back to the member.

Memory is bounded twice: a picture is decoded at a bounded size (``InputLimits.decode_side_px``), and
at most ``max_in_flight`` scans (``max_per_member`` for one member) decode or landmark at once
(:meth:`Scanner.slot`); each costs at most ~150 MB above idle (``bench/bench_scan_memory.py``).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from facecoach.config import InputLimits
from facecoach.vision.hands import HandTracker
from facecoach.vision.landmarks import FaceLandmarker
from facecoach.vision.scan import MAX_FACES, Scan
from facecoach.vision.scan_photo import analyse_image
from facecoach.vision.sources import decode_image
from facecoach.web.capacity import Slots


class Scanner:
    def __init__(
        self,
        limits: InputLimits,
        model: Path | None = None,
        max_in_flight: int = 2,
        max_per_member: int = 1,
    ) -> None:
        self._lock = threading.Lock()
        self._landmarker: FaceLandmarker | None = None
        self._hands: HandTracker | None = None  # the neutral check's "hand over the face"
        self._limits = limits
        self._model = model
        self.slots = Slots(max_in_flight, max_per_member)

    @contextmanager
    def slot(self, member_id: int) -> Iterator[None]:
        """Hold one of the scan slots for a member's scan; :class:`facecoach.web.capacity.Busy` if full."""
        with self.slots.hold(member_id):
            yield

    def scan_path(self, path: Path) -> Scan:
        """Raises ``SourceError`` (unreadable/too large) or ``ScanRefused`` (no usable face)."""
        picture = decode_image(path, self._limits)
        with self._lock:
            if self._landmarker is None:
                self._landmarker = FaceLandmarker(
                    mode="image", max_faces=MAX_FACES, model=self._model
                ).__enter__()
            if self._hands is None:
                self._hands = HandTracker(mode="image").__enter__()
            return analyse_image(
                picture.rgb, self._landmarker, picture_scale=picture.scale, hands=self._hands
            )

    def close(self) -> None:
        with self._lock:
            if self._landmarker is not None:
                self._landmarker.__exit__(None, None, None)
                self._landmarker = None
            if self._hands is not None:
                self._hands.close()
                self._hands = None


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
