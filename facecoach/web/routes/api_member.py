"""The member's own work through the API, calling what the pages call: the assessment answers, the face
scan (a photo or a short video), video audits (upload, list, poll), live-coaching session tickets and
deleting the account. Uploads are multipart, within the same byte limits and capacity as the pages."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from facecoach.members.api_tokens import TOKEN_CREDENTIAL, session_credential
from facecoach.members.data_rights import delete_member
from facecoach.members.models import Scan
from facecoach.planning.assessment import Answers
from facecoach.planning.questionnaire import default_questionnaire
from facecoach.vision.scan import ScanResult
from facecoach.vision.scan_describe import describe
from facecoach.web.deps import CtxDep, CurrentUser, MemberUser, SessionDep, Viewer, scope, token_scope
from facecoach.web.live import TICKET_SECONDS, make_ticket, session_steps
from facecoach.web.routes.api import AuditOut, audit_out
from facecoach.web.routes.api_docs import answers
from facecoach.web.routes.assessment import latest_assessment
from facecoach.web.routes.member import _audit_techniques, _jobs_for
from facecoach.web.uploads import UploadRefused, scan_upload, store_scan, submit_audit

router = APIRouter(prefix="/api", dependencies=[Depends(token_scope)], responses=answers(401, 403))


def _refused(exc: UploadRefused) -> JSONResponse:
    return JSONResponse(
        {"detail": exc.message, "code": exc.code}, status_code=exc.status, headers=exc.headers
    )


# -- assessment ---------------------------------------------------------------------------------------------


class AssessmentOut(BaseModel):
    answers: Answers | None = Field(description="the latest answers (None: not answered yet)")
    answered_at: str | None
    questionnaire: dict[str, Any] = Field(description="the questions, as the assessment page renders them")


@router.get("/assessment", response_model=AssessmentOut, tags=["assessment"])
def get_assessment(viewer: CurrentUser, db: SessionDep) -> AssessmentOut:
    """Your latest questionnaire answers (the planner's ``Answers``), and the questionnaire itself."""
    row = latest_assessment(db, viewer.id)
    return AssessmentOut(
        answers=Answers.model_validate(row.answers) if row is not None else None,
        answered_at=row.created_at.isoformat() if row is not None else None,
        questionnaire=default_questionnaire().model_dump(mode="json"),
    )


@router.put("/assessment", response_model=AssessmentOut, responses=answers(422), tags=["assessment"])
def put_assessment(body: Answers, viewer: CurrentUser, db: SessionDep) -> AssessmentOut:
    """Answer (or retake) the assessment: the routine is planned from the latest answers. A refusal (422)
    names the field, as the page shows it beside its question."""
    from facecoach.members.models import Assessment

    row = Assessment(user_id=viewer.id, answers=body.model_dump(mode="json"))
    db.add(row)
    db.commit()
    return get_assessment(viewer, db)


# -- face scan ----------------------------------------------------------------------------------------------


class ScanOut(BaseModel):
    id: int
    result: ScanResult
    sentences: list[str] = Field(description="what the scan found, in plain words (as the result page)")
    picture_kept: bool


@router.post(
    "/scan",
    status_code=201,
    response_model=ScanOut,
    responses=answers(400, 409, 413, 422, 429, 503),
    tags=["assessment"],
)
async def post_scan(
    viewer: CurrentUser,
    ctx: CtxDep,
    db: SessionDep,
    file: UploadFile = File(description="a photo (JPEG, PNG, WebP) or a short still-face video"),
    keep_picture: bool = Form(False, description="keep the annotated picture (biometric: off by default)"),
) -> Response | ScanOut:
    """Scan a photo or a few seconds of video of your neutral face: head pose and left-vs-right asymmetry
    in mm. Refused with the reason: 422 (``code``: no_face, head_turned, expression, …), 400 unreadable,
    413 too large, 429/503 busy. 409 until the assessment is answered. Measurements are stored; the
    picture only with ``keep_picture``."""
    assessment = latest_assessment(db, viewer.id)
    if assessment is None:
        raise HTTPException(status_code=409, detail="answer the assessment first (PUT /api/assessment)")
    with tempfile.TemporaryDirectory(prefix="facecoach-scan-") as tmp:
        try:
            scan, picture = await scan_upload(ctx, viewer.id, file, Path(tmp), videos=True)
        except UploadRefused as exc:
            return _refused(exc)
    row = store_scan(db, viewer.id, assessment.id, scan, picture, keep_picture)
    return ScanOut(
        id=row.id, result=scan.result, sentences=describe(scan.result), picture_kept=row.picture is not None
    )


@router.get("/scans", response_model=list[ScanOut], tags=["assessment"])
def list_scans(viewer: CurrentUser, db: SessionDep) -> list[ScanOut]:
    """Your scans, newest first (the stored measurements; a scan that no longer validates is left out)."""
    rows = db.scalars(select(Scan).where(Scan.user_id == viewer.id).order_by(Scan.id.desc()).limit(100))
    out = []
    for row in rows:
        try:
            result = ScanResult.model_validate(row.measurements)
        except ValueError:
            continue
        out.append(
            ScanOut(
                id=row.id, result=result, sentences=describe(result), picture_kept=row.picture is not None
            )
        )
    return out


# -- video audits -------------------------------------------------------------------------------------------


@router.get("/audits", response_model=list[AuditOut], responses=answers(402), tags=["audits"])
def list_audits(viewer: MemberUser, db: SessionDep) -> list[AuditOut]:
    """Your latest 30 audits, newest first (an audit is private: the instructor sees only her own)."""
    return [audit_out(job) for job in _jobs_for(db, viewer)]


@router.post(
    "/audits",
    status_code=202,
    response_model=AuditOut,
    responses=answers(400, 402, 413, 422, 429, 503),
    tags=["audits"],
)
async def post_audit(
    viewer: MemberUser,
    ctx: CtxDep,
    db: SessionDep,
    technique: str = Form(
        "",
        max_length=100,
        description="the exercise the video shows (a technique id), or empty: any tutorial",
    ),
    video: UploadFile = File(description="the video (MP4, WebM, AVI, MOV)"),
) -> Response | AuditOut:
    """Upload a video of one exercise for an audit: 202 with the queued job; poll
    ``GET /api/audits/{id}`` until ``done`` (the result) or ``failed`` (the reason). 400 unknown exercise
    or empty file, 413 too large, 429 you have audits running, 503 the site is busy."""
    exercises = {t.id for t in _audit_techniques(ctx, db)}
    try:
        job = await submit_audit(ctx, db, viewer.id, technique, video, exercises)
    except UploadRefused as exc:
        return _refused(exc)
    return audit_out(job)


# -- live coaching -------------------------------------------------------------------------------------------


class LiveRequest(BaseModel):
    technique: str | None = Field(None, max_length=100, description="one technique; default: today's routine")
    reps: int | None = Field(None, ge=1, le=100, description="fewer reps per exercise (never more)")


class LiveTicket(BaseModel):
    ticket: str = Field(
        description="opens the socket without the cookie, once (ask anew to reconnect), within `expires_in_s`"
    )
    expires_in_s: int
    ws_path: str = Field(description="connect a WebSocket here (same host), with the ticket in the query")
    steps: list[dict[str, Any]] = Field(description="the session's steps, as the live page gets them")
    max_fps: float
    model_url: str = Field(description="the Face Landmarker asset, to compute landmarks on the device")
    protocol: str = Field(description="the frame format and messages: docs/live-protocol.md")


def _credential(viewer: Viewer) -> str:
    if viewer.token_id is not None:
        return f"{TOKEN_CREDENTIAL}{viewer.token_id}"
    return session_credential(viewer.session_id)


@router.post(
    "/live/tokens",
    status_code=201,
    response_model=LiveTicket,
    responses=answers(402, 404, 422),
    tags=["live"],
)
def live_ticket(
    request: Request, body: LiveRequest, viewer: MemberUser, ctx: CtxDep, db: SessionDep
) -> LiveTicket:
    """Start a live-coaching session: the steps (today's routine, or ``technique``) and a short-lived
    ticket for ``/live/ws?ticket=…``, the socket the live page uses (landmark frames in, cues out). The
    socket re-checks the sign-in behind the ticket (a revoked token closes it, 4401). A ticket opens one
    socket: a second connection with it is refused (4401)."""
    steps = session_steps(db, ctx, viewer.id, body.technique, body.reps)
    if steps is None:
        raise HTTPException(status_code=404, detail=f"no technique {body.technique!r}")
    ticket = make_ticket(request, viewer.id, _credential(viewer))
    return LiveTicket(
        ticket=ticket,
        expires_in_s=TICKET_SECONDS,
        ws_path="/live/ws?ticket=" + ticket,
        steps=steps,
        max_fps=ctx.settings.live.max_fps,
        model_url="/static/models/face_landmarker.task",
        protocol="docs/live-protocol.md: binary landmark frames in, JSON control messages and cues out",
    )


# -- the account ---------------------------------------------------------------------------------------------


class DeleteAccount(BaseModel):
    confirm: str = Field(max_length=254, description="your email address, to confirm")


class Deleted(BaseModel):
    deleted: bool
    at: str


@router.delete("/account", response_model=Deleted, responses=answers(422), tags=["account"])
@scope("account")
def delete_account(body: DeleteAccount, viewer: CurrentUser, db: SessionDep) -> Deleted | Response:
    """Delete your account and everything of yours (as the account page does): ``confirm`` must be your
    email address (422 otherwise). Your sessions and tokens end with it."""
    if body.confirm.strip().lower() != viewer.email.lower():
        return JSONResponse({"detail": "confirm: type your email address to confirm the deletion"}, 422)
    delete_member(db, viewer.id)
    db.commit()
    return Deleted(deleted=True, at=dt.datetime.now(dt.UTC).isoformat())
