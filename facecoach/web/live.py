"""Live coaching in the browser (issue 8): the session page ``/live`` and its WebSocket ``/live/ws``.

Mode ``landmarks`` (default, private): the page runs the Face Landmarker itself and sends only compact
binary landmark frames; the video never leaves the device. Mode ``jpeg``: the page sends JPEG frames and
the server runs the same landmarker and the forehead crease energy. Either way the coaching engine's
evaluator runs here and its events go back as JSON. The wire format, limits and close codes are in
``docs/live-protocol.md``.

This module is only the web side: the page, the socket's login and origin checks, and the receive/send
loop. What it runs is :mod:`facecoach.live` (codec ``protocol``, per-connection state ``session``, step
checks ``checks``, server mode ``server_mode``, capacity ``slots``, re-checks ``access``, page steps
``steps``); the limits are ``settings.live`` of the app's :class:`facecoach.config.Settings`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

import anyio
from fastapi import APIRouter, Request, WebSocket
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocketDisconnect, WebSocketState

from facecoach.coaching.evaluator import evaluator_for
from facecoach.config import LiveSettings
from facecoach.knowledge import Library
from facecoach.live.access import SIGNED_OUT, claim_ticket, still_allowed
from facecoach.live.protocol import (
    CLOSE_FORBIDDEN,
    CLOSE_NORMAL,
    CLOSE_POLICY,
    CLOSE_SERVER_ERROR,
    CLOSE_TRY_LATER,
    CLOSE_UNAUTHENTICATED,
    JpegFrame,
    LandmarkFrame,
    NoFaceFrame,
    ProtocolError,
    RateLimiter,
    decode_control,
    decode_frame,
)
from facecoach.live.server_mode import ServerLandmarker
from facecoach.live.session import LOW_RATE_EVERY, LiveSession, library_specs, library_strokes, saved_record
from facecoach.live.slots import JPEG, SOCKET
from facecoach.live.steps import routine_steps, single_step
from facecoach.members.api_tokens import credential_user
from facecoach.members.models import utcnow
from facecoach.members.session_summary import SessionSummaryError, SummaryRules
from facecoach.web.context import AppContext
from facecoach.web.deps import CtxDep, CurrentUser, MemberUser, Viewer, feature, render, viewer_for
from facecoach.web.diagrams import SIDES_NOTE
from facecoach.web.routes.content import library_of
from facecoach.web.routine import routine_for

log = logging.getLogger(__name__)
router = APIRouter()


# -- the page ------------------------------------------------------------------------------------------------


@router.get("/live", response_class=HTMLResponse, include_in_schema=False)
@feature("Live coaching with your camera")
def live_page(
    request: Request,
    _signed_in: CurrentUser,
    viewer: MemberUser,
    ctx: CtxDep,
    technique: str | None = None,
    reps: int | None = None,
    mode: str | None = None,
) -> Response:
    """Today's routine step by step (or one technique with ``?technique=ID``), members only."""
    with ctx.db.session() as db:
        steps = session_steps(db, ctx, viewer.id, technique, reps)
    if steps is None:
        return render(
            request,
            "error.html",
            viewer,
            status_code=404,
            status=404,
            detail=f"no technique {technique!r}",
        )
    title = steps[0]["name"] if technique is not None else "Today's routine"
    config = {
        "steps": steps,
        "mode": mode if mode in ("landmarks", "jpeg") else None,
        "ws_path": "/live/ws",
        "model_url": "/static/models/face_landmarker.task",
        "hand_model_url": "/static/models/hand_landmarker.task",
        "hands_worker_url": "/static/live/hands-worker.js",  # the Hand Landmarker on its own core
        "hands_low_every": LOW_RATE_EVERY,
        "wasm_url": "/static/vendor/tasks-vision/wasm",
        "vision_module": "/static/vendor/tasks-vision/vision_bundle.mjs",
        "max_fps": ctx.settings.live.max_fps,
        "sides_note": SIDES_NOTE,  # the site's one left/right sentence, under the stroke map too
    }
    return render(
        request,
        "live/session.html",
        viewer,
        title=title,
        steps=steps,
        live_config=config,  # the template serialises it with |tojson: <, >, & and ' escaped
    )


def session_steps(
    db: Session, ctx: AppContext, member_id: int, technique: str | None, reps: int | None
) -> list[dict[str, Any]] | None:
    """The steps of a live session: today's routine, or one technique (None: no such technique); ``reps``
    (1…100) shortens the exercises, never lengthens them. The page and ``POST /api/live/tokens`` use it."""
    library = library_of(ctx, db)
    if technique is None:
        routine = routine_for(db, member_id, library, dt.datetime.now(dt.UTC).date())
        steps = routine_steps(routine.today.plan.items, library) if routine is not None else []
    else:
        steps = single_step(library, technique)
        if not steps:
            return None
    if reps is not None and 1 <= reps <= 100:  # a shorter practice: fewer reps, never more
        steps = [
            {**s, "reps": min(reps, s["reps"])} if s["kind"] == "exercise" and s["reps"] else s for s in steps
        ]
    return steps


