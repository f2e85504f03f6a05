"""The audit's fast hands (:class:`facecoach.vision.sparse_hands.SparseHandTracker`) with two real hands:
a hand cut out of the woman_expressions clip strokes one cheek of a real face photo, and its mirror image
comes to the other cheek 1.5 s in and leaves 2 s later (tests/support/hand_paste.py, camera noise added).

Lane B, which looks for a second hand beside the first, probes less often than lane A (audit.yaml's
``second_hand_probe_s``); its skipped frames are analysed afresh on a hit, so the second hand must be found
in the same frames as with lane A's probe interval, and where it was pasted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from facecoach.coaching.audit_settings import load_audit_settings
from facecoach.coaching.hand_checks import load_hand_settings
from facecoach.vision.landmarks import FaceLandmarker
from facecoach.vision.sparse_hands import SparseHandTracker
from tests.coaching.test_strokes import CLIP, EAR, HAND_FRAME, NOSE_SIDE, _mirror
from tests.support.hand_paste import Leg, cut_hand, face_pixels, hand_points_in_clip, journey, mirrored, paste

FPS = 12.0  # the audit's analysed frames of a 24 fps video
Frames = list[tuple[float, NDArray[np.uint8], bool]]  # t_s, RGB, the second hand pasted


@pytest.fixture(scope="module")
def two_hands(shared_data: Path) -> Frames:
    rgb, points = hand_points_in_clip(shared_data / CLIP, HAND_FRAME)
    right = cut_hand(rgb, points)
    left = mirrored(right)
    face = np.ascontiguousarray(np.asarray(Image.open(shared_data / "happy_f15.jpg").convert("RGB")))
    with FaceLandmarker(mode="image", max_faces=1) as lm:
        fp = face_pixels(lm.detect(face).faces[0].points_px)
    nose, ear = fp.px(*NOSE_SIDE), fp.px(*EAR)
    first = journey(nose, [Leg(ear, 1.0), Leg(nose, 1.0)] * 3, FPS)
    other_nose, other_ear = fp.px(*_mirror(NOSE_SIDE)), fp.px(*_mirror(EAR))
    legs = [
        Leg(other_ear, 1.5, visible=False),
        Leg(other_nose, 0.1),
        Leg(other_ear, 1.0),
        Leg(other_nose, 1.0),
    ]
    second = journey(other_ear, [*legs, Leg(other_nose, 2.4, visible=False)], FPS)
    rng = np.random.default_rng(0)
    frames: Frames = []
    next(first), next(second)  # a journey's first point is always shown: the second hand is not there yet
    for (t, a), (_t, b) in zip(first, second, strict=True):
        image = paste(face, right, a) if a is not None else face
        if b is not None:
            image = paste(image, left, b)
        noisy = image.astype(np.float32) + rng.normal(0.0, 3.0, image.shape).astype(np.float32)
        frames.append((t, np.ascontiguousarray(np.clip(noisy, 0, 255).astype(np.uint8)), b is not None))
    return frames


def _hands_per_frame(frames: Frames, second_probe_s: float) -> list[int]:
    s = load_hand_settings()
    with SparseHandTracker(s.probe_s, s.rewind_s, second_probe_s=second_probe_s) as tracker:
        for t, rgb, _second in frames:
            tracker.push(rgb, t)
        return [len(frame.hands) for frame in tracker.finish()]


def test_a_second_hand_is_found_where_it_is_with_the_audits_slower_second_probe(two_hands: Frames) -> None:
    slow = load_audit_settings().second_hand_probe_s
    assert slow > load_hand_settings().probe_s  # the point of the setting
    found = _hands_per_frame(two_hands, slow)
    assert found == _hands_per_frame(two_hands, load_hand_settings().probe_s)
    pasted = [i for i, (_t, _rgb, second) in enumerate(two_hands) if second]
    both = [i for i, n in enumerate(found) if n == 2]
    assert both, found
    # within 0.25 s of where it was pasted (the palm detector takes a few frames to see a hand coming in)
    assert abs(both[0] - pasted[0]) <= 3 and abs(both[-1] - pasted[-1]) <= 3, (both, pasted)
    assert len(both) >= 0.85 * len(pasted)  # found in (nearly) every frame it is in
    assert max(found) == 2 and sum(n == 2 for n in found[: pasted[0]]) == 0  # never before it came
