"""Settings from the environment (prefix ``FACECOACH_``; ``DATABASE_URL`` and ``REDIS_URL`` as is).

Every limit that protects the process from hostile input lives here, so it is one explicit setting.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FACECOACH_", extra="ignore")

    #: SQLAlchemy URL. SQLite (WAL) by default; PostgreSQL with ``postgresql+psycopg://…``.
    database_url: str = Field(
        default=f"sqlite:///{REPO_DIR / 'var' / 'facecoach.db'}",
        validation_alias=AliasChoices("DATABASE_URL", "FACECOACH_DATABASE_URL"),
    )
    #: Redis for shared sessions, rate limits and queues across workers; in-process when empty.
    redis_url: str = Field(default="", validation_alias=AliasChoices("REDIS_URL", "FACECOACH_REDIS_URL"))
    #: Secret for signing session cookies. The default is for local demo use only.
    secret_key: str = "facecoach-dev-only-change-me"
    #: Overrides where the Face Landmarker asset is read from (it is still checked by SHA-256).
    model_path: Path | None = None
    #: Directory for data the app writes (SQLite file, opted-in pictures).
    data_dir: Path = REPO_DIR / "var"

    # Limits on input (bytes, pixels, seconds).
    max_image_bytes: int = 15 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    max_video_bytes: int = 200 * 1024 * 1024
    max_video_seconds: float = 600.0

    # Login and password-reset attempts per email and address (count, seconds of sliding window).
    login_attempts: int = 5
    login_window_s: float = 300.0
    #: Video audits: ``inprocess`` (a thread in the web worker) or ``redis`` (the Dramatiq queue on
    #: ``REDIS_URL``, run by ``facecoach worker``; uploads must then be on storage both can read).
    job_queue: str = "inprocess"
    #: Queue workers that stop heart-beating for this long (ms) are dead: their unfinished jobs go back.
    queue_heartbeat_timeout_ms: int = 60_000
    #: Redis key prefix of the queue and the shared state (sites sharing one Redis need different ones).
    queue_namespace: str = "facecoach"

    # Accounts (docs/security.md, "Account takeover and sign-up").
    #: The site's public address: every link in a mail starts with it (never with the request's Host).
    base_url: str = "http://127.0.0.1:8000"
    #: Host names the site answers to, comma-separated; empty: the base URL's host plus the loopback names.
    allowed_hosts: str = ""
    #: Proxies (IP addresses or networks, comma-separated) whose X-Forwarded-For/-Proto are believed.
    trusted_proxies: str = ""
    #: Sign-ups and reset requests per client address (count, seconds of sliding window).
    signup_attempts: int = 10
    signup_window_s: float = 3600.0
    #: Outgoing mail: an SMTP server; when empty, mail is written to ``data_dir/mail`` (one file a mail).
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password: str = ""
    mail_from: str = "facecoach <no-reply@facecoach.invalid>"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
