"""The live-coaching WebSocket wire format: decode and validate one client message at a time.

Pure functions, no I/O, so the browser-facing limits are testable without a socket. The layout is the
one in ``docs/live-protocol.md``; the page's ``static/live/protocol.js`` writes the same bytes.

Binary client message (little-endian)::

    offset size  field
    0      1     version (u8)        = 1
    1      1     kind (u8)           1 landmarks · 2 no face · 3 jpeg
    2      2     flags (u16)         bit 0: a forehead crease energy is present · bit 1: hands block
    4      4     seq (u32)           strictly increasing per connection
    8      8     timestamp_ms (f64)  the frame's capture time, milliseconds, non-decreasing
    16     2     width (u16)         frame width, pixels
    18     2     height (u16)        frame height, pixels
    20     ...   payload

Payload of ``landmarks``: 478×3 float32 (x, y in pixels of the frame, z in MediaPipe's depth scaled by
the width, as :class:`facecoach.vision.landmarks.FaceObservation.points_px`), then 52 float32
blendshape scores in MediaPipe's category order (:data:`BLENDSHAPE_NAMES`), then one float32 crease
energy (ignored unless flag bit 0 is set). With flag bit 1 the landmark payload is followed by the
**hands block**: :data:`HAND_SLOTS` (2) slots of 65 float32 each — score (MediaPipe's handedness
confidence, 0 < s ≤ 1), handedness code (1 ``Left``, 2 ``Right``: MediaPipe's raw label for the
unmirrored frame), then 21×3 float32 (x, y in pixels, z MediaPipe's wrist-relative depth × width). An
empty slot is all zeros. Flag bit 1 with both slots empty means "hands tracked, none seen"; no flag bit 1
means "hands not tracked in this frame". ``no face`` has no payload. ``jpeg`` carries the JPEG bytes.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Literal, cast

import numpy as np
from numpy.typing import NDArray

from facecoach.config import LiveSettings
from facecoach.vision.hands import N_HAND_LANDMARKS, HandObservation, own_side
from facecoach.vision.landmarks import FaceObservation

VERSION = 1
HEADER = struct.Struct("<BBHIdHH")
HEADER_BYTES = HEADER.size  # 20
N_POINTS = 478
#: MediaPipe Face Landmarker's blendshape categories, in the model's output order.
BLENDSHAPE_NAMES: tuple[str, ...] = (
    "_neutral",
    "browDownLeft",
    "browDownRight",
    "browInnerUp",
    "browOuterUpLeft",
    "browOuterUpRight",
    "cheekPuff",
    "cheekSquintLeft",
    "cheekSquintRight",
    "eyeBlinkLeft",
    "eyeBlinkRight",
    "eyeLookDownLeft",
    "eyeLookDownRight",
    "eyeLookInLeft",
    "eyeLookInRight",
    "eyeLookOutLeft",
    "eyeLookOutRight",
    "eyeLookUpLeft",
    "eyeLookUpRight",
    "eyeSquintLeft",
    "eyeSquintRight",
    "eyeWideLeft",
    "eyeWideRight",
    "jawForward",
    "jawLeft",
    "jawOpen",
    "jawRight",
    "mouthClose",
    "mouthDimpleLeft",
    "mouthDimpleRight",
    "mouthFrownLeft",
    "mouthFrownRight",
    "mouthFunnel",
    "mouthLeft",
    "mouthLowerDownLeft",
    "mouthLowerDownRight",
    "mouthPressLeft",
    "mouthPressRight",
    "mouthPucker",
    "mouthRight",
    "mouthRollLower",
    "mouthRollUpper",
    "mouthShrugLower",
    "mouthShrugUpper",
    "mouthSmileLeft",
    "mouthSmileRight",
    "mouthStretchLeft",
    "mouthStretchRight",
    "mouthUpperUpLeft",
    "mouthUpperUpRight",
    "noseSneerLeft",
    "noseSneerRight",
)
N_BLENDSHAPES = len(BLENDSHAPE_NAMES)
LANDMARK_PAYLOAD_BYTES = (N_POINTS * 3 + N_BLENDSHAPES + 1) * 4
LANDMARK_MESSAGE_BYTES = HEADER_BYTES + LANDMARK_PAYLOAD_BYTES  # 5968
FLAG_CREASE = 1
FLAG_HANDS = 2
KNOWN_FLAGS = FLAG_CREASE | FLAG_HANDS
HAND_SLOTS = 2
HAND_SLOT_FLOATS = 2 + N_HAND_LANDMARKS * 3  # score, handedness code, 21 × (x, y, z)
HANDS_BLOCK_BYTES = HAND_SLOTS * HAND_SLOT_FLOATS * 4  # 520
HANDS_MESSAGE_BYTES = LANDMARK_MESSAGE_BYTES + HANDS_BLOCK_BYTES  # 6488
#: The handedness codes of the hands block: MediaPipe's raw label (what the hand looks like).
HAND_LABELS = {1: "Left", 2: "Right"}
HAND_CODES = {label: code for code, label in HAND_LABELS.items()}

# WebSocket close codes (RFC 6455 §7.4.1 plus the application range 4000–4999).
CLOSE_NORMAL = 1000
CLOSE_POLICY = 1008  # malformed message, bad values, too fast
CLOSE_TOO_BIG = 1009  # a message above its size limit
CLOSE_SERVER_ERROR = 1011
CLOSE_TRY_LATER = 1013  # server-side capacity (JPEG mode) is full
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403  # signed in, but the plan does not include live coaching


class Kind(IntEnum):
    LANDMARKS = 1
    NO_FACE = 2
    JPEG = 3


def max_message_bytes(limits: LiveSettings) -> int:
    """The largest message any client may send: what the server should read at most (uvicorn's
    ``ws_max_size``), so an oversized message is refused before it is buffered whole."""
    return max(HANDS_MESSAGE_BYTES, HEADER_BYTES + limits.max_jpeg_bytes, limits.max_control_bytes * 4)


class ProtocolError(ValueError):
    """A client message broke the protocol; ``code`` is the WebSocket close code to answer with."""

    def __init__(self, reason: str, code: int = CLOSE_POLICY) -> None:
        super().__init__(reason)
        self.reason = reason[:120]  # close reasons must fit in 123 bytes
        self.code = code


@dataclass(frozen=True, slots=True)
class Header:
    version: int
    kind: Kind
    flags: int
    seq: int
    timestamp_ms: float
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class LandmarkFrame:
    header: Header
    face: FaceObservation  # the page's landmarks (478 × 3 px), blendshapes and crease energy
    # The hands the page saw in the same frame ([]: none), None when it did not look (no flag bit 1).
    hands: list[HandObservation] | None = None


@dataclass(frozen=True, slots=True)
class NoFaceFrame:
    header: Header


@dataclass(frozen=True, slots=True)
class JpegFrame:
    header: Header
    jpeg: bytes


Frame = LandmarkFrame | NoFaceFrame | JpegFrame

ControlType = Literal["start", "pause", "resume", "skip", "repeat", "done", "finish", "ping"]
CONTROL_TYPES: frozenset[str] = frozenset(
    {"start", "pause", "resume", "skip", "repeat", "done", "finish", "ping"}
)


@dataclass(frozen=True, slots=True)
class Control:
    """A JSON control message: ``{"type": …, "technique": id?, "mode": "landmarks"|"jpeg"?, "reps": n?}``."""

    type: ControlType
    technique: str | None = None
    mode: str | None = None
    reps: int | None = None  # a shorter practice: at most the spec's reps


def encode_header(h: Header) -> bytes:
    return HEADER.pack(h.version, int(h.kind), h.flags, h.seq, h.timestamp_ms, h.width, h.height)


def encode_landmarks(
    seq: int,
    timestamp_ms: float,
    image_size: tuple[int, int],
    points: NDArray[np.floating[Any]],
    blendshapes: dict[str, float],
    crease_energy: float | None,
    hands: list[tuple[float, str, NDArray[np.floating[Any]]]] | None = None,
) -> bytes:
    """The bytes the page sends for one landmark frame (used by tests and the benchmark). ``hands``:
    up to two (score, MediaPipe label, (21, 3) points px) — ``[]`` tracked but none, None not tracked."""
    flags = (FLAG_CREASE if crease_energy is not None else 0) | (FLAG_HANDS if hands is not None else 0)
    h = Header(
        VERSION,
        Kind.LANDMARKS,
        flags,
        seq,
        timestamp_ms,
        image_size[0],
        image_size[1],
    )
    shapes = np.array([blendshapes.get(n, 0.0) for n in BLENDSHAPE_NAMES], dtype="<f4")
    tail = np.array([crease_energy if crease_energy is not None else 0.0], dtype="<f4")
    return b"".join(
        (
            encode_header(h),
            np.asarray(points, dtype="<f4").reshape(-1).tobytes(),
            shapes.tobytes(),
            tail.tobytes(),
            encode_hands(hands) if hands is not None else b"",
        )
    )


def encode_hands(hands: list[tuple[float, str, NDArray[np.floating[Any]]]]) -> bytes:
    """The hands block: two slots, the unused ones zero."""
    if len(hands) > HAND_SLOTS:
        raise ValueError(f"at most {HAND_SLOTS} hands")
    block = np.zeros((HAND_SLOTS, HAND_SLOT_FLOATS), dtype="<f4")
    for i, (score, label, points) in enumerate(hands):
        block[i, 0] = score
        block[i, 1] = HAND_CODES[label]
        block[i, 2:] = np.asarray(points, dtype="<f4").reshape(-1)
    return block.tobytes()


def encode_no_face(seq: int, timestamp_ms: float, image_size: tuple[int, int]) -> bytes:
    return encode_header(Header(VERSION, Kind.NO_FACE, 0, seq, timestamp_ms, image_size[0], image_size[1]))


def encode_jpeg(seq: int, timestamp_ms: float, image_size: tuple[int, int], jpeg: bytes) -> bytes:
    h = Header(VERSION, Kind.JPEG, 0, seq, timestamp_ms, image_size[0], image_size[1])
    return encode_header(h) + jpeg


def decode_frame(data: bytes, limits: LiveSettings) -> Frame:
    """Parse and validate one binary message; raises :class:`ProtocolError` with the close code."""
    header = _decode_header(data, limits)
    if header.kind is Kind.NO_FACE:
        if len(data) != HEADER_BYTES:
            raise ProtocolError("a no-face frame carries no payload")
        return NoFaceFrame(header)
    if header.kind is Kind.JPEG:
        return _jpeg_frame(header, data, limits)
    if header.flags & ~KNOWN_FLAGS:
        raise ProtocolError(f"unknown frame flags {header.flags:#x}")
    if header.flags & FLAG_HANDS:
        hands = _hands(header, data)  # checks the whole message's size first
        return LandmarkFrame(header, _landmark_face(header, data[:LANDMARK_MESSAGE_BYTES]), hands)
    return LandmarkFrame(header, _landmark_face(header, data), None)


def _decode_header(data: bytes, limits: LiveSettings) -> Header:
    """The 20-byte header, checked: the message's size, version, kind, timestamp and frame size."""
    n = len(data)
    if n > max(HANDS_MESSAGE_BYTES, HEADER_BYTES + limits.max_jpeg_bytes):
        raise ProtocolError(f"frame of {n} bytes is too big", CLOSE_TOO_BIG)
    if n < HEADER_BYTES:
        raise ProtocolError(f"frame of {n} bytes is shorter than the {HEADER_BYTES}-byte header")
    version, kind_raw, flags, seq, ts_ms, width, height = HEADER.unpack_from(data, 0)
    if version != VERSION:
        raise ProtocolError(f"unsupported protocol version {version}")
    try:
        kind = Kind(kind_raw)
    except ValueError:
        raise ProtocolError(f"unknown frame kind {kind_raw}") from None
    if not math.isfinite(ts_ms) or ts_ms < 0:
        raise ProtocolError("timestamp is not a finite, non-negative number")
    if not (16 <= width <= limits.max_frame_side and 16 <= height <= limits.max_frame_side):
        raise ProtocolError(f"frame size {width}×{height} is out of range")
    return Header(version, kind, flags, seq, ts_ms, width, height)


