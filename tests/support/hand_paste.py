"""Real hands moved along known paths over real faces (see ../shared/TESTING-VISION.md, §5).

A hand is cut out of a real video frame — the hand landmarks' hull, dilated, refined with
``cv2.grabCut`` — and pasted frame by frame (alpha-blended, feathered edge) onto a real face photo, with
its working point (index and middle fingertips) moved along a chosen path. Pasted hands have a straight
edge where the source frame cut the wrist off; the Hand Landmarker still tracks them. Look at the
composites (``save_contact_sheet``) when changing anything here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from facecoach.vision.hands import FINGERTIPS, HandTracker


@dataclass(frozen=True)
class HandCutout:
    """An RGBA patch of a real hand and its working point (x, y px) inside the patch."""

    rgba: NDArray[np.uint8]
    working_point: tuple[float, float]


def read_frame(video: Path, index: int) -> NDArray[np.uint8]:
    cap = cv2.VideoCapture(str(video))
    try:
        cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, bgr = cap.read()
        if not ok:
            raise ValueError(f"{video.name} has no frame {index}")
        return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    finally:
        cap.release()


def hand_points_in_clip(video: Path, index: int) -> tuple[NDArray[np.uint8], NDArray[np.float64]]:
    """Frame ``index`` of a clip and its hand's 21 points (px), tracked in VIDEO mode up to that frame."""
    cap = cv2.VideoCapture(str(video))
    fps = cap.get(cv2.CAP_PROP_FPS)
    points = None
    rgb = None
    try:
        with HandTracker(mode="video", max_hands=1) as tracker:
            for i in range(index + 1):
                ok, bgr = cap.read()
                if not ok:
                    raise ValueError(f"{video.name} ends before frame {index}")
                rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
                frame = tracker.detect(rgb, i / fps)
                points = frame.hands[0].points_px if frame.hands else None
    finally:
        cap.release()
    if points is None or rgb is None:
        raise ValueError(f"no hand in frame {index} of {video.name}")
    return rgb, points