@router.get("/static/models/hand_landmarker.task", include_in_schema=False)
def hand_model_asset() -> Response:
    """The Hand Landmarker bundle the page runs beside the face model (the same verified bytes as the
    Python side: :func:`facecoach.vision.hand_model.hand_model_bytes`); 503 when it is not built."""
    from facecoach.vision.hand_model import HandModelError, hand_model_bytes

    try:
        data = hand_model_bytes()
    except HandModelError as exc:
        return Response(str(exc), status_code=503, media_type="text/plain")
    return Response(
        data, media_type="application/octet-stream", headers={"Cache-Control": "public, max-age=86400"}
    )


# -- the socket ----------------------------------------------------------------------------------------------

#: Seconds a live-session ticket (``POST /api/live/tokens``) may wait before its socket opens.
TICKET_SECONDS = 120


def make_ticket(conn: HTTPConnection, member_id: int, credential: str) -> str:
    """A signed, short-lived, single-use ticket that opens ``/live/ws?ticket=…`` for a client without the
    cookie (an app signed in with a personal API token): the member and the credential behind it
    (``tok:<id>``, or ``ses:<hash>`` of a login session), re-checked like a cookie's session while the
    socket is open, and a random nonce (the ticket sits in a URL, so in access logs: once used, a copy of
    it opens nothing, :func:`facecoach.live.access.claim_ticket`)."""
    expires = int(time.time()) + TICKET_SECONDS
    nonce = secrets.token_urlsafe(16)
    return str(conn.app.state.signer.sign(f"live|{member_id}|{credential}|{expires}|{nonce}"))


def _ticket_viewer(ws: WebSocket, db: Session, ticket: str) -> Viewer | None:
    raw = ws.app.state.signer.unsign(ticket)
    parts = raw.split("|") if raw else []
    if len(parts) != 5 or parts[0] != "live" or not parts[3].isdigit() or int(parts[3]) < time.time():
        return None
    if not parts[1].isdigit() or len(parts[1]) > 18 or not 16 <= len(parts[4]) <= 32:
        return None
    user = credential_user(db, parts[2], int(parts[1]))
    if user is None:
        return None
    expires_at = dt.datetime.fromtimestamp(int(parts[3]), dt.UTC).replace(tzinfo=None)
    if not claim_ticket(db, parts[4], expires_at, utcnow()):
        return None  # this ticket has opened a socket already
    return Viewer(id=user.id, email=user.email, name=user.name, plan=user.plan, session_id=parts[2])


def _same_origin(ws: WebSocket) -> bool:
    """Browsers always send Origin on a WebSocket; refuse other sites (cross-site WebSocket hijacking)."""
    origin = ws.headers.get("origin")
    if origin is None:
        return True  # not a browser (tests, the benchmark): the session cookie still has to be valid
    host = ws.headers.get("host", "")
    return urlsplit(origin).netloc == host


def _current_library(ctx: AppContext) -> Library:
    with ctx.db.session() as db:
        return library_of(ctx, db)


def _socket_viewer(ws: WebSocket, ctx: AppContext) -> Viewer | None:
    ticket = ws.query_params.get("ticket")
    with ctx.db.session() as db:
        return _ticket_viewer(ws, db, ticket) if ticket else viewer_for(ws, db)


async def _close(ws: WebSocket, code: int, reason: str) -> None:
    if ws.application_state != WebSocketState.DISCONNECTED:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await ws.close(code=code, reason=reason[:120])


