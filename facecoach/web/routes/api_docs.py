"""The API's description: the error model and each status's meaning, the two ways to authenticate
(session cookie + CSRF header, or a personal bearer token) in the OpenAPI document, and ReDoc at
``/redoc`` (Swagger UI is ``/docs``), both served from local files under the site's strict CSP."""

from __future__ import annotations

import functools
import logging
import secrets
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from facecoach.config import REPO_DIR
from facecoach.members.api_tokens import SCOPES
from facecoach.web.deps import current_user, free_user, instructor, member_user, needed_scope
from facecoach.web.security import CSP, CSRF_HEADER, SESSION_COOKIE

log = logging.getLogger(__name__)
REDOC_JS = REPO_DIR / "node_modules" / "redoc" / "bundles" / "redoc.standalone.js"


class Problem(BaseModel):
    """Every refusal: one sentence saying what is wrong and what to do."""

    detail: str = Field(description="what is wrong, in plain words (a validation error names the field)")
    code: str | None = Field(None, description="a stable reason for programs, where there is one")


#: What each refusal means, wherever it is listed (an operation lists only those it can answer).
MEANINGS: dict[int, str] = {
    400: "The input cannot be used (e.g. an unknown filter or file type); the detail says why.",
    401: "Not signed in: no session cookie and no bearer token, or the bearer token is wrong or revoked.",
    402: "Your plan does not include this: the Member plan unlocks it.",
    403: "Refused: the X-CSRF-Token header is missing or wrong (cookie sign-in), or the bearer token "
    "lacks the scope this needs, or this is for the instructor only.",
    404: "No such thing, or it is not yours (the answer is the same).",
    409: "Not possible in the current state (e.g. take the assessment first).",
    413: "The upload is larger than the limit for its kind.",
    422: "The input is invalid: the detail names the field and the problem.",
    429: "You have too many of these running: wait for one to finish (see Retry-After).",
    503: "The server is busy with other members' work: try again (see Retry-After).",
}


