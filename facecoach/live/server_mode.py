"""Mode ``jpeg``: the server finds the face and the hands in the page's JPEG frames (the page could not
run the models).

One :class:`ServerLandmarker` per connection: the Python Face Landmarker in VIDEO mode (it tracks from
frame to frame), the forehead crease energy and — when the step asks for hands — the Hand Landmarker
over the same verified bundle the page uses (VIDEO mode, created on first use), so the coaching engine
gets the same :class:`facecoach.vision.landmarks.FaceObservation` and hands the page would have sent in
landmarks mode.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from facecoach.live.protocol import CLOSE_POLICY, CLOSE_TOO_BIG, JpegFrame, ProtocolError
from facecoach.vision.hands import HandObservation
from facecoach.vision.jpeg import JpegError, decode_jpeg
from facecoach.vision.landmarks import FaceObservation

if TYPE_CHECKING:
    from facecoach.vision.hands import HandTracker


class ServerLandmarker:
    """The landmarkers and crease energy for one connection. Blocking (CPU): call it from a thread."""

    def __init__(self) -> None:
        from facecoach.vision.landmarks import FaceLandmarker

        self._lm = FaceLandmarker(mode="video", max_faces=1)
        self._hands: HandTracker | None = None

    def process(
        self, frame: JpegFrame, hands: bool = False
    ) -> tuple[FaceObservation | None, list[HandObservation] | None]:
        """The face in the frame (None: no face) and, with ``hands``, the hands in it (None without);
        :class:`ProtocolError` when it is not the JPEG its header announced (1009 for a picture too big
        to decode)."""
        from facecoach.coaching.audit import with_crease_energy

        try:
            rgb = decode_jpeg(frame.jpeg, (frame.header.width, frame.header.height))
        except JpegError as exc:
            raise ProtocolError(exc.reason, CLOSE_TOO_BIG if exc.too_big else CLOSE_POLICY) from None
        t = frame.header.timestamp_ms / 1000.0
        found = self._lm.detect(rgb, t)
        seen: list[HandObservation] | None = None
        if hands:
            if self._hands is None:
                from facecoach.vision.hands import HandTracker

                self._hands = HandTracker(mode="video", max_hands=2)
            seen = self._hands.detect(rgb, t).hands
        if not found.faces:
            return None, seen
        return with_crease_energy(found.faces[0], rgb), seen

    def close(self) -> None:
        self._lm.close()
        if self._hands is not None:
            self._hands.close()
            self._hands = None
