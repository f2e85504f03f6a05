"""The guided check-in page, its rules for the page's script, the check-in the page sends (landmarks, never
video; the picture only when the member opted in), kept pictures (shown, deleted one by one), the aligned
before/after view and the one-page progress report (HTML and PDF)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import io
import math
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from facecoach.members.models import Checkin
from facecoach.members.practice import session_dates, sessions_per_week, streak
from facecoach.progress import store
from facecoach.progress.checkin import CapturedFrame, CaptureRefused, measure_capture
from facecoach.progress.framing import FramingRules, check_framing, landmark_facts, load_rules
from facecoach.vision.canonical import canonical_face
from facecoach.vision.landmarks import N_LANDMARKS, FaceObservation
from facecoach.web.charts import weekly_bars
from facecoach.web.deps import RowId, Viewer, get_db, get_viewer, redirect, render, upsell
from facecoach.web.progress_view import checkin_view, label_of, pair_changes, unit_of

router = APIRouter(include_in_schema=False)

#: Frames a check-in may send (capture_s × capture_fps is 12 with the shipped rules; some slack).
MAX_FRAMES = 40
#: A kept picture's JPEG, base64 in the JSON body.
MAX_PICTURE_BYTES = 1_500_000
MAX_SIDE_PX = 4096


def _finite_points(rows: list[list[float]]) -> list[list[float]]:
    if len(rows) != N_LANDMARKS or any(len(r) != 3 for r in rows):
        raise ValueError(f"a face has {N_LANDMARKS} points of 3 coordinates")
    if not all(math.isfinite(v) and abs(v) < 1e5 for r in rows for v in r):
        raise ValueError("landmark coordinates must be finite pixel values")
    return rows


class FramePayload(BaseModel):
    """One captured frame as the page landmarked it: the plain pass and the mirrored pass (points as
    found in the flipped picture), the blendshapes, the frame's size and time."""

    model_config = ConfigDict(extra="forbid")
    t: float = Field(ge=0, le=3600)
    width: int = Field(ge=16, le=MAX_SIDE_PX)
    height: int = Field(ge=16, le=MAX_SIDE_PX)
    points: list[list[float]]
    mirrored: list[list[float]] | None = None
    blendshapes: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(default_factory=dict, max_length=64)

    _points = field_validator("points")(_finite_points)

    @field_validator("mirrored")
    @classmethod
    def _mirrored(cls, rows: list[list[float]] | None) -> list[list[float]] | None:
        return None if rows is None else _finite_points(rows)


class LightPayload(BaseModel):
    """The light on the face as the page measured it (framing.py's definitions), worst frame of the clip."""

    model_config = ConfigDict(extra="forbid")
    luma: float = Field(ge=0, le=255)
    clipped: float = Field(ge=0, le=1)
    evenness: float = Field(ge=0, le=1)


class CheckinPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    frames: list[FramePayload] = Field(min_length=1, max_length=MAX_FRAMES)
    light: LightPayload
    keep_picture: bool = False
    picture: str | None = Field(default=None, max_length=MAX_PICTURE_BYTES * 4 // 3 + 64)
    picture_frame: int = Field(default=0, ge=0, lt=MAX_FRAMES)


def _login(viewer: Viewer | None) -> Viewer:
    """Kept pictures are the member's own data: shown and deleted on login alone (also after the plan
    ended), and only the owner's rows are ever found."""
    if viewer is None:
        raise HTTPException(status_code=401, detail="log in first")
    return viewer


def _member(viewer: Viewer | None) -> Viewer:
    if viewer is None:
        raise HTTPException(status_code=401, detail="log in first")
    if not viewer.is_member:
        raise HTTPException(status_code=402, detail="check-ins come with the member plan")
    return viewer


@router.get("/checkin")
def checkin_page(
    request: Request, viewer: Viewer | None = Depends(get_viewer), db: Session = Depends(get_db)
) -> Response:
    if viewer is None or not viewer.is_member:
        return upsell(request, viewer, "member", "Guided check-ins")
    config = {
        "framing_url": "/checkin/framing.json",
        "post_url": "/api/checkin",
        "model_url": "/static/models/face_landmarker.task",
        "wasm_url": "/static/vendor/tasks-vision/wasm",
        "vision_module": "/static/vendor/tasks-vision/vision_bundle.mjs",
        "reference_iris_px": store.reference_iris_px(db, viewer.id),
    }
    return render(request, "checkin.html", viewer, checkin_config=config)


def framing_document(rules: FramingRules) -> dict[str, Any]:
    """The rules and the pose basis the page's script needs (the same data framing.py uses)."""
    from facecoach.progress.framing import _OVAL, LIGHT_REGION
    from facecoach.vision import landmark_ids as ids

    canon = canonical_face()
    return {
        "rules": rules.model_dump(mode="json"),
        "basis": {
            "ids": canon.basis_ids.tolist(),
            "weights": canon.basis_weights.tolist(),
            "vertices": canon.vertices[canon.basis_ids].tolist(),
        },
        "landmarks": {
            "oval": list(_OVAL),
            "nose_tip": ids.NOSE_TIP,
            "right_iris": list(ids.RIGHT_IRIS_HORIZONTAL),
            "left_iris": list(ids.LEFT_IRIS_HORIZONTAL),
        },
        "light_region": list(LIGHT_REGION),
    }


@router.get("/checkin/framing.json")
def framing_json() -> Response:
    return JSONResponse(framing_document(load_rules()), headers={"Cache-Control": "no-cache"})


def _faces(frame: FramePayload) -> tuple[FaceObservation, FaceObservation | None]:
    size = (frame.width, frame.height)
    face = FaceObservation(
        np.array(frame.points, dtype=np.float64), dict(frame.blendshapes), None, size, frame.t
    )
    flipped = None
    if frame.mirrored is not None:  # as found in the flipped picture; measure_capture maps it back
        flipped = FaceObservation(np.array(frame.mirrored, dtype=np.float64), {}, None, size, frame.t)
    return face, flipped


def _refuse(message: str, status: int = 422) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


def _recheck(payload: CheckinPayload, rules: FramingRules, reference: float | None) -> str | None:
    """The server's own check of what it can see: every frame's landmarks, and the reported light."""
    light = payload.light
    lim = rules.light
    if light.luma < lim.min_luma:
        return rules.messages["too_dark"]
    if light.luma > lim.max_luma or light.clipped > lim.max_clipped:
        return rules.messages["too_bright"]
    if light.evenness < lim.min_evenness:
        return rules.messages["uneven_light"]
    for frame in payload.frames:
        face, _ = _faces(frame)
        verdict = check_framing(landmark_facts(face, rules), rules, reference, check_light=False)
        if verdict.problem is not None:
            return verdict.problem.message
    return None


def _kept_picture(payload: CheckinPayload) -> store.KeptPicture | None:
    """The opted-in picture, decoded and re-encoded (nothing but pixels is kept), with its landmarks."""
    if not payload.keep_picture or not payload.picture:
        return None
    from PIL import Image, UnidentifiedImageError

    data = payload.picture.split(",", 1)[-1]
    try:
        raw = base64.b64decode(data, validate=True)
        with Image.open(io.BytesIO(raw)) as im:
            if im.format != "JPEG" or max(im.size) > MAX_SIDE_PX:
                raise ValueError("not a JPEG of a sensible size")
            rgb = im.convert("RGB")
    except (binascii.Error, ValueError, OSError, UnidentifiedImageError):
        raise HTTPException(status_code=400, detail="the picture is not a readable JPEG") from None
    if payload.picture_frame >= len(payload.frames):
        raise HTTPException(status_code=400, detail="picture_frame names no captured frame")
    frame = payload.frames[payload.picture_frame]
    kx, ky = rgb.width / frame.width, rgb.height / frame.height
    points = [[p[0] * kx, p[1] * ky] for p in frame.points]
    out = io.BytesIO()
    rgb.save(out, format="JPEG", quality=88)
    return store.KeptPicture(out.getvalue(), points)


@router.post("/api/checkin")
async def checkin_submit(
    request: Request, viewer: Viewer | None = Depends(get_viewer), db: Session = Depends(get_db)
) -> Response:
    member = _member(viewer)  # before the body is read: a non-member learns nothing from a validation
    if not request.headers.get("content-type", "").startswith("application/json"):
        return _refuse("send the check-in as JSON (Content-Type: application/json)", 415)
    try:
        payload = CheckinPayload.model_validate(await request.json())
    except ValueError as exc:  # pydantic's ValidationError and a body that is not JSON
        errors = getattr(exc, "errors", None)
        first = errors()[0] if callable(errors) else {"loc": (), "msg": "the body is not JSON"}
        where = ".".join(str(p)[:40] for p in first.get("loc", ()))
        return _refuse(f"{where or 'body'}: {first.get('msg', 'invalid')}")
    return await run_in_threadpool(_store_checkin, payload, member, db)


def _store_checkin(payload: CheckinPayload, member: Viewer, db: Session) -> Response:
    """CPU work (pose fits, measures, the picture) off the event loop."""
    rules = load_rules()
    problem = _recheck(payload, rules, store.reference_iris_px(db, member.id))
    if problem is not None:
        return _refuse(f"The check-in was not framed as the rules ask: {problem}")
    captured = [CapturedFrame(f.t, *_faces(f)) for f in payload.frames]
    try:
        measures = measure_capture(captured)
    except CaptureRefused as exc:
        return _refuse(exc.message)
    picture = _kept_picture(payload)
    row = store.save_checkin(db, member.id, measures, "page", picture)
    return JSONResponse(
        {
            "id": row.id,
            "values": measures.values,
            "spread": measures.spread,
            "picture_kept": picture is not None,
        },
        status_code=201,
    )


def _own_checkin(db: Session, viewer: Viewer, checkin_id: int) -> Checkin:
    row = db.get(Checkin, checkin_id)
    if row is None or row.user_id != viewer.id:
        raise HTTPException(status_code=404, detail="No such check-in.")
    return row


@router.get("/checkin/pictures/{checkin_id}.jpg")
def picture_file(
    checkin_id: RowId, viewer: Viewer | None = Depends(get_viewer), db: Session = Depends(get_db)
) -> Response:
    member = _login(viewer)
    picture = store.picture_of(db, member.id, checkin_id)
    if picture is None:
        raise HTTPException(status_code=404, detail="No such picture.")
    return Response(picture.jpeg, media_type="image/jpeg", headers={"Cache-Control": "private, no-store"})


@router.post("/checkin/pictures/{checkin_id}/delete")
def picture_delete(
    request: Request,
    checkin_id: RowId,
    viewer: Viewer | None = Depends(get_viewer),
    db: Session = Depends(get_db),
) -> Response:
    member = _login(viewer)
    if not store.delete_picture(db, member.id, checkin_id):
        raise HTTPException(status_code=404, detail="No such picture.")
    return redirect("/progress/compare", request, "The picture is deleted; the check-in's measures stay.")


def _decode(jpeg: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(jpeg)) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8)


