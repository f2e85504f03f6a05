"""The video audit: the coaching engine over a recorded video → a timeline of reps, holds and faults.

Two ways: :func:`audit_video` for one named exercise (``facecoach audit VIDEO --technique ID``), and
:func:`audit_any` for any tutorial (segments, techniques recognised, wrinkling, over-use and a verdict:
:mod:`facecoach.coaching.tutorial`). Both analyse the whole video first and then calibrate on its first
neutral stretch (:func:`facecoach.coaching.calibration.find_neutral_stretch`), so a video that starts
mid-expression is measured from a face at rest, frames before that stretch included; when there is no
neutral stretch, the most relaxed one is used and the result says so.

Frames are read with :mod:`facecoach.vision.sources` (content-sniffed, size- and length-limited), the
Face Landmarker runs in VIDEO mode, the forehead crease energy is computed from each analysed frame,
and the same streaming :class:`Evaluator` as live coaching turns them into events. Because the
evaluator is timed by timestamps, the audit analyses every ``round(fps / analysis_fps)``-th frame
(``coaching/data/audit.yaml``: 10/s asked, so 12/s at 24 fps and 10/s at 30 fps — the engine's and the
stroke cutter's lowest supported rate; lower or uneven rates were measured to lose strokes); the other
frames are decoded but not converted, and an annotated video still gets every frame. On a machine with
more than one core the analysed frames alternate between two landmarkers on two threads. Two gates skip
work where the pixels say nothing happened (``audit.yaml``, :mod:`facecoach.vision.still_gate`): an
analysed frame whose face region did not change takes the previous frame's landmarks (one frame in a row
at most), and the hands put their palm-detector probe off while nothing changes near the face.
"""

from __future__ import annotations

import contextlib
import math
import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, TypeVar

import cv2
import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict

from facecoach.coaching.audit_settings import load_audit_settings
from facecoach.coaching.calibration import (
    Calibration,
    CalibrationError,
    NeutralStretch,
    calibrate,
    find_neutral_stretch,
)
from facecoach.coaching.evaluator import Evaluator, Event, Fault, usable
from facecoach.coaching.hand_audit import (
    load_hand_settings,
    massage_movements,
    presence,
    spans,
    stroke_inputs,
    with_strokes,
)
from facecoach.coaching.massage_audit import MassageOut, StrokeOut, massage_out, strokes_out
from facecoach.coaching.segments import HandPresence
from facecoach.coaching.specs import CoachingSpec, EvaluationSettings, UnknownTechniqueError, spec_by_id
from facecoach.coaching.stroke_specs import StrokeSpec, stroke_spec
from facecoach.coaching.strokes import analyse_strokes
from facecoach.coaching.tutorial import CalibrationOut, TutorialResult, review_video
from facecoach.coaching.wrinkle import forehead_crease_energy
from facecoach.config import InputLimits
from facecoach.vision.hands import HandFrame, HandTracker
from facecoach.vision.landmarks import FaceCounter, FaceLandmarker, FaceObservation
from facecoach.vision.sources import SourceError, VideoSource, file_kind
from facecoach.vision.sparse_hands import SparseHandTracker
from facecoach.vision.still_gate import GateSettings, GreyFrame, grey_frame, unchanged

T = TypeVar("T")
ProgressCallback = Callable[[int, int], None]  # (frames done, frames in total; 0 if unknown)


PREFETCH_FRAMES = 4
_DONE = object()


def read_ahead(items: Iterator[T], size: int) -> Generator[T, None, None]:
    """Run an iterator in a background thread, ``size`` items ahead (OpenCV decodes without the GIL).

    An exception in the producer is re-raised in the consumer; closing the consumer stops the producer.
    """
    box: queue.Queue[object] = queue.Queue(maxsize=size)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the consumer
            put(exc)

    worker = threading.Thread(target=produce, name="audit-decode", daemon=True)
    worker.start()
    try:
        while True:
            item = box.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join(timeout=5)


class AuditError(ValueError):
    """The audit cannot run on this input (the message is one line a person can act on)."""


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


#: start_s/end_s of the frames calibrated on, and the neutral check: ``neutral`` False when the video
#: has no neutral stretch (``reasons`` why the one used is not), ``waited_s`` of video before it,
#: ``rereferenced`` (start_s, end_s) of each re-reference after the head turned away and back.
AuditCalibration = CalibrationOut


class AuditHold(_Out):
    start_s: float
    end_s: float
    seconds: float
    completed: bool


