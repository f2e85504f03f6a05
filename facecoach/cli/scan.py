"""``facecoach scan``: face scan of a photo or a short video."""

from __future__ import annotations

from pathlib import Path

import typer

from facecoach.cli.app import app, console, fail, frames_bar, print_json


@app.command()
def scan(
    file: Path = typer.Argument(..., help="a photo (JPEG, PNG, WebP) or a short video (MP4, WebM, AVI, MOV)"),
    json_out: bool = typer.Option(False, "--json", help="print one JSON document"),
    annotate: Path | None = typer.Option(
        None, "--annotate", help="write the picture with the scan drawn on it"
    ),
) -> None:
    """Measure facial asymmetry (left minus right, your own sides) in millimetres."""
    from facecoach.config import get_settings
    from facecoach.vision.annotate import ANNOTATION_SUFFIXES, write_annotation
    from facecoach.vision.scan import ScanRefused
    from facecoach.vision.scan_describe import describe
    from facecoach.vision.scan_file import analyse_file

    if annotate is not None and annotate.suffix.lower() not in ANNOTATION_SUFFIXES:
        fail(f"--annotate must name a {', '.join(ANNOTATION_SUFFIXES)} file, not {annotate.name}")
    try:
        with frames_bar("scanning", quiet=json_out) as bar:
            task = bar.add_task("scan", total=None)
            settings = get_settings()
            outcome = analyse_file(
                file,
                settings.input_limits,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                model=settings.model_path,
            )
    except ScanRefused as exc:
        fail(f"scan refused ({exc.code}): {exc.message}")
    if annotate is not None:
        try:
            write_annotation(outcome, annotate)
        except OSError as exc:
            fail(str(exc))
    result = outcome.result
    if json_out:
        print_json(result.model_dump())
        return
    what = "photo" if result.kind == "photo" else f"video, {result.frames_used} frames measured"
    console.print(f"[bold]Face scan[/bold] of {file.name} ({what})")
    pose = result.head_pose
    console.print(
        f"head pose: yaw {pose.yaw_deg:+.1f}°, pitch {pose.pitch_deg:+.1f}°, roll {pose.roll_deg:+.1f}°; "
        f"scale {result.mm_per_px:.3f} mm/px (iris {result.iris_px:.1f} px)"
    )
    for sentence in describe(result):
        console.print(f"• {sentence}", soft_wrap=True)
    for note in result.notes:
        console.print(f"[dim]note: {note}[/dim]", soft_wrap=True)
    if annotate is not None:
        console.print(f"annotated picture: {annotate}")
