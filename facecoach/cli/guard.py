"""``facecoach guard``: the habit guard at a desktop webcam (or over a video file, for testing).

The same rules and detector as the /guard page; the same privacy: frames and landmarks stay in this
process and are dropped frame by frame; nothing is sent anywhere; the only file written is the optional
calibration (``--calibration``: numbers about your neutral face, on this computer).
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import typer
from numpy.typing import NDArray

from facecoach.cli.app import app, console, err_console, fail, print_json
from facecoach.config import get_settings

if TYPE_CHECKING:
    from facecoach.coaching.calibration import Calibration
    from facecoach.guard.policy import GuardSettings
    from facecoach.guard.rules import GuardRules
    from facecoach.guard.session import RunReport

Frames = Iterator[tuple[float, NDArray[np.uint8]]]


def _hours(value: str | None) -> tuple[int | None, int | None]:
    if not value:
        return None, None
    found = re.fullmatch(r"(\d{1,2})-(\d{1,2})", value.strip())
    if not found or int(found.group(1)) > 23 or int(found.group(2)) > 23:
        fail(f"--quiet-hours must look like 22-7 (hours 0–23), not {value!r}")
    return int(found.group(1)), int(found.group(2))


def _window(value: str | None) -> tuple[float, float] | None:
    if not value:
        return None
    found = re.fullmatch(r"(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)", value.strip())
    if not found or float(found.group(1)) >= float(found.group(2)):
        fail(f"--calibrate-at must look like 9.5-10.5 (seconds into the video), not {value!r}")
    return float(found.group(1)), float(found.group(2))


def _camera(index: int, fps: float, minutes: float) -> Frames:
    """Camera frames, one per 1/fps seconds (the others are read and dropped at once)."""
    import cv2

    from facecoach.vision.sources import camera_frames

    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # a missing camera: our one line
    last = -1e9
    limits = replace(get_settings().input_limits, max_video_seconds=minutes * 60.0)
    for t, rgb in camera_frames(index, limits):
        if t - last >= 1.0 / fps:
            last = t
            yield t, rgb


def _video(path: Path, fps: float) -> Frames:
    from facecoach.vision.sources import VideoSource

    with VideoSource(path, get_settings().input_limits) as src:
        yield from src.frames(step=max(1, round(src.info.fps / fps)))


def _settings(rules: GuardRules, rate: float, interval: int | None, quiet_hours: str | None) -> GuardSettings:
    from facecoach.guard.policy import GuardSettings

    if not 0 < rate <= 30:
        fail("--fps must be above 0 and at most 30")
    if interval is not None and interval not in rules.nudges.interval_min_choices:
        fail(f"--interval must be one of {rules.nudges.interval_min_choices}")
    quiet = _hours(quiet_hours)
    return GuardSettings(
        interval_min=interval or rules.nudges.interval_min_default,
        quiet_start_h=quiet[0],
        quiet_end_h=quiet[1],
    )


def _saved(path: Path | None) -> Calibration | None:
    """A calibration file's calibration if it exists (a refusal when it is not one), else None."""
    from facecoach.guard.session import load_calibration

    if path is None or not path.exists():
        return None
    try:
        return load_calibration(path)
    except ValueError as exc:
        fail(str(exc))


def _summary(report: RunReport, rules: GuardRules) -> None:
    det = report.detector
    console.print(f"{report.frames} frames, {len(report.nudges)} nudge(s).")
    if det is None:
        return
    for habit in rules.habits:
        held = sum(c.habit_s.get(habit.id, 0.0) for c in det.counts.values())
        if held:
            console.print(f"  {habit.label}: {held / 60:.1f} min held")


def _say(nudge: object, bell: bool) -> None:
    from facecoach.guard.detector import Nudge

    assert isinstance(nudge, Nudge)
    when = dt.datetime.fromtimestamp(nudge.t_s).strftime("%H:%M:%S")
    console.print(f"[bold]{when}[/bold] {nudge.cue} [dim](held {nudge.held_s:.0f} s)[/dim]", soft_wrap=True)
    if bell:
        sys.stdout.write("\a")
        sys.stdout.flush()


@app.command()
def guard(
    video: Path | None = typer.Option(
        None, "--video", help="watch a video file instead of the camera (testing)"
    ),
    camera: int = typer.Option(0, "--camera", help="the camera's index"),
    fps: float | None = typer.Option(None, "--fps", help="frames measured per second (default: the rules')"),
    interval: int | None = typer.Option(None, "--interval", help="at most one nudge per this many minutes"),
    quiet_hours: str | None = typer.Option(
        None, "--quiet-hours", help="no nudges in these local hours, e.g. 22-7"
    ),
    calibration: Path | None = typer.Option(
        None, "--calibration", help="a calibration file: used if it exists, written after calibrating if not"
    ),
    calibrate_at: str | None = typer.Option(
        None,
        "--calibrate-at",
        help="video only: the seconds of a relaxed face to calibrate on, e.g. 9.5-10.5",
    ),
    minutes: float = typer.Option(8 * 60.0, "--minutes", help="camera only: stop after this many minutes"),
    bell: bool = typer.Option(False, "--bell", help="ring the terminal bell with a nudge"),
    json_out: bool = typer.Option(False, "--json", help="print one JSON document at the end"),
) -> None:
    """Notice held frowns, raised brows, squints, pressed lips and one-sided smirks, gently."""
    from facecoach.coaching.calibration import CalibrationError
    from facecoach.guard.frames import guard_frames
    from facecoach.guard.rules import guard_rules
    from facecoach.guard.session import save_calibration, watch
    from facecoach.vision.landmarks import FaceLandmarker
    from facecoach.vision.sources import SourceError

    rules = guard_rules()
    rate = fps or rules.sampling.fps
    settings = _settings(rules, rate, interval, quiet_hours)
    window = _window(calibrate_at)
    if window is not None and video is None:
        fail("--calibrate-at is for a video file")
    saved = _saved(calibration)
    source = _video(video, rate) if video is not None else _camera(camera, rate, minutes)
    if not json_out:
        err_console.print("Habit guard: relax your face and look at the screen while it calibrates…")
    offset = time.localtime().tm_gmtoff
    try:
        with FaceLandmarker(mode="video", max_faces=2) as lm:
            report = watch(
                guard_frames(source, lm, time.time(), offset),
                rules,
                settings,
                calibration=saved,
                calibrate_window=window,
                on_nudge=None if json_out else lambda n: _say(n, bell),
            )
    except SourceError as exc:
        fail(exc.message)
    except CalibrationError as exc:
        fail(f"could not calibrate: {exc}")
    except KeyboardInterrupt:
        fail("stopped")
    if calibration is not None and saved is None and report.calibration is not None:
        save_calibration(report.calibration, calibration)
    if json_out:
        print_json(report.to_dict())
        return
    _summary(report, rules)