def _jpeg_frame(header: Header, data: bytes, limits: LiveSettings) -> JpegFrame:
    """A JPEG frame within the byte and pixel limits (its picture is checked when it is decoded)."""
    size = len(data) - HEADER_BYTES
    if size > limits.max_jpeg_bytes:
        raise ProtocolError(f"JPEG of {size} bytes is too big", CLOSE_TOO_BIG)
    if header.width * header.height > limits.max_jpeg_pixels:
        raise ProtocolError(f"JPEG frame {header.width}×{header.height} has too many pixels", CLOSE_TOO_BIG)
    jpeg = bytes(data[HEADER_BYTES:])
    if len(jpeg) < 4 or jpeg[:2] != b"\xff\xd8":
        raise ProtocolError("payload is not a JPEG")
    return JpegFrame(header, jpeg)


def _landmark_face(header: Header, data: bytes) -> FaceObservation:
    """The landmark payload as the coaching engine's observation: finite landmarks near the frame,
    blendshape scores in [0, 1] and, when flagged, a finite non-negative crease energy."""
    n = len(data)
    if n != LANDMARK_MESSAGE_BYTES:
        code = CLOSE_TOO_BIG if n > LANDMARK_MESSAGE_BYTES else CLOSE_POLICY
        raise ProtocolError(f"landmark frame must be {LANDMARK_MESSAGE_BYTES} bytes, got {n}", code)
    floats = np.frombuffer(data, dtype="<f4", offset=HEADER_BYTES)
    if not np.isfinite(floats[:-1]).all():
        raise ProtocolError("landmark frame contains NaN or infinite values")
    width, height = header.width, header.height
    points = floats[: N_POINTS * 3].astype(np.float64).reshape(N_POINTS, 3)
    # A face may run a little off the frame; coordinates far outside it are not a face (x, y, z in px).
    low = np.array([-width, -height, -2 * width], dtype=np.float64)
    high = np.array([2 * width, 2 * height, 2 * width], dtype=np.float64)
    if ((points < low) | (points > high)).any():
        raise ProtocolError("landmarks lie far outside the frame")
    shapes = floats[N_POINTS * 3 : N_POINTS * 3 + N_BLENDSHAPES]
    if (shapes < -0.01).any() or (shapes > 1.01).any():
        raise ProtocolError("blendshape scores must lie in [0, 1]")
    crease = _crease_energy(float(floats[-1])) if header.flags & FLAG_CREASE else None
    blendshapes = {name: float(v) for name, v in zip(BLENDSHAPE_NAMES, shapes.tolist(), strict=True)}
    return FaceObservation(points, blendshapes, None, (width, height), header.timestamp_ms / 1000.0, crease)


