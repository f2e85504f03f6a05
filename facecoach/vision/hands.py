"""MediaPipe Hand Landmarker wrapper (RGB frames in, :class:`HandObservation` out) and hands in face mm.

One landmarker is reused across frames (VIDEO running mode for a video or the webcam, IMAGE mode for
stills) over the verified bundle (:mod:`facecoach.vision.hand_model`), and must be closed explicitly,
like :class:`facecoach.vision.landmarks.FaceLandmarker`. Use it as a context manager.

**Which hand.** MediaPipe's handedness label is what the hand *looks like* in a selfie-mirrored picture
of a palm. Two flips decide what it means: a mirrored frame flips it, and so does seeing the back of the
hand instead of the palm. In a massage the palm is on the face, so the camera sees the back of the
hand: in an unmirrored frame the label then names the person's own hand (checked on
``woman_expressions_24fps.mp4``: her right hand, seen from the back, is labelled ``Right``, and
``Left`` in the flipped frame). :class:`HandTracker` reports the person's own side under that pose;
pass ``mirrored=True`` for a selfie-mirrored frame. A palm shown to the camera reads the other way —
for strokes it does not matter, because a stroke's side is where it runs on the face, not which hand
makes it.

**Face frame.** :func:`hand_in_face_mm` puts hand points into the pose-free face frame of
:mod:`facecoach.vision.geometry` (x towards the person's left, y down, mm scaled by the iris), using the
face landmarks of the same frame. A hand doing a massage lies on the skin, so each hand point takes the
depth of the face surface under it (interpolated from the nearest face landmarks in the image); the
hand model's own depth is relative to its wrist and cannot place it against the face.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from facecoach.vision import landmark_ids as ids
from facecoach.vision.geometry import fit_pose, mm_per_px
from facecoach.vision.hand_model import hand_model_bytes
from facecoach.vision.landmarks import FaceObservation, Mode, native_stderr_captured

HandSide = Literal["left", "right"]
WorkingPointKind = Literal["fingertips", "hand"]

N_HAND_LANDMARKS = 21
WRIST = 0
THUMB_TIP = 4
INDEX_MCP = 5
INDEX_TIP = 8
MIDDLE_MCP = 9
MIDDLE_TIP = 12
RING_MCP = 13
PINKY_MCP = 17
PINKY_TIP = 20
#: The pads that stroke in a hand massage.
FINGERTIPS = (INDEX_TIP, MIDDLE_TIP)
#: The palm (wrist and knuckles): its centre stands for a tool held in the hand.
PALM = (WRIST, INDEX_MCP, MIDDLE_MCP, RING_MCP, PINKY_MCP)

_DEPTH_NEIGHBOURS = 4
#: Two hands whose boxes overlap more than this are one hand seen twice.
DUPLICATE_IOU = 0.3


@dataclass(frozen=True, slots=True)
class HandObservation:
    """One detected hand in one frame.

    ``points_px``: (21, 3) float array in MediaPipe's hand-landmark order; x, y in pixels of the frame,
    z MediaPipe's depth relative to the wrist scaled by the frame width (roughly pixels).
    ``side``: the person's own hand (see the module docstring); ``label`` MediaPipe's raw handedness
    label and ``score`` its confidence in it (0.5–1).
    """

    points_px: NDArray[np.float64]
    side: HandSide
    score: float
    label: str
    image_size: tuple[int, int]  # (width, height) in pixels


@dataclass(frozen=True, slots=True)
class HandFrame:
    """Every hand seen in one frame (``hands`` empty when there is none)."""

    timestamp_s: float
    hands: list[HandObservation] = field(default_factory=list)


def own_side(label: str, mirrored: bool) -> HandSide:
    """The person's own hand from MediaPipe's label, for a hand seen from the back (the massage pose)."""
    side: HandSide = "left" if label.strip().lower() == "left" else "right"
    if mirrored:
        return "right" if side == "left" else "left"
    return side


class HandTracker:
    """Reusable Hand Landmarker over the verified bundle; ``max_hands`` 2 (a massage uses both).

    ``model``: where the bundle is read from (given by the caller), else ``var/models`` as built by
    ``make install``; it is checked either way.
    """

    def __init__(
        self,
        mode: Mode = "video",
        max_hands: int = 2,
        min_confidence: float = 0.5,
        mirrored: bool = False,
        *,
        model: Path | None = None,
    ) -> None:
        from mediapipe.tasks.python import BaseOptions, vision

        self.mode: Mode = mode
        self.mirrored = mirrored
        running_mode = vision.RunningMode.VIDEO if mode == "video" else vision.RunningMode.IMAGE
        options = vision.HandLandmarkerOptions(
            base_options=BaseOptions(model_asset_buffer=hand_model_bytes(model)),
            running_mode=running_mode,
            num_hands=max_hands,
            min_hand_detection_confidence=min_confidence,
            min_hand_presence_confidence=min_confidence,
            min_tracking_confidence=min_confidence,
        )
        with native_stderr_captured():
            self._landmarker = vision.HandLandmarker.create_from_options(options)
        self._last_ts_ms = -1
        self._first = True
        self._previous: list[HandObservation] = []

    def detect(self, rgb: NDArray[np.uint8], timestamp_s: float = 0.0) -> HandFrame:
        """Hands in an RGB uint8 (H, W, 3) frame; in video mode equal or earlier times are nudged +1 ms."""
        import mediapipe as mp

        if self._landmarker is None:
            raise RuntimeError("the hand tracker is closed")
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 frame (H, W, 3), got {rgb.dtype} {rgb.shape}")
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        if self._first:  # LiteRT logs a buffer re-allocation at the first inference
            with native_stderr_captured():
                result = self._run(image, timestamp_s)
            self._first = False
        else:
            result = self._run(image, timestamp_s)
        height, width = rgb.shape[:2]
        hands: list[HandObservation] = []
        for i, landmarks in enumerate(result.hand_landmarks):
            pts = np.array([(p.x * width, p.y * height, p.z * width) for p in landmarks], dtype=np.float64)
            category = result.handedness[i][0] if result.handedness and result.handedness[i] else None
            label = category.category_name if category is not None else ""
            score = float(category.score) if category is not None else 0.0
            hands.append(HandObservation(pts, own_side(label, self.mirrored), score, label, (width, height)))
        hands = drop_duplicate_hands(hands, self._previous)
        self._previous = hands
        return HandFrame(timestamp_s=timestamp_s, hands=hands)

    def _run(self, image: Any, timestamp_s: float) -> Any:
        if self.mode == "video":
            ts_ms = max(round(timestamp_s * 1000), self._last_ts_ms + 1)
            self._last_ts_ms = ts_ms
            return self._landmarker.detect_for_video(image, ts_ms)
        return self._landmarker.detect(image)

    def close(self) -> None:
        if self._landmarker is not None:
            with native_stderr_captured():  # LiteRT logs its accelerators' teardown on fd 2
                self._landmarker.close()
            self._landmarker = None

    def __enter__(self) -> HandTracker:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _box_iou(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    """Intersection over union of the image bounding boxes of two hands' points."""
    lo = np.maximum(a[:, :2].min(axis=0), b[:, :2].min(axis=0))
    hi = np.minimum(a[:, :2].max(axis=0), b[:, :2].max(axis=0))
    inter = float(np.prod(np.clip(hi - lo, 0, None)))
    area_a = float(np.prod(np.ptp(a[:, :2], axis=0)))
    area_b = float(np.prod(np.ptp(b[:, :2], axis=0)))
    union = area_a + area_b - inter
    return inter / union if union > 0 else 0.0