class AuditFault(_Out):
    kind: str
    side: Literal["left", "right", "both", "midline"] | None
    start_s: float
    end_s: float
    cue: str


class AuditHandSpan(_Out):
    """A stretch with a hand on or near the face (s)."""

    start_s: float
    end_s: float


class AuditResult(_Out):
    """Exactly the JSON of the ``facecoach audit --json`` contract (times in seconds)."""

    technique: str
    fps: float
    duration_s: float
    calibration: AuditCalibration
    reps: int
    holds: list[AuditHold]
    faults: list[AuditFault]
    hands: list[AuditHandSpan] = []
    strokes: list[StrokeOut] = []  # a massage's strokes (empty for an exercise)
    massage: MassageOut | None = None  # a massage's dose and completion, from its strokes


@dataclass(frozen=True)
class AnalysedFrame:
    """What the audit saw in one analysed frame (used for annotation and by tests)."""

    timestamp_s: float
    face: FaceObservation | None
    events: list[Event]


def _largest(faces: list[FaceObservation]) -> FaceObservation | None:
    if not faces:
        return None
    return max(faces, key=lambda f: float(np.ptp(f.points_px[:, 0])))


def with_crease_energy(face: FaceObservation | None, rgb: NDArray[np.uint8]) -> FaceObservation | None:
    """The face with the forehead crease energy of its frame (None when there is no face; the energy is
    None when the eye corners are too close to place the forehead patch)."""
    if face is None:
        return None
    try:
        crease: float | None = forehead_crease_energy(rgb, face.points_px)
    except ValueError:
        crease = None
    return replace(face, crease_energy=crease)


def _analyse_one(landmarker: FaceLandmarker, t: float, rgb: NDArray[np.uint8]) -> FaceObservation | None:
    return with_crease_energy(_largest(landmarker.detect(rgb, t).faces), rgb)


HandLane = HandTracker | SparseHandTracker
#: Hand frames handed to the hand thread and not yet done (their pictures are kept): the most at a time.
HAND_BACKLOG = 8


class _HandThread:
    """The hands of every analysed frame, found in order on a thread of their own; at most
    ``HAND_BACKLOG`` frames wait for it (their pictures are kept until it is done with them)."""

    def __init__(self, hands: HandLane) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.hands = hands
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="audit-hands")
        self.backlog: deque[Future[None]] = deque()
        self.found: list[HandFrame] = []

    def _step(self, rgb: NDArray[np.uint8], t: float, still: bool) -> None:
        if isinstance(self.hands, SparseHandTracker):
            self.hands.push(rgb, t, still)
        else:
            self.found.append(self.hands.detect(rgb, t))

    def submit(self, rgb: NDArray[np.uint8], t: float, still: bool = False) -> None:
        """Hand a frame over; ``still``: nothing changed near the face since the previous frame."""
        self.backlog.append(self.pool.submit(self._step, rgb, t, still))
        while len(self.backlog) > HAND_BACKLOG:
            self.backlog.popleft().result()

    def finish(self) -> list[HandFrame]:
        while self.backlog:
            self.backlog.popleft().result()
        return self.hands.finish() if isinstance(self.hands, SparseHandTracker) else self.found


@dataclass
class AnalysisStats:
    """What the frame loop did (for the bench and the tests): ``analysed`` frames the Face Landmarker ran
    on, ``reused`` frames that took the previous frame's landmarks (the still-face gate)."""

    analysed: int = 0
    reused: int = 0
    hand_still: int = 0  # frames the hands were told nothing changed near the face
    frames_read: int = 0  # frames decoded (analysed or not)


def _still_near_face(
    grey: GreyFrame | None,
    previous: GreyFrame | None,
    face: FaceObservation | None,
    gate: GateSettings | None,
) -> bool:
    """Nothing changed near the face (its box grown by ``gate.margin``) since the previous frame."""
    if gate is None or grey is None or previous is None or face is None:
        return False
    return unchanged(grey, previous, face.points_px, gate)