async def live_socket(ws: WebSocket) -> None:
    """The coaching socket. Registered as a plain Starlette route (below): the app's HTTP-level
    dependencies (CSRF on forms) do not apply to a WebSocket, which checks its Origin instead."""
    ctx: AppContext = ws.app.state.ctx
    limits = ctx.settings.live
    # The web app's own session check (cookie → server-side session); a WebSocket is an HTTP connection
    # with the same cookies, read by the same function as a request's viewer (in a session of its own).
    viewer = await anyio.to_thread.run_sync(_socket_viewer, ws, ctx)
    await ws.accept()
    if not _same_origin(ws):
        await _close(ws, CLOSE_POLICY, "cross-site connection refused")
        return
    if viewer is None:
        await _close(ws, CLOSE_UNAUTHENTICATED, "log in first")
        return
    if not viewer.is_member:
        await _close(ws, CLOSE_FORBIDDEN, "live coaching needs the Member plan")
        return
    members = ctx.member_slots
    cap = limits.max_sockets_per_member
    if not await anyio.to_thread.run_sync(members.acquire, SOCKET, viewer.id, cap):
        await _close(ws, CLOSE_TRY_LATER, f"your account has {cap} live sessions open: close one first")
        return
    handler: _Connection | None = None
    try:
        library = await anyio.to_thread.run_sync(_current_library, ctx)
        handler = _Connection(ws, ctx, viewer, limits, library)
        await handler.run()
    except ProtocolError as exc:
        await _close(ws, exc.code, exc.reason)
    except WebSocketDisconnect:
        pass
    except Exception:  # one bad connection must never take others down
        log.exception("live socket failed")
        await _close(ws, CLOSE_SERVER_ERROR, "server error")
    finally:
        if handler is not None:
            handler.cleanup()
        members.release(SOCKET, viewer.id)


router.add_websocket_route("/live/ws", live_socket, name="live_socket")


