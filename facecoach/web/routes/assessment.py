"""The assessment wizard: the planner's questionnaire, then a photo (upload or webcam snapshot) for the
face scan, with the annotated picture shown back. Measurements are always stored; the picture only if
the member ticks the box."""

from __future__ import annotations

import base64
import logging
import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from facecoach.errors import without_paths
from facecoach.members.models import Assessment, Scan
from facecoach.planning.questionnaire import default_questionnaire
from facecoach.vision.scan_describe import describe
from facecoach.web.deps import CtxDep, CurrentUser, SessionDep, Viewer, redirect, render
from facecoach.web.questionnaire_form import (
    FormError,
    FormValues,
    answers_to_form,
    form_to_answers,
    submitted_values,
)
from facecoach.web.uploads import UploadRefused, is_file, scan_upload, store_scan

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)
REGIONS_FOR_FORM = ("forehead", "brows", "eyes", "nose", "cheeks", "mouth", "chin", "jaw", "neck")


def latest_assessment(db: Session, user_id: int) -> Assessment | None:
    return db.scalar(
        select(Assessment).where(Assessment.user_id == user_id).order_by(Assessment.id.desc()).limit(1)
    )


def latest_scan(db: Session, user_id: int) -> Scan | None:
    return db.scalar(select(Scan).where(Scan.user_id == user_id).order_by(Scan.id.desc()).limit(1))


@router.get("/assessment")
def assessment_page(request: Request, viewer: CurrentUser, db: SessionDep) -> Response:
    previous = latest_assessment(db, viewer.id)
    questionnaire = default_questionnaire()
    return _questionnaire_page(
        request,
        viewer,
        answers_to_form(questionnaire, previous.answers if previous else None),
        answered_before=previous is not None,
    )


def _questionnaire_page(
    request: Request,
    viewer: Viewer,
    values: FormValues,
    *,
    answered_before: bool,
    error: FormError | None = None,
) -> Response:
    """The questionnaire with ``values`` filled in; a refusal is shown beside its question."""
    return render(
        request,
        "assessment.html",
        viewer,
        status_code=400 if error else 200,
        questionnaire=default_questionnaire(),
        regions=REGIONS_FOR_FORM,
        values=values,
        answered_before=answered_before,
        error=error,
    )


@router.post("/assessment")
async def assessment_submit(request: Request, viewer: CurrentUser, db: SessionDep) -> Response:
    form = await request.form()
    questionnaire = default_questionnaire()
    try:
        answers = form_to_answers(questionnaire, lambda key: [str(v) for v in form.getlist(key)])
    except FormError as exc:
        values = submitted_values(questionnaire, form.multi_items())
        answered_before = latest_assessment(db, viewer.id) is not None
        return _questionnaire_page(request, viewer, values, answered_before=answered_before, error=exc)
    db.add(Assessment(user_id=viewer.id, answers=answers.model_dump(mode="json")))
    db.commit()
    return redirect("/assessment/scan", request, "Thank you — now the face scan.")


@router.get("/assessment/scan")
def scan_page(request: Request, viewer: CurrentUser, db: SessionDep) -> Response:
    if latest_assessment(db, viewer.id) is None:
        return redirect("/assessment", request, "Answer the questions first.", "error")
    return render(request, "assessment_scan.html", viewer, error=None)


@router.post("/assessment/scan")
async def scan_submit(
    request: Request,
    viewer: CurrentUser,
    ctx: CtxDep,
    db: SessionDep,
) -> Response:
    assessment = latest_assessment(db, viewer.id)
    if assessment is None:
        return redirect("/assessment", request, "Answer the questions first.", "error")
    form = await request.form()
    photo = form.get("photo")
    keep = form.get("keep_picture") == "yes"

    def refuse(message: str, status: int = 400, headers: dict[str, str] | None = None) -> Response:
        response = render(
            request, "assessment_scan.html", viewer, status_code=status, error=without_paths(message)
        )
        response.headers.update(headers or {})
        return response

    if not isinstance(photo, UploadFile) or not is_file(photo):
        return refuse("Choose a photo of your face, or take a snapshot with the camera.")
    with tempfile.TemporaryDirectory(prefix="facecoach-scan-") as tmp:
        try:
            scan, picture = await scan_upload(ctx, viewer.id, photo, Path(tmp))
        except UploadRefused as exc:
            return refuse(exc.message, exc.status, exc.headers)
    store_scan(db, viewer.id, assessment.id, scan, picture, keep)
    return render(
        request,
        "assessment_result.html",
        viewer,
        result=scan.result,
        sentences=describe(scan.result),
        picture_data="data:image/jpeg;base64," + base64.b64encode(picture).decode(),
        kept=keep,
    )
