"""A guided check-in: frames in, the member led into the same framing, a short still clip captured and
measured. The same steps serve the CLI (``facecoach checkin VIDEO``, landmarks from Python) and the
check-in page (landmarks computed in the browser and sent, never the video).

**Guiding** (:class:`Guide`, streaming, pure): every frame's :class:`~facecoach.progress.framing.FrameFacts`
are judged by the framing rules; the capture starts once every rule has held for ``hold_s`` and takes
one frame per ``1 / capture_fps`` for ``capture_s`` and at least ``min_frames`` frames (a slow page
captures longer); a frame that fails during it starts the wait again.
Until then the guide says what to fix (the first failing rule).

**Measuring** (:func:`measure_capture`): each captured frame's face and the same frame landmarked
mirrored are averaged (:func:`facecoach.vision.geometry.symmetric_average`: the model's own left-right
bias cancels, as in the scan), measured in mm (:func:`facecoach.vision.asymmetry.measure`), and the
check-in's value is the median over the clip; its *spread* is the frames' robust SD (1.4826 × MAD), kept
with the value so the noise model knows each check-in's own jitter.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from facecoach.progress.framing import FrameFacts, FramingRules, Problem, check_framing, frame_facts
from facecoach.vision.asymmetry import KEYS, measure
from facecoach.vision.geometry import (
    face_aligned_mm,
    head_pose,
    iris_diameters_px,
    mm_per_px,
    symmetric_average,
)
from facecoach.vision.landmarks import FaceLandmarker, FaceObservation

#: A capture needs at least this many measured frames (fewer cannot give a spread).
MIN_CAPTURE_FRAMES = 3


class CheckinMeasures(BaseModel):
    """What a check-in stores: per measure the clip's value and spread (mm, or ° for the midline),
    the frames behind it, and the framing it was taken in (iris px, pose in degrees)."""

    model_config = ConfigDict(extra="forbid")
    values: dict[str, float]
    spread: dict[str, float]
    frames: int = Field(ge=MIN_CAPTURE_FRAMES)
    iris_px: float = Field(gt=0)
    mm_per_px: float = Field(gt=0)
    pose: dict[str, float]


@dataclass
class GuideStep:
    """What the guide says after one frame: ``problem`` to fix (None when framed right), whether the
    frame was taken into the capture, and whether the capture is complete."""

    t: float
    problem: Problem | None
    captured: bool
    done: bool


@dataclass
class Guide:
    """Streaming state of one check-in (see the module docstring). ``reference_iris_px``: the iris size of
    the member's first check-in (later ones must match it), or None."""

    rules: FramingRules
    reference_iris_px: float | None = None
    _ok_since: float | None = None
    _capture_start: float | None = None
    _next_capture: float = 0.0
    captured_times: list[float] = field(default_factory=list)
    problems: dict[str, int] = field(default_factory=dict)
    first_messages: dict[str, str] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return (
            self._capture_start is not None
            and len(self.captured_times) >= self.rules.min_frames
            and (
                self.captured_times[-1] - self._capture_start
                >= self.rules.capture_s - 0.5 / self.rules.capture_fps
            )
        )

    def _restart(self) -> None:
        self._ok_since = None
        self._capture_start = None
        self.captured_times = []

    def step(self, t: float, facts: FrameFacts) -> GuideStep:
        if self.done:
            return GuideStep(t, None, False, True)
        verdict = check_framing(facts, self.rules, self.reference_iris_px)
        if verdict.problem is not None:
            self.problems[verdict.problem.code] = self.problems.get(verdict.problem.code, 0) + 1
            self.first_messages.setdefault(verdict.problem.code, verdict.problem.message)
            self._restart()
            return GuideStep(t, verdict.problem, False, False)
        if self._ok_since is None:
            self._ok_since = t
        if self._capture_start is None and t - self._ok_since >= self.rules.hold_s:
            self._capture_start = t
            self._next_capture = t
        take = self._capture_start is not None and t >= self._next_capture - 1e-9
        if take:
            self.captured_times.append(t)
            self._next_capture = t + 1.0 / self.rules.capture_fps
        return GuideStep(t, None, take, self.done)