def aligned_jpegs(db: Session, user_id: int, before_id: int, after_id: int) -> tuple[bytes, bytes, float]:
    """The two kept pictures aligned on the face (JPEG each) and the alignment's residual."""
    from PIL import Image

    from facecoach.progress.align import align_pair

    a, b = store.picture_of(db, user_id, before_id), store.picture_of(db, user_id, after_id)
    if a is None or b is None:
        raise HTTPException(status_code=404, detail="Both check-ins need a kept picture.")
    pair = align_pair(_decode(a.jpeg), np.array(a.points), _decode(b.jpeg), np.array(b.points))
    out = []
    for rgb in (pair.before, pair.after):
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="JPEG", quality=88)
        out.append(buf.getvalue())
    return out[0], out[1], pair.residual


@router.get("/progress/compare/{before_id}/{after_id}/{side}.jpg")
def compare_image(
    before_id: RowId,
    after_id: RowId,
    side: str,
    viewer: Viewer | None = Depends(get_viewer),
    db: Session = Depends(get_db),
) -> Response:
    member = _login(viewer)
    if side not in ("before", "after"):
        raise HTTPException(status_code=404, detail="Not found.")
    before, after, _ = aligned_jpegs(db, member.id, before_id, after_id)
    return Response(
        before if side == "before" else after, media_type="image/jpeg", headers={"Cache-Control": "no-store"}
    )