def answers(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status with its meaning and the :class:`Problem` model."""
    return {code: {"model": Problem, "description": MEANINGS[code]} for code in codes}


API_DESCRIPTION = f"""
Everything a member does in the pages, as JSON: the library, the assessment and face scan, the routine by
week, progress, video audits, live-coaching sessions, practice logs, data export and account deletion.

## Signing in

* **Session cookie** (the browser): sign in on the site; the `{SESSION_COOKIE}` cookie goes along by
  itself. Every write (POST, PUT, DELETE) must carry the CSRF token in the `X-CSRF-Token` header: get it
  from `GET /api/me` (`csrf_token`) or from the `<meta name="csrf-token">` of any page. Without it the
  answer is 403. (*Try it out* on `/docs` adds the header for you.)
* **Personal API token** (an app or a script): make one on your account page (or `POST /api/tokens`),
  copy it (it is shown once), and send `Authorization: Bearer fc_…`. No cookie and no CSRF token are
  needed. Each token has scopes: {", ".join(f"`{k}` ({v})" for k, v in SCOPES.items())}. A GET needs
  `read` and a write `write` unless the operation says otherwise; a missing scope is a 403, a wrong or
  revoked token a 401. Only the token's SHA-256 is stored.

## Answers

Success answers are JSON documents described below. Every refusal is JSON `{{"detail": "…"}}` (uploads
add a stable `code`, e.g. `too_large`, `unreadable`, `no_face`, `busy`); each operation lists the ones it
can give:

{chr(10).join(f"* **{k}** {v}" for k, v in MEANINGS.items())}
"""

_GATES = {current_user: "login", free_user: "login", member_user: "member", instructor: "instructor"}


def _gate_of(route: APIRoute) -> str:
    """``public``, ``login``, ``member`` or ``instructor``: the strictest gate among the route's
    dependencies."""
    order = ["public", "login", "member", "instructor"]
    found = "public"
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        gate = _GATES.get(dep.call)  # type: ignore[arg-type]
        if gate is not None and order.index(gate) > order.index(found):
            found = gate
        stack.extend(dep.dependencies)
    return found


class _FakeRequest:
    def __init__(self, method: str, endpoint: Any) -> None:
        self.method = method
        self.scope = {"endpoint": endpoint}


def route_scope(route: APIRoute, method: str) -> str:
    return needed_scope(_FakeRequest(method, route.endpoint))  # type: ignore[arg-type]


def _security(gate: str, method: str, token_scope: str) -> list[dict[str, list[str]]]:
    cookie: dict[str, list[str]] = {"sessionCookie": []}
    if method != "GET":
        cookie["csrfHeader"] = []
    options = [{"bearerToken": [token_scope]}, cookie]
    if gate != "public":
        return options
    return [{} if method == "GET" else {"csrfHeader": []}, *options]  # anonymous writes carry CSRF too


def _operation_notes(op: dict[str, Any], gate: str, token_scope: str) -> None:
    who = {
        "public": "Anyone (signed in or not).",
        "login": "Any signed-in account.",
        "member": "The Member plan (or the instructor).",
        "instructor": "The instructor only.",
    }[gate]
    note = f"**Who:** {who} **Token scope:** `{token_scope}`."
    op["description"] = f"{op.get('description', '').strip()}\n\n{note}".strip()


def _problem(status: int) -> dict[str, Any]:
    return {
        "description": MEANINGS[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def api_routes(app: FastAPI) -> list[tuple[str, APIRoute]]:
    """(full path, route) of every operation in the schema, included routers too (FastAPI ≥ 0.165 keeps
    them nested in ``app.routes``)."""
    found: list[tuple[str, APIRoute]] = []
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            for ctx in contexts():
                original = ctx.original_route
                if isinstance(original, APIRoute) and ctx.include_in_schema and original.include_in_schema:
                    found.append((ctx.path_format or ctx.path, original))
        elif isinstance(route, APIRoute) and route.include_in_schema:
            found.append((route.path_format, route))
    return found


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document: FastAPI's, plus the security schemes, who may call each operation, which
    token scope it needs, and the refusals as :class:`Problem` (never FastAPI's default 422 model)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title="facecoach API",
        version=app.version,
        description=API_DESCRIPTION,
        routes=app.routes,
    )
    components = schema.setdefault("components", {})
    components["securitySchemes"] = {
        "bearerToken": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "fc_<prefix>_<secret>",
            "description": "A personal API token from the account page; no CSRF header needed.",
        },
        "sessionCookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": SESSION_COOKIE,
            "description": "The browser's sign-in (set by /login).",
        },
        "csrfHeader": {
            "type": "apiKey",
            "in": "header",
            "name": "X-CSRF-Token",
            "description": f"With the cookie, every write sends it ({CSRF_HEADER}); from GET /api/me.",
        },
    }
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    for path, route in api_routes(app):
        gate = _gate_of(route)
        for method in route.methods or ():
            op = schema["paths"].get(path, {}).get(method.lower())
            if op is None:
                continue
            token_scope = route_scope(route, method)
            op["security"] = _security(gate, method, token_scope)
            _operation_notes(op, gate, token_scope)
    for ops in schema["paths"].values():  # every 422, ours or another router's, is a Problem
        for op in ops.values():
            if "422" in op.get("responses", {}):
                op["responses"]["422"] = _problem(422)
    app.openapi_schema = schema
    return schema


def install(app: FastAPI) -> None:
    """Use :func:`build_openapi` for ``/openapi.json``."""
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]


router = APIRouter(include_in_schema=False)


def redoc_csp(nonce: str) -> str:
    """The site's CSP, but for styles also those ReDoc's styled-components inserts with this response's
    ``nonce`` (scripts stay ``'self'`` only; no ``'unsafe-inline'`` anywhere, no other origin)."""
    strict = "style-src 'self'"
    assert strict in CSP
    return CSP.replace(strict, f"{strict} 'nonce-{nonce}'")


@router.get("/redoc")
def redoc_page(request: Request) -> Response:
    """ReDoc on the same document, from the local bundle (node_modules/redoc)."""
    templates = request.app.state.ctx.templates
    nonce = secrets.token_urlsafe(18)
    context = {"openapi_url": request.app.openapi_url, "nonce": nonce}
    response = templates.TemplateResponse(request, "api_redoc.html", context)
    response.headers["Content-Security-Policy"] = redoc_csp(nonce)
    return response


#: Two edits to ReDoc's bundle as served (the file in node_modules stays as installed), so that the page
#: asks no other origin for anything and needs no inline style without this response's nonce: the
#: "API docs by Redocly" logo comes from its CDN (an empty local SVG instead; the link stays), and the
#: scrollbar styles inserted while the bundle loads get the nonce the page hands it.
REDOC_EDITS = (
    (
        "https://cdn.redoc.ly/redoc/logo-mini.svg",
        "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E",
    ),
    (
        'var t=n.nc;t&&e.setAttribute("nonce",t)',
        'var t=n.nc||window.facecoachStyleNonce;t&&e.setAttribute("nonce",t)',
    ),
)


@functools.lru_cache(maxsize=1)
def redoc_bundle() -> bytes:
    """The bundle with :data:`REDOC_EDITS` applied; an edit whose text is missing (another ReDoc version)
    is logged and skipped, and the browser test then fails on the request or the CSP report."""
    text = REDOC_JS.read_text(encoding="utf-8")
    for old, new in REDOC_EDITS:
        if old not in text:
            log.warning("ReDoc bundle: %r not found, not replaced", old[:60])
        text = text.replace(old, new)
    return text.encode()


@router.get("/static/vendor/redoc/redoc.standalone.js")
def redoc_js() -> Response:
    if not REDOC_JS.is_file():
        raise HTTPException(status_code=503, detail="ReDoc is not installed (npm ci)")
    return Response(
        redoc_bundle(), media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"}
    )
