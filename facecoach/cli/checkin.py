"""``facecoach checkin VIDEO``: a guided check-in from a recorded video (the same rules as the page)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from facecoach.cli.app import app, console, fail, print_json


def _save(email: str, measures: Any, keep_picture: Any) -> int:
    """Store the check-in for the member with ``email`` (database from the settings); its id."""
    from sqlalchemy import select

    from facecoach.config import get_settings
    from facecoach.members.db import Database
    from facecoach.members.models import User
    from facecoach.progress.store import save_checkin

    db = Database.connect(get_settings().database_url)
    try:
        with db.session() as s:
            user = s.scalar(select(User).where(User.email == email.strip().lower()))
            if user is None:
                fail(f"no member with the address {email}")
            return save_checkin(s, user.id, measures, "cli", keep_picture).id
    finally:
        db.dispose()


def _reference(email: str | None) -> float | None:
    if email is None:
        return None
    from sqlalchemy import select

    from facecoach.config import get_settings
    from facecoach.members.db import Database
    from facecoach.members.models import User
    from facecoach.progress.store import reference_iris_px

    db = Database.connect(get_settings().database_url)
    try:
        with db.session() as s:
            user = s.scalar(select(User).where(User.email == email.strip().lower()))
            return reference_iris_px(s, user.id) if user is not None else None
    finally:
        db.dispose()


@app.command()
def checkin(
    video: Path = typer.Argument(..., help="a video of your face (MP4, WebM, AVI, MOV)"),
    json_out: bool = typer.Option(False, "--json", help="print one JSON document"),
    member: str | None = typer.Option(
        None, "--member", help="store the check-in for the member with this e-mail address"
    ),
    keep_picture: bool = typer.Option(
        False, "--keep-picture", help="with --member: keep the check-in's picture too (opt-in)"
    ),
) -> None:
    """Guided check-in: the same framing every time, a still clip captured and measured."""
    from facecoach.config import get_settings
    from facecoach.progress.checkin import CaptureRefused, guide_frames, iter_problems, measure_capture
    from facecoach.progress.framing import load_rules
    from facecoach.vision.sources import SourceError, VideoSource, file_kind

    settings = get_settings()
    rules = load_rules()
    try:
        if file_kind(video) != "video":
            fail(f"{video.name} is a picture: a check-in needs a video of a few seconds")
        with VideoSource(video, settings.input_limits) as source:
            outcome = guide_frames(
                source.frames(),
                rules,
                _reference(member),
                keep_pixels=keep_picture,
                model=settings.model_path,
            )
    except SourceError as exc:
        fail(f"check-in refused ({exc.code}): {exc.message}")
    problems = [{"code": c, "frames": n, "message": m} for c, n, m in iter_problems(outcome.guide)]
    if not outcome.frames:
        hint = problems[0]["message"] if problems else "the video is too short for the capture"
        fail(
            f"check-in refused (not_framed): no {rules.hold_s + rules.capture_s:.0f} s held still "
            f"and framed: {hint}"
        )
    try:
        measures = measure_capture(outcome.frames)
    except CaptureRefused as exc:
        fail(f"check-in refused (unmeasurable): {exc.message}")
    saved = _save(member, measures, _picture(outcome.frames) if keep_picture else None) if member else None
    if json_out:
        print_json({"measures": measures.model_dump(), "fixes_asked": problems, "checkin_id": saved})
        return
    console.print(f"[bold]Check-in[/bold] of {video.name}: {measures.frames} frames captured")
    for p in problems:
        console.print(f"[dim]asked to fix ({p['frames']} frames): {p['message']}[/dim]", soft_wrap=True)
    for key, value in measures.values.items():
        unit = "°" if key.endswith("_deg") else " mm"
        console.print(f"{key}: {value:+.2f}{unit} (spread {measures.spread[key]:.2f})")
    if saved is not None:
        console.print(f"stored as check-in {saved}")


def _picture(frames: Any) -> Any:
    """The middle captured frame as JPEG with its landmarks (only called with --keep-picture)."""
    import io

    from PIL import Image

    from facecoach.progress.store import KeptPicture

    middle = frames[len(frames) // 2]
    buf = io.BytesIO()
    Image.fromarray(middle.rgb).save(buf, format="JPEG", quality=90)
    return KeptPicture(buf.getvalue(), middle.face.points_px[:, :2].tolist())
