"""``facecoach serve`` and the database commands (``facecoach db upgrade|downgrade|seed|current``)."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import typer

from facecoach.cli.app import app, console, err_console, fail, print_json

if TYPE_CHECKING:
    from facecoach.members.db import Database

db_app = typer.Typer(help="Database: migrations and demo data.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def open_database(url: str | None = None) -> Database:
    """The database of ``url`` or of the settings (every database command of the CLI)."""
    from facecoach.config import get_settings
    from facecoach.members.db import Database

    return Database.connect(url or get_settings().database_url)


def safe_url(url: str) -> str:
    """The URL with its password hidden, for what the CLI prints."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _upgrade(db: Database) -> None:
    from sqlalchemy.exc import OperationalError

    from facecoach.members import migrate

    try:
        migrate.upgrade(db)
    except OperationalError as exc:
        fail(f"cannot reach the database {safe_url(db.url)}: {str(exc.orig).strip().splitlines()[0]}")


def _seed(db: Database) -> list[tuple[str, str, str]]:
    from facecoach.knowledge import KnowledgeError, load_library
    from facecoach.members.seed import seed_demo

    try:
        library = load_library()
    except KnowledgeError as exc:
        fail(f"the library does not load: {exc}")
    with db.exclusive(), db.session() as session:
        accounts = seed_demo(session)
    err_console.print(
        f"library: {len(library.techniques)} techniques, {len(library.claims)} claims from the YAML seed",
        soft_wrap=True,
    )
    return [(a.role, a.email, a.password) for a in accounts]


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to bind."),
    port: int = typer.Option(8000, min=0, max=65535, help="Port to bind (any free port works)."),
    seed_demo: bool = typer.Option(False, "--seed-demo", help="Load the library and the demo accounts."),
) -> None:
    """Migrate the database and serve the web app (instances on other ports share the database safely)."""
    import uvicorn

    from facecoach.web.app import create_app

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            fail(f"cannot listen on {host}:{port}: {exc.strerror}")
    from facecoach.config import Settings, get_settings

    if get_settings().secret_key == Settings.model_fields["secret_key"].default:
        err_console.print(
            "warning: FACECOACH_SECRET_KEY is not set — cookies are signed with the public demo key; "
            "set a long random secret anywhere but on your own machine",
            soft_wrap=True,
        )
    from facecoach.knowledge import KnowledgeError, load_library
    from facecoach.web.app import TASKS_VISION_DIR

    try:
        load_library()  # every page reads it: refuse to start on a broken data file
    except KnowledgeError as exc:
        fail(f"the library does not load: {exc}")
    if not TASKS_VISION_DIR.is_dir():
        err_console.print(
            f"warning: {TASKS_VISION_DIR} is missing (run `npm ci`): live coaching cannot load its WASM",
            soft_wrap=True,
        )
    db = open_database()
    _upgrade(db)
    if seed_demo:
        accounts = _seed(db)
        console.print("[bold]Demo accounts[/bold] (demo only — change or delete them on a real site):")
        for role, email, password in accounts:
            console.print(f"  {role:<10} {email}  password: {password}", soft_wrap=True)
    from facecoach.jobs.queue import QueueError
    from facecoach.live.protocol import max_message_bytes  # live coaching's read limit

    try:
        app_ = create_app(database=db)
    except QueueError as exc:  # a misconfigured job queue is a setting to fix, not a traceback
        fail(f"the audit queue cannot start: {exc}")
    console.print(f"facecoach on http://{host}:{port}  (database: {safe_url(db.url)})", soft_wrap=True)
    settings = get_settings()
    if not settings.smtp_host:
        err_console.print(
            f"note: FACECOACH_SMTP_HOST is not set — mail (reset and sign-up links) is written to "
            f"{settings.data_dir / 'mail'}; links start with FACECOACH_BASE_URL={settings.base_url}",
            soft_wrap=True,
        )
    uvicorn.run(
        app_,
        host=host,
        port=port,
        log_level="info",
        proxy_headers=False,  # the app believes X-Forwarded-* only from FACECOACH_TRUSTED_PROXIES
        ws_max_size=max_message_bytes(app_.state.ctx.settings.live),
    )


@db_app.command("upgrade")
def db_upgrade(
    revision: str = typer.Argument("head"), json_out: bool = typer.Option(False, "--json")
) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    from facecoach.members import migrate

    db = open_database()
    if revision != "head":
        try:
            migrate.upgrade(db, revision)
        except Exception as exc:  # alembic raises its own errors for unknown revisions
            fail(f"cannot upgrade to {revision}: {exc}")
    else:
        _upgrade(db)
    current = migrate.current_revision(db)
    if json_out:
        print_json({"database": safe_url(db.url), "revision": current})
    else:
        console.print(f"database {safe_url(db.url)} at revision {current}")


@db_app.command("downgrade")
def db_downgrade(
    revision: str = typer.Argument("base", help="Target revision ('base' removes every table)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Undo migrations down to REVISION."""
    from facecoach.members import migrate

    db = open_database()
    try:
        migrate.downgrade(db, revision)
    except Exception as exc:
        fail(f"cannot downgrade to {revision}: {exc}")
    current = migrate.current_revision(db)
    if json_out:
        print_json({"database": safe_url(db.url), "revision": current})
    else:
        console.print(f"database {safe_url(db.url)} at revision {current or 'base (empty)'}")


@db_app.command("seed")
def db_seed(json_out: bool = typer.Option(False, "--json")) -> None:
    """Migrate, check the library loads, and create the demo accounts."""
    db = open_database()
    _upgrade(db)
    accounts = _seed(db)
    if json_out:
        print_json({"accounts": [{"role": r, "email": e, "password": p} for r, e, p in accounts]})
    else:
        for role, email, password in accounts:
            console.print(f"{role:<10} {email}  password: {password}")
