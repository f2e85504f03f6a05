"""The video scan: a still neutral face filmed for a few seconds, frames alternating between a plain and
a mirrored tracker; the result is the mean of the two streams' medians, the noise their pooled robust
spread (see :mod:`facecoach.vision.scan`)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from facecoach.config import InputLimits
from facecoach.vision.asymmetry import KEYS
from facecoach.vision.geometry import HeadPose, unmirror
from facecoach.vision.hands import HandTracker
from facecoach.vision.landmarks import FaceLandmarker
from facecoach.vision.neutral import NeutralCheck, check_neutral, load_neutral_rules
from facecoach.vision.quality import Verdict, check_frame
from facecoach.vision.scan import (
    MAX_FACES,
    Asymmetry,
    Frame,
    FrameMeasure,
    Progress,
    Scan,
    ScanRefused,
    ScanResult,
    measure_face,
    yaw_note,
)
from facecoach.vision.scan_neutral import frequent_traces, neutral_verdict, too_few_frames, trace_notes
from facecoach.vision.sources import SourceError, VideoSource

#: Video frames are scanned at about this rate (every k-th frame). The spread of a still face's
#: measures is a few hundredths of a millimetre per frame (bench/bench_scan.py), so ~60 frames from a
#: 10 s clip already pin the robust average far below what the measures can resolve; more frames
#: would only cost time (the goal: a 10 s, 30 fps clip scanned in under 2 s).
TARGET_SCAN_FPS = 6.0
#: Frame-to-frame spread (mm) above which a clip is not a still face. Synthetic still clips show
#: < 0.1 mm; real footage with small movements 0.1–0.6 mm (jaw line up to ~1.2 mm while smiling).
STILL_SPREAD_MM = 1.0
#: A video is checked for a second person once per this many seconds (see :func:`analyse_frames`).
CROWD_CHECK_S = 1.0


def _refusal_summary(refused: Counter[str]) -> str:
    return ", ".join(f"{n} {code.replace('_', ' ')}" for code, n in refused.most_common())


class _Keeper:
    """A bounded, evenly spread sample of good frames (to pick a representative one at the end)."""

    def __init__(self, size: int = 12) -> None:
        self.size, self.every, self.seen = size, 1, 0
        self.items: list[tuple[NDArray[np.uint8], FrameMeasure]] = []

    def offer(self, rgb: NDArray[np.uint8], m: FrameMeasure) -> None:
        if self.seen % self.every == 0:
            self.items.append((rgb, m))
            if len(self.items) > self.size:
                self.items, self.every = self.items[::2], self.every * 2
        self.seen += 1


def _pooled_noise(groups: list[NDArray[np.float64]]) -> NDArray[np.float64]:
    """Robust SD (1.4826 × MAD) of every column, deviations taken from each group's own median."""
    dev = np.concatenate([g - np.median(g, axis=0) for g in groups if len(g)])
    return np.asarray(1.4826 * np.median(np.abs(dev), axis=0), dtype=np.float64)


@dataclass
class _Streams:
    """What one pass over a clip collected: the good frames' measures per stream, and the refusals."""

    plain: list[FrameMeasure] = field(default_factory=list)
    mirrored: list[FrameMeasure] = field(default_factory=list)
    keeper: _Keeper = field(default_factory=_Keeper)
    refused: Counter[str] = field(default_factory=Counter)
    messages: dict[str, str] = field(default_factory=dict)
    seen: int = 0
    checks: list[NeutralCheck] = field(default_factory=list)  # the neutral checks of the usable frames

    def take(self, rgb: NDArray[np.uint8], verdict: Verdict, m: FrameMeasure | None, flip: bool) -> None:
        if m is not None:
            (self.mirrored if flip else self.plain).append(m)
            self.keeper.offer(rgb, m)
        else:
            self.refused[verdict.code] += 1
            self.messages.setdefault(verdict.code, verdict.message)