class _FaceLanes:
    """The Face Landmarker over the analysed frames, the results in the frames' order.

    Frames alternate between the landmarkers (one thread each, one frame in flight per lane). With a
    ``gate``, a frame whose face region is unchanged from the last frame the model ran on (see
    :mod:`facecoach.vision.still_gate`) takes that frame's landmarks, at most ``gate.max_reuse`` in a
    row. The gate places the face by the latest result already handed out, which depends only on the
    frame's position in the video (never on the threads' timing), so an audit is reproducible.
    """

    def __init__(
        self, lms: list[FaceLandmarker], gate: GateSettings | None, stats: AnalysisStats | None
    ) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.lms = lms
        self.pools = [ThreadPoolExecutor(1, thread_name_prefix=f"audit-lm-{i}") for i in range(len(lms))]
        self.gate = gate
        self.stats = stats if stats is not None else AnalysisStats()
        self.pending: deque[tuple[float, Future[FaceObservation | None] | None]] = deque()
        self.reference: GreyFrame | None = None  # the last frame the model ran on, as the gate sees it
        self.streak = 0  # frames in a row that took the reference's landmarks
        self.last: FaceObservation | None = None  # the previous frame's result handed out
        self.known: FaceObservation | None = None  # the latest face handed out (places the gate's box)

    def _reusable(self, grey: GreyFrame | None) -> bool:
        if self.gate is None or grey is None or self.reference is None or self.known is None:
            return False
        if self.streak >= self.gate.max_reuse:
            return False
        return unchanged(grey, self.reference, self.known.points_px, self.gate)

    def submit(self, t: float, rgb: NDArray[np.uint8], grey: GreyFrame | None = None) -> None:
        """Hand a frame over (``grey``: its grey picture, when a gate is on)."""
        if self._reusable(grey):
            self.pending.append((t, None))
            self.streak += 1
            self.stats.reused += 1
            return
        lane = self.stats.analysed % len(self.lms)
        self.pending.append((t, self.pools[lane].submit(_analyse_one, self.lms[lane], t, rgb)))
        self.reference, self.streak = grey, 0
        self.stats.analysed += 1

    @property
    def full(self) -> bool:
        return len(self.pending) > len(self.lms)

    def settled(self) -> tuple[float, FaceObservation | None]:
        """The oldest frame's face (a reused frame: the previous frame's, with its own time)."""
        t, future = self.pending.popleft()
        if future is None:
            face = None if self.last is None else replace(self.last, timestamp_s=t)
        else:
            face = future.result()
        self.last = face
        if face is not None:
            self.known = face
        return t, face

    def close(self) -> None:
        for pool in self.pools:
            pool.shutdown(wait=True, cancel_futures=True)


def analyse(
    frames: Iterable[tuple[float, NDArray[np.uint8]]],
    landmarker: FaceLandmarker,
    second: FaceLandmarker | None = None,
    hands: HandLane | None = None,
    hand_frames: list[HandFrame] | None = None,
    *,
    gate: GateSettings | None = None,
    hand_gate: GateSettings | None = None,
    stats: AnalysisStats | None = None,
) -> Iterator[tuple[float, FaceObservation | None]]:
    """Landmarks + crease energy for (timestamp_s, RGB) frames: the slow, cacheable half of an audit.

    With a ``second`` landmarker, frames alternate between the two, each on its own thread (MediaPipe
    runs without the GIL), so both cores work; each tracker still sees its frames in time order, and
    the results come out in the frames' order. With a ``gate``, a frame whose face region did not change
    takes the previous frame's landmarks (:class:`_FaceLanes`; ``stats`` counts them). With a
    ``hand_gate``, a :class:`SparseHandTracker` is told which frames changed nothing near the face (it
    puts its probes off over them). With ``hands``, the
    hands are found on a thread of its own, every analysed frame in order: by a :class:`HandTracker` on
    each frame (the thorough way), or by a :class:`SparseHandTracker` (the same hands for about half the
    cost, see :mod:`facecoach.vision.sparse_hands`). Their :class:`HandFrame` s are appended to
    ``hand_frames`` in the frames' order once every frame is analysed.
    """
    stats_ = stats if stats is not None else AnalysisStats()
    lanes = _FaceLanes([landmarker] if second is None else [landmarker, second], gate, stats_)
    hand_thread = _HandThread(hands) if hands is not None else None
    previous: GreyFrame | None = None
    gated = gate is not None or (hand_thread is not None and hand_gate is not None)
    try:
        for t, rgb in frames:
            grey = grey_frame(rgb) if gated else None  # once a frame, for every gate's check
            if hand_thread is not None:
                still = _still_near_face(grey, previous, lanes.known, hand_gate)
                stats_.hand_still += still
                hand_thread.submit(rgb, t, still)
            lanes.submit(t, rgb, grey)
            previous = grey
            if lanes.full:  # one in flight per lane
                yield lanes.settled()
        while lanes.pending:
            yield lanes.settled()
        if hand_thread is not None:
            (hand_frames if hand_frames is not None else []).extend(hand_thread.finish())
    finally:
        lanes.close()
        if hand_thread is not None:
            hand_thread.pool.shutdown(wait=True, cancel_futures=True)


