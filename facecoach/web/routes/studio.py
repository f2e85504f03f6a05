"""Every route of the instructor's studio (docs/studio.md), as one router for the app to include."""

from __future__ import annotations

from fastapi import APIRouter

from facecoach.web.routes import dashboard, lessons, mail_prefs, programs

router = APIRouter()
for part in (dashboard.router, lessons.router, programs.router, mail_prefs.router):
    router.include_router(part)
