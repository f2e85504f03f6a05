"""The web application factory: server-rendered pages, a JSON API under /api (OpenAPI at /docs), static
files served by facecoach itself (the MediaPipe WASM and the Face Landmarker asset too: no CDN).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from facecoach.config import REPO_DIR, Settings, get_settings
from facecoach.jobs.queue import job_runner
from facecoach.members.auth import RateLimiter
from facecoach.members.db import Database
from facecoach.members.library_store import LibraryStore
from facecoach.members.mail import Mailer, mailer_for
from facecoach.members.payments import PaymentProvider
from facecoach.members.plans import all_plans, money, plan_names
from facecoach.members.stripe_payments import provider_for
from facecoach.web import backends, live
from facecoach.web.account_mail import MailJobs
from facecoach.web.charts import signed
from facecoach.web.context import AppContext
from facecoach.web.deps import (
    LoginRequired,
    PlanRequired,
    Viewer,
    csrf_protect,
    gate_answer,
    render,
    viewer_for,
)
from facecoach.web.routes import (
    account,
    admin,
    api,
    api_docs,
    api_member,
    api_tokens,
    assessment,
    audit_report,
    billing,
    checkin,
    content,
    member,
)
from facecoach.web.routes import guard as guard_routes
from facecoach.web.routes.studio import router as studio_router
from facecoach.web.scanner import Scanner
from facecoach.web.security import (
    ANON_COOKIE,
    HSTS,
    SECURITY_HEADERS,
    BodyLimit,
    ForwardedHeaders,
    Signer,
    allowed_hosts,
    is_https,
    new_anon_id,
    set_cookie,
    trusted_networks,
)

WEB_DIR = Path(__file__).resolve().parent
TASKS_VISION_DIR = REPO_DIR / "node_modules" / "@mediapipe" / "tasks-vision"
SWAGGER_UI_DIR = REPO_DIR / "node_modules" / "swagger-ui-dist"


def _mailer(settings: Settings) -> Mailer:
    return mailer_for(
        settings.smtp_host,
        settings.smtp_port,
        settings.mail_from,
        settings.data_dir,
        starttls=settings.smtp_starttls,
        user=settings.smtp_user,
        password=settings.smtp_password,
    )


def _context(
    settings: Settings,
    database: Database | None,
    payments: PaymentProvider | None,
    login_limiter: RateLimiter | None,
    account_limiter: RateLimiter | None,
    mailer: Mailer | None,
) -> AppContext:
    db = database or Database.connect(settings.database_url)
    jpeg_slots, member_slots = backends.live_slots(settings)
    return AppContext(
        settings=settings,
        db=db,
        templates=Jinja2Templates(directory=str(WEB_DIR / "templates")),
        payments=payments or provider_for(settings),  # Stripe when configured, else the test provider
        login_limiter=login_limiter or backends.login_limiter(settings),
        jobs=job_runner(db, settings),
        library=LibraryStore(),
        scanner=Scanner(
            settings.input_limits,
            settings.model_path,
            settings.max_scans_in_flight,
            settings.max_scans_per_member,
        ),
        account_limiter=account_limiter or backends.account_limiter(settings),
        mail_jobs=MailJobs(db, mailer or _mailer(settings), settings.base_url),
        jpeg_slots=jpeg_slots,
        member_slots=member_slots,
    )


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    payments: PaymentProvider | None = None,
    login_limiter: RateLimiter | None = None,
    account_limiter: RateLimiter | None = None,
    mailer: Mailer | None = None,
) -> FastAPI:
    """Build an app. The database must already be migrated (``facecoach db upgrade`` or ``serve``)."""
    settings = settings or get_settings()
    ctx = _context(settings, database, payments, login_limiter, account_limiter, mailer)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        ctx.jobs.shutdown()
        ctx.scanner.close()
        ctx.mail_jobs.shutdown()

    app = FastAPI(
        lifespan=lifespan,
        title="facecoach",
        description="Facial exercises and massages, told apart, combined in an educated order.",
        version="0.1.0",
        dependencies=[Depends(csrf_protect)],
        docs_url=None,  # served below from the local Swagger UI, under the same CSP as every page
        redoc_url=None,
    )
    app.state.ctx = ctx
    app.state.signer = Signer(settings.secret_key)
    ctx.templates.env.globals["plan_names"] = plan_names()
    ctx.templates.env.filters["signed"] = signed  # +1.5 / -0.3 / 0.0, never -0.0
    ctx.templates.env.globals["money"] = money
    # e.g. the plan /signup?plan= names
    ctx.templates.env.globals["plan_info"] = {p.id: p for p in all_plans()}
    _add_middleware(app, settings)
    _add_error_handlers(app, ctx)
    _add_routes(app, settings, ctx.templates)
    api_docs.install(app)  # the OpenAPI document with the auth schemes and every refusal described
    return app


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    max_body = max(settings.max_video_bytes, settings.max_image_bytes) + 1024 * 1024
    app.add_middleware(BodyLimit, max_bytes=max_body)
    # Links in mail come from FACECOACH_BASE_URL; a request for any other host is refused outright.
    app.add_middleware(
        TrustedHostMiddleware,
        allowed_hosts=allowed_hosts(settings.base_url, settings.allowed_hosts),
        www_redirect=False,
    )

    @app.middleware("http")
    async def _guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > max_body):
            return JSONResponse({"detail": "request body too large"}, status_code=413)
        new_anon = None
        if app.state.signer.unsign(request.cookies.get(ANON_COOKIE)) is None:
            # Every browser has a signed random id: the CSRF base before login (and after a stale session).
            new_anon = new_anon_id()
            request.state.anon_id = new_anon
        response = await call_next(request)
        if new_anon is not None:
            set_cookie(request, response, ANON_COOKIE, app.state.signer.sign(new_anon), max_age=None)
        _secure_headers(request, response)
        return response

    # Outermost: every layer inside, cookies' Secure flag included, sees the client's address and scheme.
    app.add_middleware(ForwardedHeaders, networks=trusted_networks(settings.trusted_proxies))


def _secure_headers(request: Request, response: Response) -> None:
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    if not request.url.path.startswith("/static/"):  # pages hold health data, names, CSRF tokens
        response.headers.setdefault("Cache-Control", "no-store")
    if is_https(request):  # directly or behind a proxy uvicorn trusts (--forwarded-allow-ips)
        response.headers.setdefault("Strict-Transport-Security", HSTS)


def _error_viewer(request: Request, ctx: AppContext) -> Viewer | None:
    """An error page outside the request's dependencies (no request session): a short session of its own."""
    with ctx.db.session() as db:
        return viewer_for(request, db)