def neutral_calibration(
    frames: list[tuple[float, FaceObservation | None]], settings: EvaluationSettings
) -> tuple[Calibration, NeutralStretch]:
    """Calibrate on the first neutral stretch of analysed frames (or the most relaxed one, marked so).

    Raises :class:`AuditError` when no face is ever usable long enough to calibrate on.
    """
    faces = [(t, f if f is not None and usable(f) else None) for t, f in frames]
    stretch = find_neutral_stretch(
        faces, settings.calibration_s, settings.calibration_min_frames, settings.max_gap_s
    )
    if stretch is None or len(stretch.frames) < settings.calibration_min_frames:
        raise AuditError("no usable face: the video never shows a face long enough to calibrate on")
    try:
        cal = calibrate(stretch.frames)
    except CalibrationError:
        raise AuditError("no usable face: the irises are never clear enough to calibrate on") from None
    return replace(cal, is_neutral=stretch.neutral, reasons=stretch.reasons), stretch


def calibration_out(cal: Calibration, stretch: NeutralStretch) -> CalibrationOut:
    return CalibrationOut(
        start_s=_r(cal.start_s),
        end_s=_r(cal.end_s),
        neutral=stretch.neutral,
        reasons=list(stretch.reasons),
        waited_s=_r(stretch.waited_s),
        rereferenced=[(_r(a), _r(b)) for a, b in cal.rereferences],
    )


def evaluate(
    inputs: Iterable[tuple[float, FaceObservation | None]],
    spec: CoachingSpec,
    fps: float,
    duration_s: float | None = None,
    on_frame: Callable[[AnalysedFrame, Evaluator], None] | None = None,
) -> AuditResult:
    """Calibrate on the first neutral stretch, then run the evaluator over every analysed frame and
    build the result (the fast half of an audit)."""
    if spec.kind != "exercise" or not spec.measures:
        raise AuditError(f"{spec.technique_id} is a massage: there are no reps or form faults to audit")
    frames = list(inputs)
    cal, stretch = neutral_calibration(frames, spec.settings)
    ev = Evaluator(spec, stop_after_reps=False, calibration=cal)
    last_t = 0.0
    for t, frame in frames:
        events = ev.push(frame, t)
        last_t = t
        if on_frame is not None:
            on_frame(AnalysedFrame(t, frame, events), ev)
    end = duration_s if duration_s is not None else last_t
    ev.finish(end)
    assert ev.calibration is not None
    return _result(spec, ev, fps, end, calibration_out(ev.calibration, stretch))


def _r(x: float) -> float:
    return round(float(x), 3)


def _result(
    spec: CoachingSpec, ev: Evaluator, fps: float, duration_s: float, calibration: CalibrationOut
) -> AuditResult:
    faults: list[Fault] = sorted(ev.faults, key=lambda f: f.start_s)
    return AuditResult(
        technique=spec.technique_id,
        fps=_r(fps),
        duration_s=_r(duration_s),
        calibration=calibration,
        reps=ev.reps,
        holds=[
            AuditHold(start_s=_r(h.start_s), end_s=_r(h.end_s), seconds=_r(h.seconds), completed=h.completed)
            for h in ev.holds
        ],
        faults=[
            AuditFault(
                kind=f.kind,
                side=f.side,
                start_s=_r(f.start_s),
                end_s=_r(f.end_s if f.end_s is not None else duration_s),
                cue=f.cue,
            )
            for f in faults
        ],
    )


def resolve_spec(technique_id: str) -> CoachingSpec | StrokeSpec:
    """The spec of an auditable technique: an exercise's coaching spec, or a massage's camera check.

    Raises :class:`AuditError` for an unknown id or a massage without a camera check.
    """
    try:
        spec = spec_by_id(technique_id)
    except UnknownTechniqueError:
        raise AuditError(f"unknown technique {technique_id!r} (see `facecoach techniques`)") from None
    if spec.kind == "exercise" and spec.measures:
        return spec
    from facecoach.coaching.stroke_specs import StrokeSpecError
    from facecoach.knowledge.library import load_library

    try:
        return stroke_spec(load_library().technique(technique_id))
    except StrokeSpecError:
        raise AuditError(f"{technique_id} is a massage the camera cannot check (no strokes)") from None