def drop_duplicate_hands(
    hands: list[HandObservation], previous: list[HandObservation], max_iou: float = DUPLICATE_IOU
) -> list[HandObservation]:
    """One hand seen twice (overlapping boxes, one labelled left and one right) is kept once.

    MediaPipe sometimes returns the same hand as two hands of opposite handedness (measured on a real hand
    pasted on a real face: boxes overlapping by IoU ≈ 0.6). Of an overlapping pair the one that goes on
    from the previous frame (same label as the previous hand nearest it) is kept, else the more confident.
    """
    kept: list[HandObservation] = []
    for hand in sorted(hands, key=lambda h: (-_continues(h, previous), -h.score)):
        if all(_box_iou(hand.points_px, other.points_px) <= max_iou for other in kept):
            kept.append(hand)
    return kept


def _continues(hand: HandObservation, previous: list[HandObservation]) -> bool:
    if not previous:
        return False
    centre = hand.points_px[:, :2].mean(axis=0)
    nearest = min(previous, key=lambda p: float(np.linalg.norm(p.points_px[:, :2].mean(axis=0) - centre)))
    return nearest.label == hand.label


def surface_depth_px(face: FaceObservation, xy_px: NDArray[np.float64]) -> NDArray[np.float64]:
    """Depth (MediaPipe's width-scaled z) of the face surface under image points (N, 2), in pixels.

    Inverse-distance weighting of the nearest face landmarks in the image: inside the face it follows
    the mesh; beyond its outline (the neck) it continues the outline's depth.
    """
    face_pts = np.asarray(face.points_px, dtype=np.float64)
    d = np.linalg.norm(xy_px[:, None, :] - face_pts[None, :, :2], axis=2)
    nearest = np.argsort(d, axis=1)[:, :_DEPTH_NEIGHBOURS]
    dist = np.take_along_axis(d, nearest, axis=1)
    weights = 1.0 / np.maximum(dist, 0.5) ** 2
    return (weights * face_pts[nearest, 2]).sum(axis=1) / weights.sum(axis=1)


def hand_in_face_mm(hand: HandObservation, face: FaceObservation) -> NDArray[np.float64]:
    """(21, 3) hand points in the face frame in mm: the same transform as ``geometry.face_aligned_mm``.

    Origin midway between the four eye corners, the head pose undone, scaled by the iris; each point
    placed on the face surface under it (see the module docstring). Raises ``ValueError`` when the face
    gives no scale (degenerate iris) or the frames differ in size.
    """
    if hand.image_size != face.image_size:
        raise ValueError(f"hand and face come from different frames: {hand.image_size} vs {face.image_size}")
    face_pts = np.asarray(face.points_px, dtype=np.float64)
    hand_xy = np.asarray(hand.points_px, dtype=np.float64)[:, :2]
    pts = np.column_stack([hand_xy, surface_depth_px(face, hand_xy)])
    origin = face_pts[list(ids.EYE_CORNERS)].mean(axis=0)
    return (pts - origin) @ fit_pose(face).rotation * mm_per_px(face)


def working_point(hand_mm: NDArray[np.float64], kind: WorkingPointKind = "fingertips") -> tuple[float, float]:
    """The point that strokes, (x, y) in face mm: the index and middle fingertips' mean, or for a tool
    held in the hand (``"hand"``) the palm's centre (the tool's edge itself is not tracked)."""
    chosen = FINGERTIPS if kind == "fingertips" else PALM
    xy = np.asarray(hand_mm, dtype=np.float64)[list(chosen), :2].mean(axis=0)
    return float(xy[0]), float(xy[1])