def _validation_detail(exc: RequestValidationError) -> str:
    problems = []
    for err in exc.errors()[:5]:
        # A location part may be a client's dict key (a 30 MB fault name): never echo it whole.
        loc = ".".join(str(p)[:40] for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        problems.append(f"{loc or 'input'}: {err.get('msg', 'invalid')}")
    return "; ".join(problems) or "invalid input"


def _add_error_handlers(app: FastAPI, ctx: AppContext) -> None:
    # Starlette's own HTTPException too: an unknown URL (the router's 404) gets the styled page in a browser.
    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        viewer = _error_viewer(request, ctx)
        page = render(
            request,
            "error.html",
            viewer,
            status_code=exc.status_code,
            status=exc.status_code,
            detail=exc.detail,
        )
        page.headers.update(exc.headers or {})
        return page

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if any((err.get("loc") or ("",))[0] == "path" for err in exc.errors()):  # a URL naming nothing
            return await _http_error(request, HTTPException(status_code=404, detail="Not found."))
        detail = _validation_detail(exc)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": detail}, status_code=422)
        viewer = _error_viewer(request, ctx)
        return render(request, "error.html", viewer, status_code=422, status=422, detail=detail)

    async def _gate(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired | PlanRequired)
        return gate_answer(request, exc)

    app.add_exception_handler(LoginRequired, _gate)
    app.add_exception_handler(PlanRequired, _gate)


def _add_routes(app: FastAPI, settings: Settings, templates: Jinja2Templates) -> None:
    @app.get("/static/models/face_landmarker.task", include_in_schema=False)
    def _model_asset() -> Response:
        from facecoach.vision.model import ModelAssetError, model_path

        try:
            path = model_path(settings.model_path)
        except ModelAssetError as exc:
            raise HTTPException(status_code=503, detail=str(exc)) from None
        return FileResponse(
            path, media_type="application/octet-stream", headers={"Cache-Control": "public, max-age=86400"}
        )

    @app.get("/docs", include_in_schema=False)
    def _api_docs(request: Request) -> Response:
        return templates.TemplateResponse(request, "api_docs.html", {"openapi_url": app.openapi_url})

    @app.get("/healthz", include_in_schema=False)
    def _health() -> dict[str, str]:
        return {"status": "ok"}

    for router in (
        content.router,
        account.router,
        billing.router,
        assessment.router,
        audit_report.router,
        member.router,
        checkin.router,
        admin.router,
        api.router,
        api_member.router,
        api_tokens.router,
        api_tokens.pages,
        api_docs.router,
    ):
        app.include_router(router)
    app.include_router(live.router)
    app.include_router(studio_router)
    app.include_router(guard_routes.router)

    if TASKS_VISION_DIR.is_dir():
        app.mount("/static/vendor/tasks-vision", StaticFiles(directory=TASKS_VISION_DIR), name="tasks-vision")
    if SWAGGER_UI_DIR.is_dir():
        app.mount("/static/vendor/swagger-ui", StaticFiles(directory=SWAGGER_UI_DIR), name="swagger-ui")
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
