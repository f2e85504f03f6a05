"""Settings from the environment (prefix ``FACECOACH_``; ``DATABASE_URL`` and ``REDIS_URL`` as is).

Every limit that protects the process from hostile input lives here, so it is one explicit setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


class LiveSettings(BaseSettings):
    """Every limit of the live socket, one explicit setting each (env prefix ``FACECOACH_LIVE_``).

    A section of :class:`Settings` (``settings.live``); its own settings class so that the
    ``FACECOACH_LIVE_*`` names are read whether it is built by ``Settings()`` or on its own."""

    model_config = SettingsConfigDict(env_prefix="FACECOACH_LIVE_", extra="ignore")

    #: Sustained frame rate above which a client is closed (frames per second).
    max_fps: float = Field(default=60.0, gt=0)
    #: Frames a client may send in a burst above ``max_fps`` (a token bucket's capacity).
    burst_frames: int = Field(default=30, ge=1)
    #: Largest JPEG frame accepted (bytes) and its largest size (pixels).
    max_jpeg_bytes: int = Field(default=400_000, ge=1024)
    max_jpeg_pixels: int = Field(default=1280 * 720, ge=64 * 64)
    #: Largest JSON control message (bytes).
    max_control_bytes: int = Field(default=2048, ge=64)
    #: Largest frame width/height a client may declare (pixels).
    max_frame_side: int = Field(default=4096, ge=64)
    #: Concurrent JPEG-mode connections per worker (each one runs the Python landmarker).
    max_jpeg_sessions: int = Field(default=4, ge=0)
    #: A connection that sends nothing for this long is closed (seconds).
    idle_timeout_s: float = Field(default=60.0, gt=0)
    #: Longest session (seconds) and most routine steps one connection may run.
    max_session_s: float = Field(default=3 * 3600.0, gt=0)
    max_steps: int = Field(default=60, ge=1)
    #: How often an open socket re-checks its login session and plan (seconds); also on ``finish``.
    #: Logged out, password changed elsewhere, account deleted: closed 4401; plan cancelled: 4403.
    session_recheck_s: float = Field(default=30.0, gt=0, le=30.0)
    #: Live sockets, and JPEG-mode sessions, one member may hold at once (per process; per site, shared
    #: through Redis, when ``REDIS_URL`` is set). Above it the new connection is closed 1013.
    max_sockets_per_member: int = Field(default=3, ge=1)
    max_jpeg_sessions_per_member: int = Field(default=1, ge=0)
    #: A massage step completes when frames kept arriving for its duration by the server's clock: a gap
    #: between two frames counts for at most this many seconds, and the step may end this much early
    #: (the page's own timer and the network), seconds.
    massage_max_gap_s: float = Field(default=1.0, gt=0, le=30.0)
    massage_grace_s: float = Field(default=1.0, ge=0, le=10.0)
    #: With ``REDIS_URL``, a held slot (JPEG mode, a member's socket) is a lease in Redis renewed every
    #: third of this while held: a killed worker's slots come back after at most this long (seconds).
    slot_lease_s: float = Field(default=60.0, ge=1.0, le=3600.0)


@dataclass(frozen=True)
class InputLimits:
    """What vision may be asked to read (bytes, pixels, seconds), handed to it as an argument so that an
    app built with its own :class:`Settings` applies its own limits (vision never reads settings).

    ``decode_side_px`` bounds the memory a picture costs: it is reduced while it is decoded (JPEG by the
    decoder's DCT scaling, other formats right after decoding, before any conversion) to about this
    longest side. The scan works at 2000 px (``facecoach.vision.scan.MAX_SCAN_SIDE_PX``), where a face
    filling the picture still has an iris of ~60 px, so decoding to more would only cost memory.
    """

    max_image_bytes: int = 15 * 1024 * 1024
    #: Pixels a picture may declare (its header is read before anything is decoded).
    max_image_pixels: int = 17_000_000
    #: Pixels a PNG or WebP may declare: they cannot be reduced while decoding, so they are decoded
    #: whole (up to ~15 bytes a pixel at the peak, bench/bench_scan_memory.py); 8.4 Mpx is 4K UHD.
    max_png_webp_pixels: int = 8_400_000
    #: Longest side (px) a picture is reduced to while it is decoded (at least 1000 px).
    decode_side_px: int = 2000
    max_video_bytes: int = 200 * 1024 * 1024
    max_video_seconds: float = 600.0


_LIMITS = InputLimits()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FACECOACH_", extra="ignore")

    #: The live-coaching socket's limits (environment ``FACECOACH_LIVE_*``, read when Settings is built).
    live: LiveSettings = Field(default_factory=LiveSettings)

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

    # Limits on input (bytes, pixels, seconds); vision gets them as :attr:`input_limits`.
    max_image_bytes: int = _LIMITS.max_image_bytes
    #: 17 Mpx: a 16 Mpx camera's photo (a 12 Mpx phone's is 12.2 Mpx); a face scan needs 2000 px.
    max_image_pixels: int = _LIMITS.max_image_pixels
    max_png_webp_pixels: int = _LIMITS.max_png_webp_pixels
    decode_side_px: int = Field(default=_LIMITS.decode_side_px, ge=1000)
    max_video_bytes: int = _LIMITS.max_video_bytes
    max_video_seconds: float = _LIMITS.max_video_seconds
    #: Photo scans decoding or landmarking at once in one process, and per member (more answer 503/429
    #: with Retry-After, never wait in a queue): each costs up to ~150 MB (bench/bench_scan_memory.py).
    max_scans_in_flight: int = Field(default=2, ge=1)
    max_scans_per_member: int = Field(default=1, ge=1)
    #: Video audits waiting or running on the site, and per member (more answer 503/429).
    max_audits_pending: int = Field(default=8, ge=1)
    max_audits_per_member: int = Field(default=2, ge=1)

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

    @property
    def input_limits(self) -> InputLimits:
        return InputLimits(
            max_image_bytes=self.max_image_bytes,
            max_image_pixels=self.max_image_pixels,
            max_png_webp_pixels=self.max_png_webp_pixels,
            decode_side_px=self.decode_side_px,
            max_video_bytes=self.max_video_bytes,
            max_video_seconds=self.max_video_seconds,
        )

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
    #: The SMTP server as one URL, ``smtp://host:port?starttls=1`` with ``USER:PASSWORD@`` before the
    #: host for a login (``smtps`` is refused:
    #: use STARTTLS); when set it fills the five ``smtp_*`` settings above (docs/studio.md).
    smtp_url: str = ""

    # Payments (docs/payments.md): the test provider unless a Stripe secret key is set.
    #: Stripe's secret API key (``sk_live_…``/``sk_test_…``); empty: the built-in test provider.
    stripe_secret_key: str = ""
    #: The signing secret of the webhook endpoint (``whsec_…``) that Stripe posts events to.
    stripe_webhook_secret: str = ""
    #: Stripe price id of each plan's billing option, as JSON: ``{"member-monthly": "price_…",
    #: "member-yearly": "price_…"}`` (every billing option in plans.yaml needs one).
    stripe_prices: dict[str, str] = Field(default_factory=dict)
    #: Where the Stripe client sends its requests; empty: Stripe's own API. For a local fake or stripe-mock.
    stripe_api_base: str = ""
    #: Webhook signatures older than this are refused (seconds; Stripe's own library default is 300).
    stripe_webhook_tolerance_s: int = Field(default=300, ge=1, le=3600)

    @model_validator(mode="after")
    def _smtp_from_url(self) -> Settings:
        if self.smtp_url:
            parsed = parse_smtp_url(self.smtp_url)
            self.smtp_host, self.smtp_port, self.smtp_starttls = parsed.host, parsed.port, parsed.starttls
            self.smtp_user, self.smtp_password = parsed.user, parsed.password
        return self


class SmtpUrlError(ValueError):
    """``FACECOACH_SMTP_URL`` is not of the form smtp://host:port?starttls=1 (a login before the host)."""


@dataclass(frozen=True)
class SmtpUrl:
    host: str
    port: int
    starttls: bool
    user: str
    password: str


_TRUE = ("1", "true", "yes", "on")


def parse_smtp_url(url: str) -> SmtpUrl:
    """``smtp://host[:port][?starttls=1]``, a login ``USER:PASSWORD@`` before the host → its parts
    (user and password
    percent-decoded; port 25 by default, 587 by default with STARTTLS). Implicit TLS (``smtps``) is
    not supported by :class:`SmtpMailer`, so it is refused rather than sent in the clear."""
    parts = urlsplit(url.strip())
    if parts.scheme != "smtp":
        raise SmtpUrlError(f"FACECOACH_SMTP_URL must start with smtp:// (got {parts.scheme or 'nothing'}://)")
    if not parts.hostname:
        raise SmtpUrlError("FACECOACH_SMTP_URL has no host")
    query = {k.lower(): v[-1].lower() for k, v in parse_qs(parts.query).items()}
    unknown = set(query) - {"starttls"}
    if unknown:
        raise SmtpUrlError(f"FACECOACH_SMTP_URL: unknown option {sorted(unknown)[0]!r} (only starttls)")
    starttls = query.get("starttls", "0") in _TRUE
    try:
        port = parts.port or (587 if starttls else 25)
    except ValueError:
        raise SmtpUrlError("FACECOACH_SMTP_URL has a port that is not a number from 1 to 65535") from None
    return SmtpUrl(
        host=parts.hostname,
        port=port,
        starttls=starttls,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