@dataclass(frozen=True)
class CapturedFrame:
    """One frame of the capture: the face as seen, the same frame landmarked flipped left-right (the face
    as found in the flipped picture, not mapped back: :func:`~facecoach.vision.geometry.symmetric_average`
    does that), or None, and the frame itself when kept (RGB)."""

    t: float
    face: FaceObservation
    flipped: FaceObservation | None
    rgb: NDArray[np.uint8] | None = None


class CaptureRefused(Exception):
    """The capture cannot be measured; ``message`` says why, for the member."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _robust_sd(column: NDArray[np.float64]) -> float:
    return float(1.4826 * np.median(np.abs(column - np.median(column))))


def measure_capture(frames: Sequence[CapturedFrame]) -> CheckinMeasures:
    """The check-in's measures from its captured frames (see the module docstring)."""
    if len(frames) < MIN_CAPTURE_FRAMES:
        raise CaptureRefused(
            f"only {len(frames)} frame(s) captured: a check-in needs at least {MIN_CAPTURE_FRAMES}"
        )
    faces = [symmetric_average(f.face, f.flipped) if f.flipped is not None else f.face for f in frames]
    try:
        rows = np.array([[measure(face_aligned_mm(face))[k] for k in KEYS] for face in faces])
        scales = [mm_per_px(face) for face in faces]
    except ValueError as exc:  # a degenerate iris contour
        raise CaptureRefused(f"the capture could not be measured: {exc}") from None
    if not np.all(np.isfinite(rows)):
        raise CaptureRefused("the capture could not be measured: the landmarks are degenerate")
    # The framing as the camera saw it (the plain pass): the mirrored pass's pose is not its exact mirror.
    poses = np.array([[p.yaw_deg, p.pitch_deg, p.roll_deg] for p in (head_pose(f.face) for f in frames)])
    yaw, pitch, roll = (float(v) for v in np.median(poses, axis=0))
    return CheckinMeasures(
        values={k: float(v) for k, v in zip(KEYS, np.median(rows, axis=0), strict=True)},
        spread={k: _robust_sd(rows[:, i]) for i, k in enumerate(KEYS)},
        frames=len(frames),
        iris_px=float(np.median([np.mean(iris_diameters_px(f)) for f in faces])),
        mm_per_px=float(np.median(scales)),
        pose={"yaw_deg": yaw, "pitch_deg": pitch, "roll_deg": roll},
    )


@dataclass
class VideoCheckin:
    """The outcome of guiding a recorded video: the capture (empty when it never held) and the guide."""

    guide: Guide
    frames: list[CapturedFrame]
    seen: int


def guide_frames(
    frames: Iterable[tuple[float, NDArray[np.uint8]]],
    rules: FramingRules,
    reference_iris_px: float | None = None,
    *,
    keep_pixels: bool = False,
    model: Path | None = None,
) -> VideoCheckin:
    """Lead a recorded clip through the check-in (the CLI): frames are landmarked as the page does (a
    VIDEO-mode tracker), the captured ones again mirrored (their own tracker), until the capture is done."""
    guide = Guide(rules, reference_iris_px)
    captured: list[CapturedFrame] = []
    seen = 0
    with (
        FaceLandmarker(mode="video", max_faces=2, model=model) as lm,
        FaceLandmarker(mode="video", max_faces=1, model=model) as mirror_lm,
    ):
        for t, rgb in frames:
            seen += 1
            faces = lm.detect(rgb, t).faces
            step = guide.step(t, frame_facts(rgb, faces, rules))
            if step.captured:
                flipped = mirror_lm.detect(np.ascontiguousarray(rgb[:, ::-1]), t).faces
                captured.append(
                    CapturedFrame(t, faces[0], flipped[0] if flipped else None, rgb if keep_pixels else None)
                )
            elif step.problem is not None:
                captured = []
            if step.done:
                break
    if not guide.done:
        captured = []
    return VideoCheckin(guide, captured, seen)


def iter_problems(guide: Guide) -> Iterator[tuple[str, int, str]]:
    """(code, frames, message) of every rule that failed, most frequent first."""
    for code, n in sorted(guide.problems.items(), key=lambda kv: -kv[1]):
        yield code, n, guide.first_messages[code]
