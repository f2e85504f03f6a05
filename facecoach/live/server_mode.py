"""Mode ``jpeg``: the server finds the face in the page's JPEG frames (the page could not run the model).

One :class:`ServerLandmarker` per connection: the Python Face Landmarker in VIDEO mode (it tracks from
frame to frame) and the forehead crease energy, so the coaching engine gets the same
:class:`facecoach.vision.landmarks.FaceObservation` the page would have sent in landmarks mode.
"""

from __future__ import annotations

from facecoach.live.protocol import CLOSE_POLICY, CLOSE_TOO_BIG, JpegFrame, ProtocolError
from facecoach.vision.jpeg import JpegError, decode_jpeg
from facecoach.vision.landmarks import FaceObservation


class ServerLandmarker:
    """The landmarker and crease energy for one connection. Blocking (CPU): call it from a thread."""

    def __init__(self) -> None:
        from facecoach.vision.landmarks import FaceLandmarker

        self._lm = FaceLandmarker(mode="video", max_faces=1)

    def process(self, frame: JpegFrame) -> FaceObservation | None:
        """The face in the frame (None: no face); :class:`ProtocolError` when it is not the JPEG its
        header announced (1009 for a picture too big to decode)."""
        from facecoach.coaching.audit import with_crease_energy

        try:
            rgb = decode_jpeg(frame.jpeg, (frame.header.width, frame.header.height))
        except JpegError as exc:
            raise ProtocolError(exc.reason, CLOSE_TOO_BIG if exc.too_big else CLOSE_POLICY) from None
        found = self._lm.detect(rgb, frame.header.timestamp_ms / 1000.0)
        if not found.faces:
            return None
        return with_crease_energy(found.faces[0], rgb)

    def close(self) -> None:
        self._lm.close()