def _hands(header: Header, data: bytes) -> list[HandObservation]:
    """The hands block (flag bit 1): every value finite, points near the frame, a known label and a
    score in (0, 1] for a used slot, nothing at all in an empty one."""
    n = len(data)
    if n != HANDS_MESSAGE_BYTES:
        code = CLOSE_TOO_BIG if n > HANDS_MESSAGE_BYTES else CLOSE_POLICY
        raise ProtocolError(f"a landmark frame with hands must be {HANDS_MESSAGE_BYTES} bytes, got {n}", code)
    block = np.frombuffer(data, dtype="<f4", offset=LANDMARK_MESSAGE_BYTES).reshape(
        HAND_SLOTS, HAND_SLOT_FLOATS
    )
    if not np.isfinite(block).all():
        raise ProtocolError("the hands block contains NaN or infinite values")
    width, height = header.width, header.height
    low = np.array([-width, -height, -2 * width], dtype=np.float64)
    high = np.array([2 * width, 2 * height, 2 * width], dtype=np.float64)
    hands: list[HandObservation] = []
    for slot in block.astype(np.float64):
        score, label_code = float(slot[0]), float(slot[1])
        if label_code == 0:
            if slot.any():
                raise ProtocolError("an empty hand slot must be all zeros")
            continue
        label = HAND_LABELS.get(int(label_code)) if label_code.is_integer() else None
        if label is None:
            raise ProtocolError("handedness must be 1 (Left) or 2 (Right)")
        if not 0 < score <= 1.0:
            raise ProtocolError("a hand's score must lie in (0, 1]")
        points = slot[2:].reshape(N_HAND_LANDMARKS, 3)
        if ((points < low) | (points > high)).any():
            raise ProtocolError("hand points lie far outside the frame")
        hands.append(HandObservation(points, own_side(label, False), score, label, (width, height)))
    return hands