def _landmark_streams(
    frames: Iterable[Frame],
    total: int | None,
    symmetric: bool,
    progress: Progress | None,
    model: Path | None,
    require_neutral: bool = True,
) -> _Streams:
    """Landmark and gate every frame (plain and mirrored in turn), checking for a crowd once a second."""
    streams = _Streams()
    crowd_verdict = Verdict("ok", "ok")
    next_crowd_check = -math.inf
    with (
        FaceLandmarker(mode="video", max_faces=1, model=model) as lm,
        FaceLandmarker(mode="video", max_faces=1, model=model) as mirror_lm,
        FaceLandmarker(mode="image", max_faces=MAX_FACES, model=model) as crowd_lm,
        HandTracker(mode="video") as hand_tracker,
    ):
        for t, frame in frames:
            rgb = np.ascontiguousarray(frame)
            if t >= next_crowd_check:
                crowd = crowd_lm.detect(rgb).faces
                crowd_verdict = check_frame(rgb, crowd) if len(crowd) > 1 else Verdict("ok", "ok")
                next_crowd_check = t + CROWD_CHECK_S
            flip = symmetric and streams.seen % 2 == 1
            if flip:
                faces = [unmirror(f) for f in mirror_lm.detect(np.ascontiguousarray(rgb[:, ::-1]), t).faces]
            else:
                faces = lm.detect(rgb, t).faces
            streams.seen += 1
            hands = hand_tracker.detect(rgb, t).hands  # every frame: the tracker follows a hand
            verdict = crowd_verdict if not crowd_verdict.ok else check_frame(rgb, faces)
            if verdict.ok and require_neutral:
                check = check_neutral(faces[0], hands=hands)
                verdict = neutral_verdict(check)
                if verdict.ok:
                    streams.checks.append(check)
            streams.take(rgb, verdict, measure_face(faces[0], t) if verdict.ok else None, flip)
            if progress is not None:
                progress(streams.seen, total or streams.seen)
    return streams


def _stream_notes(streams: _Streams, symmetric: bool, step_note: str | None) -> list[str]:
    notes: list[str] = [step_note] if step_note else []
    if streams.refused:
        n_refused = sum(streams.refused.values())
        notes.append(f"{n_refused} of {streams.seen} frames refused ({_refusal_summary(streams.refused)})")
    if not symmetric:
        notes.append("single pass: the landmark model's own left-right bias is not cancelled")
    elif not streams.plain or not streams.mirrored:
        notes.append(
            "only one of the plain/mirrored streams had usable frames: the model's bias is not cancelled"
        )
    return notes


def _noise(pooled: NDArray[np.float64], n_measures: int, notes: list[str]) -> Asymmetry | None:
    """The noise estimate (None below three frames), with a note when the face was not still."""
    if n_measures < 3:
        notes.append(f"only {n_measures} usable frame(s): no noise estimate")
        return None
    noise = Asymmetry(**{k: float(v) for k, v in zip(KEYS, pooled, strict=True)})
    spread = max(v for k, v in noise.model_dump().items() if k.endswith("_mm"))
    if spread > STILL_SPREAD_MM:
        notes.append(
            f"the face moved or changed expression (frame-to-frame spread up to {spread:.1f} mm): "
            "for a precise scan keep a still, neutral face for the whole clip"
        )
    return noise


