"""The OpenAPI document validates (openapi-spec-validator), describes both ways to sign in and every
refusal, and is true: every documented path and method, called by every role (anonymous, free member,
paid member, another member on the member's objects, instructor) with the session cookie and with a
bearer token, answers one of the statuses the document lists for that operation, and never a 5xx."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from facecoach.members.api_tokens import create_token
from facecoach.members.models import ApiToken, AuditJob
from facecoach.planning.assessment import Answers
from tests.security.test_authorization import EXERCISE, _plant_member_data
from tests.web.fixtures import ROLES, Site

ANSWERS = Answers(minutes_per_day=12).model_dump(mode="json")
METHODS = ("get", "put", "post", "delete", "patch")


def _document(site: Site) -> dict[str, Any]:
    r = site.client("anon").get("/openapi.json")
    assert r.status_code == 200
    doc: dict[str, Any] = r.json()
    return doc


def test_the_openapi_document_validates_and_documents_auth_and_errors(sqlite_site: Site) -> None:
    doc = _document(sqlite_site)
    validate(doc)  # raises with the path of the first problem
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearerToken"]["scheme"] == "bearer"
    assert schemes["csrfHeader"] == {**schemes["csrfHeader"], "in": "header", "name": "X-CSRF-Token"}
    assert "X-CSRF-Token" in doc["info"]["description"] and "Bearer" in doc["info"]["description"]
    problems = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            where = f"{method.upper()} {path}"
            responses = op["responses"]
            if not {"401", "403"} <= set(responses):
                problems.append(f"{where}: 401/403 not documented")
            for status, answer in responses.items():
                if status.startswith(("4", "5")):
                    ref = answer["content"]["application/json"]["schema"].get("$ref", "")
                    if not ref.endswith("/Problem") or len(answer["description"]) < 20:
                        problems.append(f"{where}: {status} has no Problem model or no meaning")
            if not op.get("security"):
                problems.append(f"{where}: no security requirement")
            if len(op.get("description", "")) < 40:
                problems.append(f"{where}: no description of what it does")
            if method != "get" and not any("csrfHeader" in s or "bearerToken" in s for s in op["security"]):
                problems.append(f"{where}: a write that does not say it needs the CSRF header")
    assert problems == [], "\n".join(problems)
    assert "HTTPValidationError" not in str(doc)  # FastAPI's default 422 model is not what we answer


def _tokens(site: Site) -> dict[str, str]:
    """A token with every scope for each signed-in role."""
    out = {}
    with site.db.session() as s:
        for role in ROLES:
            if role != "anon":
                out[role] = create_token(s, site.user_ids[role], "walk", ["read", "write", "account"]).secret
        s.commit()
    return out


def _member_token_id(site: Site) -> int:
    with site.db.session() as s:
        row = create_token(s, site.user_ids["member"], "the member's", ["read"]).row
        s.commit()
        return row.id


def _request(
    client: TestClient, method: str, path: str, headers: dict[str, str]
) -> Any:  # the request each operation gets: harmless, so the walk can repeat it for every role
    kwargs: dict[str, Any] = {"headers": headers, "follow_redirects": False}
    if (method, path) == ("post", "/api/scan"):
        kwargs["files"] = {"file": ("x.jpg", b"not a picture", "image/jpeg")}
    elif (method, path) == ("post", "/api/audits"):
        kwargs["data"] = {"technique": "no-such-exercise"}
        kwargs["files"] = {"video": ("v.mp4", b"\0" * 32, "video/mp4")}
    else:
        body = {
            ("post", "/api/check"): {"text": "jade rollers"},
            ("post", "/api/sessions"): {"reps": 1},
            ("put", "/api/assessment"): ANSWERS,
            ("post", "/api/live/tokens"): {"technique": EXERCISE, "reps": 1},
            ("delete", "/api/account"): {"confirm": "not-mine@example.org"},
            ("post", "/api/tokens"): {"name": "walk", "scopes": ["read"]},
        }.get((method, path))
        if body is not None:
            kwargs["json"] = body
    return client.request(method.upper(), _fill(path), **kwargs)


FILL: dict[str, str] = {}


def _fill(path: str) -> str:
    for key, value in FILL.items():
        path = path.replace("{" + key + "}", value)
    return path


@pytest.mark.parametrize("auth", ["cookie", "bearer"])
def test_every_documented_operation_answers_a_documented_status_for_every_role(site: Site, auth: str) -> None:
    job_id = _plant_member_data(site)
    FILL.update(
        job_id=str(job_id), technique_id=EXERCISE, token_id=str(_member_token_id(site))
    )  # the member's objects: the other member and the free one must get a documented 404/402
    doc = _document(site)
    for role in ROLES:
        site.client(role)  # every account exists (and is signed in) before its token is made
    tokens = _tokens(site) if auth == "bearer" else {}
    seen: dict[str, set[int]] = {}
    problems = []
    for role in ROLES:
        cookie = site.client(role)
        client = TestClient(site.app) if auth == "bearer" else cookie
        for path, ops in doc["paths"].items():
            for method in METHODS:
                op = ops.get(method)
                if op is None:
                    continue
                headers = {}
                if auth == "bearer" and role != "anon":
                    headers["authorization"] = f"Bearer {tokens[role]}"
                elif method != "get":
                    headers["x-csrf-token"] = cookie.get("/api/me").json()["csrf_token"]
                r = _request(client, method, path, headers)
                where = f"{method.upper()} {path} as {role} ({auth})"
                seen.setdefault(f"{method} {path}", set()).add(r.status_code)
                if r.status_code >= 500:
                    problems.append(f"{where}: {r.status_code} {r.text[:200]}")
                elif str(r.status_code) not in op["responses"]:
                    problems.append(f"{where}: {r.status_code} is not documented ({sorted(op['responses'])})")
                elif r.status_code >= 400 and not isinstance(r.json().get("detail"), str):
                    problems.append(f"{where}: a refusal without a detail: {r.text[:200]}")
    assert problems == [], "\n".join(problems)
    # The walk reached both sides of the gates: members get through, visitors are told to sign in.
    assert 200 in seen["get /api/progress"] and 401 in seen["get /api/progress"]
    assert 402 in seen["get /api/progress"]  # the free member
    assert 404 in seen["get /api/audits/{job_id}"]  # the other member on the member's audit
    with site.db.session() as s:  # nothing was deleted by the walk: its account deletions were refused
        assert s.get(AuditJob, job_id) is not None
        assert s.get(ApiToken, int(FILL["token_id"])) is not None