def hand_spans(video: AnalysedVideo) -> list[AuditHandSpan]:
    """The stretches with a hand on or near the face (empty when hands were not tracked)."""
    if not video.hand_frames:
        return []
    return [
        AuditHandSpan(start_s=_r(h.start_s), end_s=_r(h.end_s))
        for h in spans(presence(video.frames, video.hand_frames))
    ]


def audit_massage(video: AnalysedVideo, spec: StrokeSpec) -> AuditResult:
    """A massage from its strokes: the strokes, their faults, and the dose done (no reps or holds)."""
    cal, stretch = neutral_calibration(video.frames, spec_by_id(_ANY_EXERCISE).settings)
    if not video.hand_frames:
        raise AuditError("a massage audit needs the hands tracked")
    summary = analyse_strokes(stroke_inputs(video.frames, video.hand_frames, spec.working_point), spec)
    return AuditResult(
        technique=spec.technique_id,
        fps=_r(video.fps),
        duration_s=_r(video.duration_s),
        calibration=calibration_out(cal, stretch),
        reps=0,
        holds=[],
        faults=[
            AuditFault(kind=f.kind, side=f.side, start_s=_r(f.start_s), end_s=_r(f.end_s), cue=f.cue)
            for f in sorted(summary.faults, key=lambda f: f.start_s)
        ],
        hands=hand_spans(video),
        strokes=strokes_out(summary),
        massage=massage_out(summary, spec),
    )