def _crease_energy(value: float) -> float:
    if not math.isfinite(value) or value < 0 or value > 1e6:
        raise ProtocolError("crease energy must be a finite, non-negative number")
    return value


def decode_control(text: str, limits: LiveSettings) -> Control:
    """Parse one JSON control message; unknown types and extra fields are refused."""
    if len(text.encode("utf-8", "surrogatepass")) > limits.max_control_bytes:
        raise ProtocolError("control message is too big", CLOSE_TOO_BIG)
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        raise ProtocolError("control message is not JSON") from None
    if not isinstance(obj, dict):
        raise ProtocolError("control message must be a JSON object")
    kind = obj.get("type")
    if not isinstance(kind, str) or kind not in CONTROL_TYPES:
        raise ProtocolError(f"unknown control type {str(kind)[:40]!r}")
    extra = set(obj) - {"type", "technique", "mode", "reps"}
    if extra:
        raise ProtocolError(f"unexpected field(s) {sorted(extra)[:3]}")
    technique = obj.get("technique")
    if technique is not None and (
        not isinstance(technique, str)
        or not 0 < len(technique) <= 80
        or not technique.replace("-", "").isalnum()
    ):
        raise ProtocolError("technique must be an id like 'smile-lift'")
    mode = obj.get("mode")
    if mode is not None and mode not in ("landmarks", "jpeg"):
        raise ProtocolError("mode must be 'landmarks' or 'jpeg'")
    reps = obj.get("reps")
    if reps is not None and (not isinstance(reps, int) or isinstance(reps, bool) or not 1 <= reps <= 100):
        raise ProtocolError("reps must be a whole number from 1 to 100")
    if kind == "start" and technique is None:
        raise ProtocolError("start needs a technique")
    return Control(type=cast(ControlType, kind), technique=technique, mode=mode, reps=reps)


class RateLimiter:
    """Token bucket: ``rate`` frames per second sustained, ``burst`` at once. Time in seconds."""

    __slots__ = ("_last", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._tokens = float(burst)
        self._last: float | None = None

    def allow(self, now_s: float) -> bool:
        if self._last is not None:
            self._tokens = min(self.burst, self._tokens + (now_s - self._last) * self.rate)
        self._last = now_s
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True
