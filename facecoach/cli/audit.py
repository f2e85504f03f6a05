"""``facecoach audit``: the coaching engine over a recorded video."""

from __future__ import annotations

from pathlib import Path

import typer

from facecoach.cli.app import app, console, fail, frames_bar, print_json


@app.command()
def audit(
    video: Path = typer.Argument(..., help="a recorded video (MP4, WebM, AVI, MOV)"),
    technique: str = typer.Option(..., "--technique", "-t", help="the exercise's technique id"),
    json_out: bool = typer.Option(False, "--json", help="print one JSON document"),
    annotate: Path | None = typer.Option(
        None, "--annotate", help="write the video with measures, reps and faults drawn on it (mp4)"
    ),
) -> None:
    """Audit a video of an exercise: reps, holds and form faults on a timeline."""
    from facecoach.coaching.audit import AuditError, audit_video
    from facecoach.config import get_settings

    settings = get_settings()
    try:
        with frames_bar("auditing") as bar:
            task = bar.add_task("audit", total=None)
            result = audit_video(
                video,
                technique,
                limits=settings.input_limits,
                model=settings.model_path,
                annotate=annotate,
                progress=lambda done, total: bar.update(task, completed=done, total=total or None),
            )
    except AuditError as exc:
        fail(str(exc))
    if json_out:
        print_json(result.model_dump())
        return
    console.print(
        f"[bold]Audit[/bold] of {video.name} for [bold]{result.technique}[/bold]: "
        f"{result.duration_s:.1f} s at {result.fps:g} fps; calibrated on "
        f"{result.calibration.start_s:.1f}–{result.calibration.end_s:.1f} s"
    )
    console.print(f"reps: {result.reps}")
    for i, hold in enumerate(result.holds, 1):
        mark = "done" if hold.completed else "released too early"
        console.print(
            f"  hold {i}: {hold.start_s:6.1f}–{hold.end_s:6.1f} s, held {hold.seconds:.1f} s ({mark})"
        )
    if not result.faults:
        console.print("faults: none")
    for fault in result.faults:
        side = f" ({fault.side})" if fault.side else ""
        console.print(
            f"  fault {fault.kind}{side}: {fault.start_s:6.1f}–{fault.end_s:6.1f} s — {fault.cue}",
            soft_wrap=True,
        )
    if annotate is not None:
        console.print(f"annotated video: {annotate}")
