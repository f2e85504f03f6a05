"""One guard run over a stream of frames (the CLI's ``facecoach guard``; the page does the same in
``static/guard/app.js``): calibrate on the first usable frames (or a given window, or a saved calibration),
then watch. Nothing is written or sent; the caller gets the nudges as they come and a report of counts."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from facecoach.coaching.calibration import Calibration, CalibrationError
from facecoach.guard.detector import GuardFrame, HabitDetector, Nudge, calibrate_guard
from facecoach.guard.policy import GuardSettings
from facecoach.guard.rules import GuardRules
from facecoach.vision.landmarks import FaceObservation


@dataclass
class RunReport:
    frames: int = 0
    states: Counter[str] = field(default_factory=Counter)
    calibration: Calibration | None = None
    nudges: list[Nudge] = field(default_factory=list)
    detector: HabitDetector | None = None

    def to_dict(self) -> dict[str, object]:
        det = self.detector
        return {
            "frames": self.frames,
            "states": dict(self.states),
            "calibration": None if self.calibration is None else _finite(self.calibration.to_dict()),
            "thresholds_mm": {}
            if det is None
            else {h: {"on": round(a, 3), "off": round(b, 3)} for h, (a, b) in det.limits().items()},
            "nudges": [
                {
                    "habit": n.habit,
                    "t_s": round(n.t_s, 3),
                    "held_s": round(n.held_s, 1),
                    "side": n.side,
                    "cue": n.cue,
                }
                for n in self.nudges
            ],
            "counts": [] if det is None else [c.to_dict() for c in det.counts.values()],
        }


def _finite(value: object) -> object:
    """JSON-safe: non-finite floats (a measure this face could not give, e.g. no forehead) become None."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _usable(frame: GuardFrame, rules: GuardRules) -> FaceObservation | None:
    """The one face of a frame light enough to calibrate on, or None."""
    light = frame.brightness is None or frame.brightness >= rules.presence.min_brightness
    return frame.faces[0] if light and len(frame.faces) == 1 else None


def save_calibration(cal: Calibration, path: Path) -> None:
    """The calibration as JSON (numbers derived from the face on this device; it stays here)."""
    data = {
        "neutral": {k: (None if not math.isfinite(v) else v) for k, v in cal.neutral.items()},
        "noise": {k: (None if not math.isfinite(v) else v) for k, v in cal.noise.items()},
        "mm_per_unit": cal.mm_per_unit,
        "start_s": cal.start_s,
        "end_s": cal.end_s,
        "frames": cal.frames,
    }
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")


def load_calibration(path: Path) -> Calibration:
    """A calibration saved by :func:`save_calibration`; ValueError when the file is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        nan = math.nan
        return Calibration(
            neutral={k: nan if v is None else float(v) for k, v in data["neutral"].items()},
            noise={k: nan if v is None else float(v) for k, v in data["noise"].items()},
            mm_per_unit=float(data["mm_per_unit"]),
            start_s=float(data["start_s"]),
            end_s=float(data["end_s"]),
            frames=int(data["frames"]),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path.name} is not a guard calibration ({exc})") from None


def watch(
    frames: Iterable[tuple[float, GuardFrame]],
    rules: GuardRules,
    settings: GuardSettings,
    *,
    calibration: Calibration | None = None,
    calibrate_window: tuple[float, float] | None = None,
    on_nudge: Callable[[Nudge], None] | None = None,
) -> RunReport:
    """Calibrate (unless given), then run the detector over the rest. ``calibrate_window``: source
    seconds (a, b) whose usable frames are the neutral face (the frames before it are skipped);
    otherwise the first ``rules.calibration.frames`` usable frames. CalibrationError when no calibration
    could be made."""
    report = RunReport(calibration=calibration)
    if calibration is not None:
        report.detector = HabitDetector(rules, calibration, settings)
    neutral: list[FaceObservation] = []
    for t, frame in frames:
        report.frames += 1
        if report.detector is None:
            face = _usable(frame, rules)
            in_window = calibrate_window is None or calibrate_window[0] <= t <= calibrate_window[1]
            if face is not None and in_window:
                neutral.append(face)
            if calibrate_window is None:
                done = len(neutral) >= rules.calibration.frames
            else:  # the frame past the window is not watched: the detector starts on the next one
                done = t > calibrate_window[1]
            if done:
                report.calibration = calibrate_guard(neutral)
                report.detector = HabitDetector(rules, report.calibration, settings)
            continue
        out = report.detector.push(frame)
        report.states[out.state] += 1
        if out.nudge is not None:
            report.nudges.append(out.nudge)
            if on_nudge is not None:
                on_nudge(out.nudge)
    if report.detector is None:
        raise CalibrationError(f"only {len(neutral)} usable frames of one face to calibrate on")
    return report