class _Connection:
    def __init__(
        self, ws: WebSocket, ctx: AppContext, viewer: Viewer, limits: LiveSettings, library: Library
    ) -> None:
        self.ws = ws
        self.ctx = ctx
        self.viewer = viewer
        self.limits = limits
        self.session = LiveSession(
            library_specs(library),
            evaluator_for,
            limits.max_steps,
            massage_max_gap_s=limits.massage_max_gap_s,
            massage_grace_s=limits.massage_grace_s,
            strokes=library_strokes(library),
        )
        self.rate = RateLimiter(limits.max_fps, limits.burst_frames)
        self.mode: str | None = None
        self.last_seq: int | None = None
        self.server_lm: ServerLandmarker | None = None
        self.jpeg_frames = 0  # JPEG frames so far: the server looks for hands in every few of them
        self.jpeg_slot = False
        self.member_jpeg = False
        self.started = time.monotonic()
        self.next_check = self.started + limits.session_recheck_s

    async def run(self) -> None:
        await self.ws.send_json({"type": "hello", "protocol": 1, "max_fps": self.limits.max_fps})
        last_message = time.monotonic()
        while True:
            now = time.monotonic()
            if now >= self.next_check:  # also while frames stream in: a busy socket never waits
                await self._recheck()
            idle_left = self.limits.idle_timeout_s - (now - last_message)
            if idle_left <= 0:
                raise ProtocolError("idle for too long")
            try:
                with anyio.fail_after(min(idle_left, max(0.0, self.next_check - now))):
                    message = await self.ws.receive()
            except TimeoutError:
                continue  # the re-check is due, or the idle limit is reached: both are handled above
            last_message = time.monotonic()
            if message["type"] == "websocket.disconnect":
                return
            if time.monotonic() - self.started > self.limits.max_session_s:
                raise ProtocolError("the session is too long")
            data = message.get("bytes")
            text = message.get("text")
            if data is not None:
                await self._frame(data)
            elif text is not None and await self._control(text):
                return

    async def _control(self, text: str) -> bool:
        msg = decode_control(text, self.limits)
        if msg.mode is not None:
            await self._set_mode(msg.mode)
        replies = self.session.control(msg)
        for reply in replies:
            await self.ws.send_json(reply)
        if self.session.finished:
            await self._finish()
            return True
        return False

    async def _recheck(self) -> None:
        """Close (4401/4403) once the login session is gone or the plan no longer includes live coaching."""
        viewer = self.viewer
        refusal = await anyio.to_thread.run_sync(still_allowed, self.ctx.db, viewer.session_id, viewer.id)
        self.next_check = time.monotonic() + self.limits.session_recheck_s
        if refusal is not None:
            raise ProtocolError(refusal.reason, refusal.code)

    async def _set_mode(self, mode: str) -> None:
        if self.mode is not None and self.mode != mode:
            raise ProtocolError("the mode cannot change during a session")
        if mode == "jpeg" and not self.member_jpeg:
            members = self.ctx.member_slots
            cap = self.limits.max_jpeg_sessions_per_member
            if not await anyio.to_thread.run_sync(members.acquire, JPEG, self.viewer.id, cap):
                raise ProtocolError(
                    f"your account has {cap} server-mode session(s) open: close one first", CLOSE_TRY_LATER
                )
            self.member_jpeg = True
        if mode == "jpeg" and not self.jpeg_slot:
            # The slot store may be shared across workers (Redis): ask it off the event loop.
            slots = self.ctx.jpeg_slots
            if not await anyio.to_thread.run_sync(slots.acquire, self.limits.max_jpeg_sessions):
                raise ProtocolError("server-side processing is busy: try again later", CLOSE_TRY_LATER)
            self.jpeg_slot = True
        self.mode = mode

    async def _frame(self, data: bytes) -> None:
        arrived = time.perf_counter()
        if not self.rate.allow(time.monotonic()):
            raise ProtocolError(f"more than {self.limits.max_fps:g} frames per second")
        frame = decode_frame(data, self.limits)
        seq = frame.header.seq
        if self.last_seq is not None and seq <= self.last_seq:
            raise ProtocolError("frame sequence numbers must increase")
        self.last_seq = seq
        ts = frame.header.timestamp_ms / 1000.0
        if isinstance(frame, JpegFrame):
            if self.mode is None:
                await self._set_mode("jpeg")
            if self.mode != "jpeg":
                raise ProtocolError("a JPEG frame in landmarks mode")
            if self.server_lm is None:
                self.server_lm = await anyio.to_thread.run_sync(ServerLandmarker)
            face, hands = await anyio.to_thread.run_sync(self.server_lm.process, frame, self._hands_due())
        elif isinstance(frame, LandmarkFrame):
            if self.mode is None:
                self.mode = "landmarks"
            if self.mode != "landmarks":
                raise ProtocolError("a landmark frame in jpeg mode")
            face, hands = frame.face, frame.hands
        else:
            assert isinstance(frame, NoFaceFrame)
            face, hands = None, None
        events = self.session.frame(face, ts, hands)
        # proc_ms: server time from the frame arriving to its reply leaving (decode, landmarks in JPEG
        # mode, evaluator), so a client or the benchmark can tell server time from network time.
        proc_ms = round((time.perf_counter() - arrived) * 1000.0, 3)
        reply: dict[str, Any] = {
            "type": "frame",
            "seq": seq,
            "face": face is not None,
            "events": [e.to_dict() for e in events],  # typed until here: serialised for the socket
            "proc_ms": proc_ms,
        }
        if isinstance(frame, JpegFrame) and face is not None:
            # Server mode: the page has no landmarks of its own to outline the working region with.
            reply["points"] = [round(float(v), 1) for v in face.points_px[:, :2].reshape(-1)]
        if isinstance(frame, JpegFrame) and hands is not None:
            # … nor hand points to draw the hand's path with: 21 x, y pairs per hand.
            reply["hands"] = [[round(float(v), 1) for v in h.points_px[:, :2].reshape(-1)] for h in hands]
        await self.ws.send_json(reply)

    def _hands_due(self) -> bool:
        """Server mode: look for hands in this JPEG frame? Every frame when the step needs them, every
        few frames in an exercise done without hands, never in a timed massage."""
        self.jpeg_frames += 1
        wanted = self.session.hands_wanted
        return wanted == "every" or (wanted == "low" and self.jpeg_frames % LOW_RATE_EVERY == 0)

    async def _finish(self) -> None:
        await self._recheck()  # signed out or deleted meanwhile: 4401, and nothing is saved
        summary = self.session.summary(self.mode or "landmarks")
        saved_id: int | None = None
        if any(s["reps"] > 0 or s["completed"] for s in summary["steps"]):
            saved_id = await anyio.to_thread.run_sync(self._save, summary)
        await self.ws.send_json(
            {"type": "summary", "saved": saved_id is not None, "id": saved_id, "summary": summary}
        )
        await _close(self.ws, CLOSE_NORMAL, "session finished")

    def _save(self, summary: dict[str, Any]) -> int | None:
        """Store the record the server built (source ``live``), checked like a posted one."""
        from sqlalchemy.exc import IntegrityError

        from facecoach.members.practice import record_session

        record, details = saved_record(summary)
        try:
            with self.ctx.db.session() as db:
                record.check(SummaryRules.of(library_of(self.ctx, db)))
                row = record_session(db, self.viewer.id, record, source="live", details=details)
                return int(row.id)
        except SessionSummaryError as exc:
            if str(exc).startswith("member_id"):  # the account was deleted after the re-check
                raise ProtocolError(SIGNED_OUT.reason, SIGNED_OUT.code) from None
            log.warning("live session of member %s not saved: %s", self.viewer.id, exc)
            return None
        except IntegrityError:  # deleted between the member check and the commit
            raise ProtocolError(SIGNED_OUT.reason, SIGNED_OUT.code) from None

    def cleanup(self) -> None:
        if self.server_lm is not None:
            self.server_lm.close()
            self.server_lm = None
        if self.jpeg_slot:
            self.ctx.jpeg_slots.release()
            self.jpeg_slot = False
        if self.member_jpeg:
            self.ctx.member_slots.release(JPEG, self.viewer.id)
            self.member_jpeg = False
