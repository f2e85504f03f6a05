"""``facecoach serve`` and database commands."""

from __future__ import annotations

import typer

from facecoach.cli.app import app, console


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to bind."),
    port: int = typer.Option(8000, help="Port to bind (any free port works)."),
    seed_demo: bool = typer.Option(False, "--seed-demo", help="Load the library and the demo accounts."),
) -> None:
    """Serve the web app."""
    import uvicorn

    from facecoach.web.app import create_app

    console.print(f"facecoach on http://{host}:{port}")
    uvicorn.run(create_app(), host=host, port=port, log_level="info")