class _Annotator:
    """Draws the measures, the rep counter and the faults on every frame and writes an mp4 (mp4v)."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int], spec: CoachingSpec) -> None:
        self.writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
        if not self.writer.isOpened():
            raise AuditError(f"cannot write the annotated video {path}")
        self.spec = spec
        self.lines: list[str] = []
        self.faults: list[str] = []
        self.activation = 0.0
        self.active = False
        self.points: NDArray[np.float64] | None = None

    def update(self, frame: AnalysedFrame, ev: Evaluator) -> None:
        self.points = None if frame.face is None else np.asarray(frame.face.points_px)
        self.activation = ev.activation
        self.active = ev.active
        target = ev.target_reps
        self.lines = [
            f"{self.spec.name}: reps {ev.reps}" + (f"/{target}" if target else ""),
            "calibrating - relax your face" if ev.calibration is None else "",
        ]
        if ev.measures is not None:
            for name in self.spec.measures:
                self.lines.append(f"{name} {getattr(ev.measures, name):+.1f}")
            fw = ev.measures.forehead_wrinkle
            if not math.isnan(fw):
                self.lines.append(f"forehead_wrinkle x{fw:.2f}")
        if frame.face is None:
            self.lines.append("no face")
        self.faults = [f"{kind} ({side})" if side else kind for kind, side in ev.active_faults]

    def write(self, bgr: NDArray[np.uint8]) -> None:
        img = bgr.copy()
        if self.points is not None:
            for x, y in self.points[::4, :2]:
                cv2.circle(img, (int(x), int(y)), 1, (200, 200, 200), -1, cv2.LINE_AA)
        y = 22
        for line in self.lines:
            if line:
                cv2.putText(img, line, (10, y), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 3, cv2.LINE_AA)
                cv2.putText(
                    img, line, (10, y), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1, cv2.LINE_AA
                )
                y += 22
        bar = int(min(max(self.activation, 0.0), 2.0) / 2.0 * 150)
        cv2.rectangle(img, (10, y), (160, y + 10), (255, 255, 255), 1)
        cv2.rectangle(img, (10, y), (10 + bar, y + 10), (0, 200, 0) if self.active else (0, 200, 255), -1)
        y += 32
        for fault in self.faults:
            cv2.putText(img, fault, (10, y), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 255), 2, cv2.LINE_AA)
            y += 24
        self.writer.write(img)

    def close(self) -> None:
        self.writer.release()


def _open_video(path: Path, limits: InputLimits) -> VideoSource:
    """The video at ``path``, or :class:`AuditError` saying why it cannot be audited."""
    try:
        if file_kind(path) != "video":
            raise AuditError(f"{path.name} is a picture: the audit needs a video")
        return VideoSource(path, limits)
    except SourceError as exc:
        prefix = "cannot read the video: " if exc.code == "unreadable" else ""
        raise AuditError(prefix + exc.message) from None


def _sampled_frames(
    source: VideoSource,
    step: int,
    rate: float | None,
    progress: ProgressCallback | None,
    prefetch: bool,
    stats: AnalysisStats | None = None,
) -> Generator[tuple[float, NDArray[np.uint8]], None, None]:
    """Every ``step``-th frame, or ``rate`` frames a second (see :meth:`VideoSource.frames`); with
    ``prefetch``, decoding runs in a thread while the landmarker works on the previous frame. ``stats``
    gets the number of frames read."""
    counted = stats if stats is not None else AnalysisStats()

    def decoded() -> Generator[tuple[float, NDArray[np.uint8], int], None, None]:
        for t, rgb in source.frames(step, rate):
            counted.frames_read = source.frames_read
            yield t, rgb, source.frames_read
        counted.frames_read = source.frames_read

    # Closing the frames stops the decoding thread before the video is closed.
    with contextlib.closing(read_ahead(decoded(), PREFETCH_FRAMES) if prefetch else decoded()) as frames:
        for t, rgb, read in frames:
            yield t, rgb
            if progress is not None:
                progress(read, source.info.frame_count)


@dataclass(frozen=True)
class _Drawn:
    """What the annotator draws from one analysed frame on, until the next one."""

    t: float
    lines: list[str]
    faults: list[str]
    activation: float
    active: bool
    points: NDArray[np.float64] | None


def _snapshots(annotator: _Annotator, into: list[_Drawn]) -> Callable[[AnalysedFrame, Evaluator], None]:
    def on_frame(frame: AnalysedFrame, ev: Evaluator) -> None:
        annotator.update(frame, ev)
        pts = None if annotator.points is None else annotator.points[::4, :2].copy()
        into.append(
            _Drawn(
                frame.timestamp_s,
                annotator.lines,
                annotator.faults,
                annotator.activation,
                annotator.active,
                pts,
            )
        )

    return on_frame


def _write_annotated(path: Path, limits: InputLimits, annotator: _Annotator, drawn: list[_Drawn]) -> None:
    """Decode every frame again and draw on it the state after the last analysed frame before it."""
    j = -1
    with _open_video(path, limits) as source:
        for t, rgb in source.frames(1):
            while j + 1 < len(drawn) and drawn[j + 1].t <= t + 1e-6:
                j += 1
            if j >= 0:
                d = drawn[j]
                annotator.lines, annotator.faults = d.lines, d.faults
                annotator.activation, annotator.active, annotator.points = d.activation, d.active, d.points
            annotator.write(np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), dtype=np.uint8))


def _second_landmarker(
    stack: contextlib.ExitStack[bool | None], parallel: bool, model: Path | None
) -> FaceLandmarker | None:
    """Another landmarker for the other core (None on one core or when not asked for)."""
    if not parallel or (os.cpu_count() or 1) <= 1:
        return None
    return stack.enter_context(FaceLandmarker(mode="video", max_faces=1, model=model))


@dataclass(frozen=True)
class AnalysedVideo:
    """Every analysed frame of a video, and what is known about it."""

    frames: list[tuple[float, FaceObservation | None]]
    fps: float
    duration_s: float
    width: int
    height: int
    crowded_s: list[tuple[float, float]]  # seconds in which more than one face was seen
    hand_frames: list[HandFrame] = field(default_factory=list)  # one per analysed frame (empty: not tracked)


def _with_people_count(
    frames: Iterable[tuple[float, NDArray[np.uint8]]],
    counter: FaceCounter | None,
    every_s: float,
    crowded: list[tuple[float, float]],
) -> Generator[tuple[float, NDArray[np.uint8]], None, None]:
    """Pass frames through; about every ``every_s`` count the faces in one (the face detector of the same
    asset, :class:`FaceCounter`) and note the seconds in which there were more than one."""
    next_t = 0.0
    for t, rgb in frames:
        if counter is not None and t >= next_t:
            next_t = t + every_s
            if counter.count(rgb) > 1:
                crowded.append((t - every_s, t + every_s))  # up to the checks either side
        yield t, rgb


def _sampling(fps: float, rate: float, exact: bool) -> tuple[int, float | None]:
    """(step, exact rate) of the analysed frames: every ``round(fps / rate)``-th frame (regular spacing,
    the rate rounded: 24 fps at 10/s is 12/s), or with ``exact`` ``rate`` a second (steps of 2 and 3
    frames at 24 fps); every frame for a ``rate`` of 0."""
    if rate <= 0:
        return 1, None
    if exact:
        return 1, rate
    return max(1, round(fps / rate)), None


def _hand_lane(thorough: bool) -> HandLane:
    if thorough:
        return HandTracker(mode="video")
    s, audit = load_hand_settings(), load_audit_settings()
    return SparseHandTracker(
        s.probe_s,
        s.rewind_s,
        max_wait_s=audit.hand_probe_gate.max_wait_s,
        second_probe_s=audit.second_hand_probe_s,
    )


def analyse_video(
    path: str | Path,
    *,
    limits: InputLimits,
    model: Path | None = None,
    progress: ProgressCallback | None = None,
    analysis_fps: float | None = None,
    prefetch: bool = True,
    parallel: bool = True,
    count_people_every_s: float | None = None,
    hands: bool = True,
    thorough_hands: bool = False,
    gate: bool = True,
    stats: AnalysisStats | None = None,
) -> AnalysedVideo:
    """Landmarks and crease energy of every analysed frame (at most ``analysis_fps`` per second), and
    with ``hands`` the Hand Landmarker's hands in each of them (the bundle built by ``make install``): by
    a :class:`SparseHandTracker` (probing and rewinding as ``hands.yaml`` says), or with
    ``thorough_hands`` by a two-hand tracker on every analysed frame (twice the cost, the same hands).

    ``analysis_fps``: analysed frames a second (0: every frame), by default ``audit.yaml``'s; ``gate``:
    the still-face gate as ``audit.yaml`` sets it (off: the Face Landmarker on every analysed frame);
    ``stats``: filled with what the frame loop did.

    Raises :class:`AuditError` for a missing, unreadable, oversized or over-long file (``limits``), or a
    picture. ``model``: the landmarker asset's path (the ``model_path`` setting), else the installed one.
    """
    path = Path(path)
    settings = load_audit_settings()
    rate = settings.analysis_fps if analysis_fps is None else analysis_fps
    still = settings.still_gate.gate() if gate else None
    crowded: list[tuple[float, float]] = []
    hand_frames: list[HandFrame] = []
    with _open_video(path, limits) as source:
        info = source.info
        step, exact = _sampling(info.fps, rate, settings.exact_rate)
        stats = stats if stats is not None else AnalysisStats()
        stream = _sampled_frames(source, step, exact, progress, prefetch, stats)
        try:
            with contextlib.ExitStack() as stack:
                landmarker = stack.enter_context(FaceLandmarker(mode="video", max_faces=1, model=model))
                second = _second_landmarker(stack, parallel, model)
                counter = stack.enter_context(FaceCounter(model=model)) if count_people_every_s else None
                counted = _with_people_count(stream, counter, count_people_every_s or 1.0, crowded)
                tracker: HandLane | None = None
                if hands:
                    tracker = _hand_lane(thorough_hands)
                    stack.callback(tracker.close)
                frames = list(
                    analyse(
                        counted,
                        landmarker,
                        second,
                        tracker,
                        hand_frames,
                        gate=still,
                        hand_gate=settings.hand_gate() if gate else None,
                        stats=stats,
                    )
                )
        finally:
            stream.close()  # stops the decoding thread before the video is closed
        if source.frames_read == 0:
            raise AuditError(f"cannot read {path.name}: no frames could be decoded")
        duration = (info.frame_count if info.frame_count > 0 else source.frames_read) / info.fps
    return AnalysedVideo(frames, info.fps, duration, info.width, info.height, crowded, hand_frames)


def audit_video(
    path: str | Path,
    technique_id: str,
    *,
    limits: InputLimits,
    model: Path | None = None,
    progress: ProgressCallback | None = None,
    annotate: str | Path | None = None,
    analysis_fps: float | None = None,
    prefetch: bool = True,
    parallel: bool = True,
    thorough_hands: bool = False,
    gate: bool = True,
    stats: AnalysisStats | None = None,
) -> AuditResult:
    """Audit one video file for one exercise (see the module docstring).

    Raises :class:`AuditError` for an unknown technique, a massage, a missing, unreadable, oversized or
    over-long file (``limits``), a picture instead of a video, or a video without a usable face.
    ``model``: the landmarker asset's path (the ``model_path`` setting), else the installed one.
    ``thorough_hands``: see :func:`analyse_video` (the result is the same; tests compare the two);
    ``analysis_fps``, ``gate`` and ``stats`` too (by default as ``audit.yaml`` says).
    """
    spec = resolve_spec(technique_id)
    path = Path(path)
    if isinstance(spec, StrokeSpec) and annotate is not None:
        raise AuditError("--annotate draws an exercise's measures: it is not available for a massage")
    video = analyse_video(
        path,
        limits=limits,
        model=model,
        progress=progress,
        analysis_fps=analysis_fps,
        prefetch=prefetch,
        parallel=parallel,
        thorough_hands=thorough_hands,
        gate=gate,
        stats=stats,
    )
    if isinstance(spec, StrokeSpec):
        return audit_massage(video, spec)
    if annotate is None:
        result = evaluate(video.frames, spec, video.fps)
    else:
        annotator = _Annotator(Path(annotate), video.fps, (video.width, video.height), spec)
        drawn: list[_Drawn] = []
        try:
            result = evaluate(video.frames, spec, video.fps, None, _snapshots(annotator, drawn))
            _write_annotated(path, limits, annotator, drawn)
        finally:
            annotator.close()
    return result.model_copy(update={"duration_s": _r(video.duration_s), "hands": hand_spans(video)})


def audit_any(
    path: str | Path,
    *,
    limits: InputLimits,
    model: Path | None = None,
    progress: ProgressCallback | None = None,
    analysis_fps: float | None = None,
    prefetch: bool = True,
    parallel: bool = True,
    hands: list[HandPresence] | None = None,
    count_people_every_s: float = 1.0,
    thorough_hands: bool = False,
    gate: bool = True,
    stats: AnalysisStats | None = None,
) -> TutorialResult:
    """Audit any video without being told its technique (see :mod:`facecoach.coaching.tutorial`).

    ``hands``: hands on the face over time given by the caller; by default the audit tracks them
    itself (the Hand Landmarker beside the Face Landmarker), and its massage segments get stroke checks.
    Raises :class:`AuditError` for a file that cannot be audited (``limits``) or a video without a
    usable face. ``model``, ``thorough_hands``, ``gate``, ``stats``: as for :func:`audit_video`.
    """
    video = analyse_video(
        path,
        limits=limits,
        model=model,
        progress=progress,
        analysis_fps=analysis_fps,
        prefetch=prefetch,
        parallel=parallel,
        count_people_every_s=count_people_every_s,
        hands=hands is None,
        thorough_hands=thorough_hands,
        gate=gate,
        stats=stats,
    )
    seen = _tracked_presence(video) if video.hand_frames else []
    return audit_frames(
        video.frames, video.fps, video.duration_s, video.crowded_s, hands or seen, video.hand_frames
    )


def _tracked_presence(video: AnalysedVideo) -> list[HandPresence]:
    """Hands on the face per analysed frame, marked where they make a massage: strokes of the generic
    drainage check, repeated (:func:`facecoach.coaching.hand_audit.massage_movements`)."""
    from facecoach.coaching.massage_audit import generic_spec
    from facecoach.knowledge.library import load_library

    spec = generic_spec(load_library())
    summary = analyse_strokes(stroke_inputs(video.frames, video.hand_frames, spec.working_point), spec)
    seen = presence(video.frames, video.hand_frames)
    return with_strokes(seen, massage_movements(summary.strokes, seen))


def audit_frames(
    frames: list[tuple[float, FaceObservation | None]],
    fps: float,
    duration_s: float,
    crowded_s: list[tuple[float, float]] | None = None,
    hands: list[HandPresence] | None = None,
    hand_frames: list[HandFrame] | None = None,
) -> TutorialResult:
    """:func:`audit_any` on frames already analysed (the fast, pure half; tests and caches use it).

    ``hand_frames``: the Hand Landmarker's output per frame (for the massage segments' strokes)."""
    settings = spec_by_id(_ANY_EXERCISE).settings
    cal, stretch = neutral_calibration(frames, settings)
    result = review_video(
        frames,
        cal,
        calibration_out(cal, stretch),
        fps,
        duration_s,
        crowded_s or [],
        hands or [],
        hand_frames or [],
    )
    gap = load_hand_settings().merge_gap_s
    found = [{"start_s": _r(h.start_s), "end_s": _r(h.end_s)} for h in spans(hands or [], gap)]
    return result.model_copy(update={"hands": found})


_ANY_EXERCISE = "smile-lift"  # any exercise: the evaluation settings are shared by all of them