def cut_hand(rgb: NDArray[np.uint8], points_px: NDArray[np.float64], dilate_px: int = 14) -> HandCutout:
    """The hand under ``points_px`` cut out of ``rgb`` with GrabCut (hull dilated = probable foreground)."""
    h, w = rgb.shape[:2]
    hull = cv2.convexHull(np.round(points_px[:, :2]).astype(np.int32))
    inside = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(inside, hull, 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate_px + 1, 2 * dilate_px + 1))
    probable = cv2.dilate(inside, kernel)
    sure = cv2.erode(inside, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9)))
    mask = np.full((h, w), cv2.GC_BGD, np.uint8)
    mask[probable > 0] = cv2.GC_PR_BGD
    mask[inside > 0] = cv2.GC_PR_FGD
    mask[sure > 0] = cv2.GC_FGD
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    # GrabCut's GMM initialisation draws from OpenCV's global RNG: without a fixed seed the cut-out (and
    # every clip made from it) depends on what else ran in the process before, so a test saw other frames
    # in the full suite than alone. Seed 0 gives the cut-out of a fresh process.
    cv2.setRNGSeed(0)
    cv2.grabCut(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), mask, None, bgd, fgd, 5, cv2.GC_INIT_WITH_MASK)
    alpha = np.where((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    alpha = cv2.GaussianBlur(alpha, (5, 5), 0)
    ys, xs = np.nonzero(alpha)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    rgba = np.dstack([rgb[y0:y1, x0:x1], alpha[y0:y1, x0:x1]])
    tip = points_px[list(FINGERTIPS), :2].mean(axis=0)
    return HandCutout(np.ascontiguousarray(rgba), (float(tip[0] - x0), float(tip[1] - y0)))


def scaled(cutout: HandCutout, factor: float) -> HandCutout:
    rgba = cv2.resize(cutout.rgba, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    wx, wy = cutout.working_point
    return HandCutout(np.ascontiguousarray(rgba), (wx * factor, wy * factor))


def paste(face: NDArray[np.uint8], cutout: HandCutout, at: tuple[float, float]) -> NDArray[np.uint8]:
    """``face`` with the hand pasted so that its working point lands on ``at`` (x, y px); clipped."""
    out = face.astype(np.float32).copy()
    ph, pw = cutout.rgba.shape[:2]
    x0 = round(at[0] - cutout.working_point[0])
    y0 = round(at[1] - cutout.working_point[1])
    fx0, fy0 = max(x0, 0), max(y0, 0)
    fx1, fy1 = min(x0 + pw, face.shape[1]), min(y0 + ph, face.shape[0])
    if fx1 <= fx0 or fy1 <= fy0:
        return face.copy()
    patch = cutout.rgba[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0].astype(np.float32)
    alpha = patch[..., 3:4] / 255.0
    out[fy0:fy1, fx0:fx1] = alpha * patch[..., :3] + (1 - alpha) * out[fy0:fy1, fx0:fx1]
    return np.ascontiguousarray(np.clip(out, 0, 255).astype(np.uint8))


@dataclass(frozen=True)
class Leg:
    """One leg of a hand's journey: to ``to`` (px) in ``seconds``; ``visible=False``: lifted out of view."""

    to: tuple[float, float]
    seconds: float
    visible: bool = True


def journey(
    start: tuple[float, float], legs: Sequence[Leg], fps: float = 24.0
) -> Iterator[tuple[float, tuple[float, float] | None]]:
    """(t_s, working point px or None when lifted away) at ``fps``, moving at constant speed per leg."""
    t = 0.0
    here = np.array(start, dtype=np.float64)
    yield t, (float(here[0]), float(here[1]))
    for leg in legs:
        there = np.array(leg.to, dtype=np.float64)
        n = max(round(leg.seconds * fps), 1)
        for k in range(1, n + 1):
            t += 1.0 / fps
            p = here + (there - here) * k / n
            yield t, ((float(p[0]), float(p[1])) if leg.visible else None)
        here = there


def save_contact_sheet(frames: Sequence[NDArray[np.uint8]], path: Path, every: int = 6) -> None:
    """A strip of every ``every``-th frame, to look at the composites by eye."""
    picked = [cv2.resize(f, (256, 256)) for f in frames[::every]][:12]
    rows = [np.hstack(picked[i : i + 6]) for i in range(0, len(picked), 6)]
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows]
    cv2.imwrite(str(path), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))


def mirrored(cutout: HandCutout) -> HandCutout:
    """The same hand flipped left↔right: a right hand becomes a left hand."""
    width = cutout.rgba.shape[1]
    return HandCutout(
        np.ascontiguousarray(cutout.rgba[:, ::-1]),
        (width - 1 - cutout.working_point[0], cutout.working_point[1]),
    )


@dataclass(frozen=True)
class FacePixels:
    """Where the stroke coordinates lie on a face photo, from its own landmarks (px)."""

    right_x: float
    left_x: float
    top_y: float
    chin_y: float

    def px(self, x: float, y: float) -> tuple[float, float]:
        return (self.right_x + x * (self.left_x - self.right_x), self.top_y + y * (self.chin_y - self.top_y))


def face_pixels(points_px: NDArray[np.float64]) -> FacePixels:
    return FacePixels(
        float(points_px[234, 0]), float(points_px[454, 0]), float(points_px[10, 1]), float(points_px[152, 1])
    )


@dataclass(frozen=True)
class Composite:
    """A pasted-hand sequence run through the real trackers: per frame (t_s, working points mm, face box)."""

    frames: list[tuple[float, list[tuple[float, float]], object]]
    hand_frames: int  # frames where a hand was pasted
    found_frames: int  # … and the Hand Landmarker found one
    images: list[NDArray[np.uint8]]


def run_composite(
    face: NDArray[np.uint8],
    cutout: HandCutout,
    start: tuple[float, float],
    legs: Sequence[Leg],
    fps: float = 24.0,
    kind: str = "fingertips",
    noise_sd: float = 3.0,
    seed: int = 0,
) -> Composite:
    """Paste the hand along the journey and run the Face and Hand Landmarkers (VIDEO mode) on every frame.

    Every frame gets its own Gaussian sensor noise (``noise_sd`` grey levels), as a camera does: without
    it a resting hand would be the very same picture frame after frame, and its landmarks would not
    jitter at all.
    """
    rng = np.random.default_rng(seed)
    from facecoach.coaching.strokes import face_box
    from facecoach.vision.geometry import face_aligned_mm
    from facecoach.vision.hands import hand_in_face_mm, working_point
    from facecoach.vision.landmarks import FaceLandmarker

    frames: list[tuple[float, list[tuple[float, float]], object]] = []
    images: list[NDArray[np.uint8]] = []
    pasted = found = 0
    with HandTracker(mode="video") as hands, FaceLandmarker(mode="video", max_faces=1) as faces:
        for t, at in journey(start, legs, fps):
            image = paste(face, cutout, at) if at is not None else face.copy()
            if noise_sd > 0:
                noisy = image.astype(np.float32) + rng.normal(0.0, noise_sd, image.shape).astype(np.float32)
                image = np.ascontiguousarray(np.clip(noisy, 0, 255).astype(np.uint8))
            images.append(image)
            seen = hands.detect(image, t)
            result = faces.detect(image, t)
            pasted += at is not None
            found += at is not None and bool(seen.hands)
            if not result.faces:
                frames.append((t, [], None))
                continue
            f = result.faces[0]
            points = [working_point(hand_in_face_mm(h, f), kind) for h in seen.hands]  # type: ignore[arg-type]
            frames.append((t, points, face_box(face_aligned_mm(f))))
    return Composite(frames, pasted, found, images)


def calibrated(face: NDArray[np.uint8], cutout: HandCutout, at: tuple[float, float]) -> HandCutout:
    """The cutout with its working point where the Hand Landmarker finds the fingertips once pasted.

    The model places the fingertips of a pasted hand a little differently from where it placed them in the
    source frame (measured: ≈ 30 px on a 170 px hand); the path a test asks for is the path of the
    detected working point, so the offset is measured once, on ``face`` at ``at``, and taken off.
    """
    image = paste(face, cutout, at)
    with HandTracker(mode="video", max_hands=1) as tracker:
        seen = [tracker.detect(image, i / 24.0) for i in range(6)][-1]
    if not seen.hands:
        raise ValueError(f"the pasted hand is not found at {at}")
    tip = seen.hands[0].points_px[list(FINGERTIPS), :2].mean(axis=0)
    wx, wy = cutout.working_point
    return HandCutout(cutout.rgba, (wx + float(tip[0] - at[0]), wy + float(tip[1] - at[1])))
