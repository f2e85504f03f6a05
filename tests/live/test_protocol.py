"""The codec and the per-connection state on their own: any bytes or text give a ProtocolError (never
another exception), the token bucket, and the session's step bookkeeping."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from facecoach.config import LiveSettings
from facecoach.live.protocol import (
    BLENDSHAPE_NAMES,
    HEADER,
    LANDMARK_MESSAGE_BYTES,
    LandmarkFrame,
    ProtocolError,
    RateLimiter,
    decode_control,
    decode_frame,
    encode_landmarks,
)

LIMITS = LiveSettings()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=6000))
def test_any_bytes_decode_or_raise_a_protocol_error(data: bytes) -> None:
    try:
        decode_frame(data, LIMITS)
    except ProtocolError as exc:
        assert exc.code in (1008, 1009) and exc.reason


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 255),
    st.integers(0, 255),
    st.floats(allow_nan=True),
    st.integers(0, 70000),
    st.integers(0, 70000),
)
def test_headers_with_any_values_decode_or_raise(version: int, kind: int, ts: float, w: int, h: int) -> None:
    head = HEADER.pack(version, kind, 1, 1, ts, min(w, 65535), min(h, 65535))
    try:
        frame = decode_frame(head + b"\0" * (LANDMARK_MESSAGE_BYTES - HEADER.size), LIMITS)
    except ProtocolError as exc:
        assert exc.code in (1008, 1009) and exc.reason
        return
    # Whatever is accepted obeys the limits: a finite, non-negative time and a frame size in range.
    header = frame.header
    assert math.isfinite(header.timestamp_ms) and header.timestamp_ms >= 0
    assert (
        header.timestamp_ms == ts and ts >= 0
    )  # sent as a double: exactly what was sent, and never negative
    assert 16 <= header.width <= LIMITS.max_frame_side and 16 <= header.height <= LIMITS.max_frame_side
    assert (header.width, header.height) == (min(w, 65535), min(h, 65535))


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=300),
        st.dictionaries(
            st.text(max_size=12),
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                lambda kids: (
                    st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=5), kids, max_size=3)
                ),
                max_leaves=8,
            ),
            max_size=4,
        ).map(json.dumps),
    )
)
def test_any_text_is_a_control_or_a_protocol_error(text: str) -> None:
    try:
        msg = decode_control(text, LIMITS)
    except ProtocolError as exc:
        assert exc.code in (1008, 1009)
    else:
        assert msg.type in ("start", "pause", "resume", "skip", "repeat", "done", "finish", "ping")


def test_landmark_frames_round_trip() -> None:
    rng = np.random.default_rng(3)
    pts = rng.uniform(0, 480, (478, 3))
    shapes = {n: float(rng.uniform(0, 1)) for n in BLENDSHAPE_NAMES}
    data = encode_landmarks(7, 1234.5, (640, 480), pts, shapes, 2.25)
    assert len(data) == LANDMARK_MESSAGE_BYTES
    frame = decode_frame(data, LIMITS)
    assert isinstance(frame, LandmarkFrame)
    assert frame.header.seq == 7 and frame.header.timestamp_ms == 1234.5
    assert (frame.header.width, frame.header.height) == (640, 480)
    np.testing.assert_allclose(frame.face.points_px, pts, rtol=1e-6)  # float32 on the wire
    assert frame.face.blendshapes == pytest.approx(shapes, abs=1e-6)
    assert frame.face.crease_energy == pytest.approx(2.25)
    # The coaching engine's own observation type: the frame's size and time, no transformation matrix.
    assert (frame.face.image_size, frame.face.timestamp_s, frame.face.matrix) == ((640, 480), 1.2345, None)
    without = decode_frame(encode_landmarks(8, 0.0, (640, 480), pts, shapes, None), LIMITS)
    assert isinstance(without, LandmarkFrame) and without.face.crease_energy is None


def test_token_bucket_allows_the_rate_and_refuses_above_it() -> None:
    bucket = RateLimiter(rate=60, burst=30)
    # 15 fps for a minute: always allowed.
    assert all(bucket.allow(i / 15) for i in range(900))
    # 120 fps: allowed while the burst lasts, then refused.
    fast = RateLimiter(rate=60, burst=30)
    results = [fast.allow(i / 120) for i in range(240)]
    assert all(results[:30]) and not all(results)
    assert sum(results) <= 30 + 60 * 2 + 1  # the burst plus 60 a second, no more


def test_limits_are_settings(monkeypatch: Any) -> None:
    monkeypatch.setenv("FACECOACH_LIVE_MAX_FPS", "24")
    monkeypatch.setenv("FACECOACH_LIVE_MAX_JPEG_BYTES", "100000")
    limits = LiveSettings()
    assert limits.max_fps == 24 and limits.max_jpeg_bytes == 100_000
    with pytest.raises(ValueError):
        LiveSettings(max_fps=-1)
