"""The hands block of a landmark frame (issue 13, docs/live-protocol.md): round trips, the page's encoder
against the Python decoder, every bad hand payload refused with a close code (never 1011), and a live
session fed real hands over the socket: strokes and faults back as events, the step completed from
strokes only."""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from facecoach.config import LiveSettings
from facecoach.live.protocol import (
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    FLAG_HANDS,
    HAND_SLOT_FLOATS,
    HANDS_MESSAGE_BYTES,
    LANDMARK_MESSAGE_BYTES,
    LandmarkFrame,
    ProtocolError,
    decode_frame,
    encode_landmarks,
    max_message_bytes,
)
from tests.live.test_socket import FAST, _client, _closed, _hello

LIMITS = LiveSettings()
RNG = np.random.default_rng(5)
FACE = RNG.uniform(50, 400, (478, 3))
HAND = RNG.uniform(50, 400, (21, 3))


def _frame(hands: list | None, seq: int = 1, ts: float = 0.0) -> bytes:
    return encode_landmarks(seq, ts, (640, 480), FACE, {}, 1.0, hands)


def _with_slot_value(index: int, value: float) -> bytes:
    """A valid two-hand frame with one float of the hands block replaced."""
    data = bytearray(_frame([(0.9, "Right", HAND), (0.8, "Left", HAND + 10)]))
    struct.pack_into("<f", data, LANDMARK_MESSAGE_BYTES + 4 * index, value)
    return bytes(data)


def test_hands_round_trip_and_old_frames_still_decode() -> None:
    frame = decode_frame(_frame([(0.9, "Right", HAND), (0.75, "Left", HAND + 5)]), LIMITS)
    assert isinstance(frame, LandmarkFrame) and frame.hands is not None
    assert [(h.label, h.side) for h in frame.hands] == [("Right", "right"), ("Left", "left")]
    assert frame.hands[0].score == pytest.approx(0.9) and frame.hands[0].image_size == (640, 480)
    np.testing.assert_allclose(frame.hands[1].points_px, HAND + 5, rtol=1e-6)
    np.testing.assert_allclose(frame.face.points_px, FACE, rtol=1e-6)
    assert frame.face.crease_energy == pytest.approx(1.0)
    looked = decode_frame(_frame([]), LIMITS)
    assert isinstance(looked, LandmarkFrame) and looked.hands == []  # looked, none seen
    old = decode_frame(_frame(None), LIMITS)  # a page without hands: the 5968-byte frame of before
    assert isinstance(old, LandmarkFrame) and old.hands is None
    assert len(_frame(None)) == LANDMARK_MESSAGE_BYTES and len(_frame([])) == HANDS_MESSAGE_BYTES
    assert max_message_bytes(LIMITS) >= HANDS_MESSAGE_BYTES


@pytest.mark.parametrize(
    ("index", "value", "words"),
    [
        (5, float("nan"), "NaN"),  # a hand point
        (0, float("inf"), "NaN"),  # a score
        (HAND_SLOT_FLOATS + 1, float("-inf"), "NaN"),  # the second slot's handedness
        (1, 3.0, "handedness"),
        (1, 1.5, "handedness"),
        (0, 0.0, "score"),
        (0, 1.5, "score"),
        (2, 1e7, "outside the frame"),
        (HAND_SLOT_FLOATS + 1, 0.0, "empty hand slot"),  # emptied, but its points are still there
    ],
)
def test_bad_hand_values_are_refused(index: int, value: float, words: str) -> None:
    with pytest.raises(ProtocolError) as err:
        decode_frame(_with_slot_value(index, value), LIMITS)
    assert err.value.code == CLOSE_POLICY and words in err.value.reason