def _pick_pair(ids: list[int], before: int | None, after: int | None) -> tuple[int, int] | None:
    if len(ids) < 2:
        return None
    b = before if before in ids else ids[0]
    a = after if after in ids and after != b else ids[-1] if ids[-1] != b else ids[0]
    return b, a


@router.get("/progress/compare")
def compare_page(
    request: Request,
    before: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    after: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    viewer: Viewer | None = Depends(get_viewer),
    db: Session = Depends(get_db),
) -> Response:
    if viewer is None or not viewer.is_member:
        return upsell(request, viewer, "member", "Before and after")
    view = checkin_view(db, viewer.id)
    pair = _pick_pair(view.picture_ids, before, after)
    context: dict[str, Any] = {"view": view, "pair": None, "changes": {}, "residual": None}
    if pair is not None:
        b_row, a_row = _own_checkin(db, viewer, pair[0]), _own_checkin(db, viewer, pair[1])
        _, _, residual = aligned_jpegs(db, viewer.id, *pair)
        context.update(
            pair={"before": b_row, "after": a_row},
            changes=pair_changes(db, viewer.id, b_row, a_row),
            residual=residual,
        )
    return render(request, "compare.html", viewer, label_of=label_of, unit_of=unit_of, **context)


def report_data(db: Session, viewer: Viewer) -> dict[str, Any]:
    """What the one-page report shows (HTML and PDF alike)."""
    today = dt.datetime.now(dt.UTC).date()
    dates = session_dates(db, viewer.id)
    weeks = sessions_per_week(dates, today)
    view = checkin_view(db, viewer.id, chart_prefix="report")
    pair = _pick_pair(view.picture_ids, None, None)
    data: dict[str, Any] = {
        "today": today,
        "name": viewer.name or viewer.email,
        "view": view,
        "weeks": weeks,
        "sessions_chart": weekly_bars(weeks, chart_id="report-sessions"),
        "streak": streak(dates, today),
        "total_sessions": len(dates),
        "active_weeks": sum(1 for _, n in weeks if n),
        "pair": None,
        "images": None,
    }
    if pair is not None:
        before, after, residual = aligned_jpegs(db, viewer.id, *pair)
        data["pair"] = {
            "before": _own_checkin(db, viewer, pair[0]),
            "after": _own_checkin(db, viewer, pair[1]),
        }
        data["images"] = (before, after, residual)
    return data


@router.get("/progress/report")
def report_page(
    request: Request, viewer: Viewer | None = Depends(get_viewer), db: Session = Depends(get_db)
) -> Response:
    if viewer is None or not viewer.is_member:
        return upsell(request, viewer, "member", "Progress report")
    data = report_data(db, viewer)
    images = data.pop("images")
    uris = None
    if images is not None:
        uris = ["data:image/jpeg;base64," + base64.b64encode(j).decode() for j in images[:2]]
    return render(request, "report.html", viewer, label_of=label_of, unit_of=unit_of, pair_uris=uris, **data)


@router.get("/progress/report.pdf")
def report_pdf(viewer: Viewer | None = Depends(get_viewer), db: Session = Depends(get_db)) -> Response:
    from facecoach.progress.report_pdf import ReportMeasure, build_report

    member = _member(viewer)
    data = report_data(db, member)
    view = data["view"]
    measures = [
        ReportMeasure(
            label=m.label,
            unit=m.unit,
            svg=str(m.chart),
            mdc95=m.noise.mdc95,
            delta=m.change.delta if m.change else None,
            beyond=m.change.beyond_noise if m.change else False,
        )
        for m in view.measures
    ]
    pdf = build_report(
        name=data["name"],
        today=data["today"],
        checkins=view.count,
        streak=data["streak"],
        total_sessions=data["total_sessions"],
        active_weeks=data["active_weeks"],
        weeks=len(data["weeks"]),
        measures=measures,
        pair=data["images"][:2] if data["images"] else None,
        # Drawn narrower than on the page, so its labels are legible on paper.
        sessions_svg=str(weekly_bars(data["weeks"], chart_id="pdf-sessions", width=400)),
    )
    headers = {
        "Content-Disposition": 'attachment; filename="facecoach-progress.pdf"',
        "Cache-Control": "no-store",
    }
    return Response(pdf, media_type="application/pdf", headers=headers)
