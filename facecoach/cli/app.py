"""The Typer application and the few helpers every command shares.

Conventions: ``--json`` prints exactly one JSON document on stdout; a refusal or a user error exits
with status 2 and one line on stderr, and prints nothing on stdout.
"""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

app = typer.Typer(
    name="facecoach",
    help="facecoach — facial exercises and massages, told apart, combined in an educated order.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """Refuse: one line on stderr, nothing on stdout, exit status ``code``."""
    sys.stderr.write(f"facecoach: {message.strip().splitlines()[0] if message.strip() else 'error'}\n")
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    """One JSON document on stdout (non-finite floats become null)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str, allow_nan=False) + "\n")


def frames_bar(label: str, quiet: bool = False) -> Progress:
    """The progress bar of frame-by-frame work: on stderr, only on a terminal, gone when done
    (``quiet``: not at all, e.g. under ``--json``)."""
    return Progress(
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} frames"),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=quiet or not err_console.is_terminal,
    )


@app.callback()
def _root() -> None:
    """facecoach — facial exercises and massages, told apart, combined in an educated order."""