def analyse_frames(
    frames: Iterable[Frame],
    total: int | None = None,
    symmetric: bool = True,
    progress: Progress | None = None,
    step_note: str | None = None,
    *,
    model: Path | None = None,
    require_neutral: bool = True,
) -> Scan:
    """Scan a still-face clip given as ``(timestamp_s, rgb)`` frames (timestamps increasing).

    Speed without losing the bias cancellation: frames alternate between a plain and a mirrored
    video-mode landmarker (each tracks its own stream, one landmark pass a frame), and the result is
    the mean of the two streams' medians — the model's left-right bias is systematic, so it cancels
    between the streams just as within a mirrored photo pass. Both trackers look for one face only (a
    landmarker asked for more faces re-runs its detector on every frame, doubling the cost), so once a
    second a separate image-mode pass with ``MAX_FACES`` checks that nobody else is in the picture.
    """
    streams = _landmark_streams(frames, total, symmetric, progress, model, require_neutral)
    if streams.seen == 0:
        raise ScanRefused("unreadable", "the video has no frames that can be decoded")
    measures = streams.plain + streams.mirrored
    if not measures:
        code, _ = streams.refused.most_common(1)[0]
        raise ScanRefused(code, f"no usable frame in {streams.seen}: {streams.messages[code]}")
    needed = min(load_neutral_rules().video.min_usable_frames, streams.seen) if require_neutral else 1
    if len(measures) < needed:
        code, _ = streams.refused.most_common(1)[0]
        summary = too_few_frames(len(measures), streams.seen, needed, streams.refused)
        raise ScanRefused(code, f"{summary}. Mostly: {streams.messages[code]}")
    notes = _stream_notes(streams, symmetric, step_note)
    notes.extend(trace_notes(frequent_traces(streams.checks)))
    groups = [
        np.array([[m.values[k] for k in KEYS] for m in g], dtype=np.float64)
        for g in (streams.plain, streams.mirrored)
        if g
    ]
    centre = np.mean([np.median(g, axis=0) for g in groups], axis=0)
    pooled = _pooled_noise(groups)  # once: the noise estimate and the representative frame's scale
    noise = _noise(pooled, len(measures), notes)
    pose = np.median([[m.pose.yaw_deg, m.pose.pitch_deg, m.pose.roll_deg] for m in measures], axis=0)
    notes.extend(yaw_note(float(pose[0])))
    result = ScanResult(
        head_pose=HeadPose(yaw_deg=float(pose[0]), pitch_deg=float(pose[1]), roll_deg=float(pose[2])),
        mm_per_px=float(np.median([m.mm_per_px for m in measures])),
        frames_used=len(measures),
        asymmetry=Asymmetry(**{k: float(v) for k, v in zip(KEYS, centre, strict=True)}),
        noise_mm=noise,
        notes=notes,
        kind="video",
        iris_px=float(np.median([m.iris_px for m in measures])),
    )
    scale = np.maximum(pooled, 1e-3)
    rep_frame, rep = min(
        streams.keeper.items,
        key=lambda item: float(
            np.sum(np.abs((np.array([item[1].values[k] for k in KEYS]) - centre) / scale))
        ),
    )
    return Scan(result, rep_frame, rep, tuple(measures))


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def video_step(fps: float, target_fps: float = TARGET_SCAN_FPS) -> int:
    """Scan every k-th frame so that about ``target_fps`` frames per second are measured."""
    return max(1, round(fps / target_fps))


def analyse_video(
    path: Path,
    limits: InputLimits,
    step: int | None = None,
    symmetric: bool = True,
    progress: Progress | None = None,
    *,
    model: Path | None = None,
    require_neutral: bool = True,
) -> Scan:
    """Scan a video file of a still neutral face; ``step`` = scan every k-th frame (default ≈ 10/s)."""
    try:
        with VideoSource(Path(path), limits) as video:
            k = step or video_step(video.info.fps)
            total = math.ceil(video.info.frame_count / k) if video.info.frame_count else None
            note = (
                f"every {_ordinal(k)} frame scanned "
                f"({video.info.fps / k:.1f} of {video.info.fps:.1f} frames/s)"
                if k > 1
                else None
            )
            scan = analyse_frames(
                video.frames(k),
                total,
                symmetric,
                progress,
                note,
                model=model,
                require_neutral=require_neutral,
            )
            if video.hit_limit:
                scan.result.notes.append(
                    f"only the first {limits.max_video_seconds:.0f} s were scanned (the length limit)"
                )
            elif video.ended_early:
                scan.result.notes.append(
                    f"the video stopped decoding after {video.frames_read} of its {video.info.frame_count} "
                    "frames (truncated or damaged file): only those were scanned"
                )
            return scan
    except SourceError as exc:
        raise ScanRefused(exc.code, exc.message) from None


def scan_video(
    source: Path | str | Iterable[Frame],
    step: int | None = None,
    symmetric: bool = True,
    progress: Progress | None = None,
    *,
    limits: InputLimits | None = None,
    require_neutral: bool = True,
) -> ScanResult:
    """Scan a video file (path, read within ``limits``, required then) or an iterable of
    ``(timestamp_s, rgb)`` frames."""
    if isinstance(source, (str, Path)):
        if limits is None:
            raise TypeError("scan_video needs the input limits to read a file")
        return analyse_video(
            Path(source), limits, step, symmetric, progress, require_neutral=require_neutral
        ).result
    frames: Iterator[Frame] = iter(source)
    if step and step > 1:
        frames = (f for i, f in enumerate(source) if i % step == 0)
    return analyse_frames(frames, None, symmetric, progress, require_neutral=require_neutral).result
