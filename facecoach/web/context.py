"""What every request handler needs, built once per app (no module-level globals, so several apps —
tests, instances on other ports — live side by side in one process)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi.templating import Jinja2Templates

from facecoach.config import Settings
from facecoach.live.slots import JpegSlots, MemberSlots
from facecoach.members.auth import RateLimiter
from facecoach.members.db import Database
from facecoach.members.library_store import LibraryStore
from facecoach.members.payments import PaymentProvider

if TYPE_CHECKING:
    from facecoach.jobs.runner import Jobs
    from facecoach.web.account_mail import MailJobs
    from facecoach.web.scanner import Scanner


@dataclass
class AppContext:
    settings: Settings
    db: Database
    templates: Jinja2Templates
    payments: PaymentProvider
    login_limiter: RateLimiter
    jobs: Jobs
    library: LibraryStore
    scanner: Scanner
    account_limiter: RateLimiter
    mail_jobs: MailJobs
    #: Live coaching's capacity counts (in this process, or shared through Redis: ``backends.live_slots``).
    jpeg_slots: JpegSlots
    member_slots: MemberSlots