def test_bad_hand_sizes_and_flags_are_refused() -> None:
    good = _frame([(0.9, "Right", HAND)])
    with pytest.raises(ProtocolError) as short:
        decode_frame(good[:-4], LIMITS)  # flag bit 1 but the block cut short
    assert short.value.code == CLOSE_POLICY
    with pytest.raises(ProtocolError) as long:
        decode_frame(good + b"\0" * 4, LIMITS)
    assert long.value.code == CLOSE_TOO_BIG
    no_flag = bytearray(good)
    struct.pack_into("<H", no_flag, 2, 1)  # the hands block without flag bit 1: not a landmark frame
    with pytest.raises(ProtocolError):
        decode_frame(bytes(no_flag), LIMITS)
    unknown = bytearray(_frame(None))
    struct.pack_into("<H", unknown, 2, 1 | 8)
    with pytest.raises(ProtocolError) as flags:
        decode_frame(bytes(unknown), LIMITS)
    assert "flags" in flags.value.reason


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=520, max_size=520))
def test_any_hands_block_decodes_or_raises_a_protocol_error(block: bytes) -> None:
    data = _frame([])[:LANDMARK_MESSAGE_BYTES] + block
    try:
        frame = decode_frame(data, LIMITS)
    except ProtocolError as exc:
        assert exc.code in (CLOSE_POLICY, CLOSE_TOO_BIG)
        return
    assert isinstance(frame, LandmarkFrame) and frame.hands is not None and len(frame.hands) <= 2
    for hand in frame.hands:
        assert np.isfinite(hand.points_px).all() and 0 < hand.score <= 1


JS_HANDS = """async ([points, face]) => {
  const p = await import('/live-static/protocol.js');
  const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)));
  const hands = [{score: 0.875, label: "Left", points},
                 {score: 0.5, label: "Right", points: points.map(v => v + 1)}];
  return {
    two: b64(p.encodeLandmarks(7, 99.5, 640, 480, face, [], null, hands)),
    none: b64(p.encodeLandmarks(8, 100.5, 640, 480, face, [], null, [])),
    off: b64(p.encodeLandmarks(9, 101.5, 640, 480, face, [], null, null)),
    sizes: [p.LANDMARK_MESSAGE_BYTES, p.HANDS_MESSAGE_BYTES, p.FLAG_HANDS],
  };
}"""


def test_js_hands_encoder_matches_the_python_decoder(static_page: Any) -> None:
    got = static_page.evaluate(
        JS_HANDS, [[float(v) for v in HAND.reshape(-1)], [float(v) for v in FACE.reshape(-1)]]
    )
    assert got["sizes"] == [LANDMARK_MESSAGE_BYTES, HANDS_MESSAGE_BYTES, FLAG_HANDS]
    two = decode_frame(base64.b64decode(got["two"]), LIMITS)
    assert isinstance(two, LandmarkFrame) and two.hands is not None
    assert [(h.label, h.score) for h in two.hands] == [("Left", 0.875), ("Right", 0.5)]
    np.testing.assert_allclose(two.hands[0].points_px, HAND, rtol=1e-6)
    np.testing.assert_allclose(two.hands[1].points_px, HAND + 1, rtol=1e-6)
    none = decode_frame(base64.b64decode(got["none"]), LIMITS)
    off = decode_frame(base64.b64decode(got["off"]), LIMITS)
    assert isinstance(none, LandmarkFrame) and none.hands == []
    assert isinstance(off, LandmarkFrame) and off.hands is None


# -- over the socket ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("index", [5, 0, 1])
def test_a_bad_hands_block_closes_with_1008_not_1011(live_app: Any, index: int) -> None:
    live_app.limits(**FAST)
    with (
        _client(live_app, live_app.member(fresh=False)) as client,
        client.websocket_connect("/live/ws") as ws,
    ):
        _hello(ws)
        ws.send_text(json.dumps({"type": "start", "technique": "cheek-release"}))
        step = ws.receive_json()
        assert step["hands"] == "every" and step["strokes_per_side"] == 3
        ws.send_bytes(_frame([(0.9, "Right", HAND)]))
        assert ws.receive_json()["type"] == "frame"
        bad = bytearray(_with_slot_value(index, float("nan")))
        struct.pack_into("<I", bad, 4, 2)  # the next sequence number
        ws.send_bytes(bytes(bad))
        code, reason = _closed(ws)
    assert code == CLOSE_POLICY and "NaN" in reason, (code, reason)
