"""Personal API tokens: made and revoked on the account page (forms with the CSRF field) or through the API
(``/api/tokens``, scope ``account``). A new token is shown once, on the page that made it; only its
SHA-256 is kept (``facecoach.members.api_tokens``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from facecoach.members import api_tokens as tokens
from facecoach.members.models import ApiToken
from facecoach.web.deps import (
    CurrentUser,
    RowId,
    SessionDep,
    redirect,
    render,
    scope,
    signed_out_to,
    token_scope,
)
from facecoach.web.routes.api_docs import answers

router = APIRouter(
    prefix="/api", tags=["tokens"], dependencies=[Depends(token_scope)], responses=answers(401, 403)
)
pages = APIRouter(include_in_schema=False)


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="the public start of the token (fc_<prefix>_…), to recognise it")
    scopes: list[str]
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


class NewTokenOut(TokenOut):
    token: str = Field(description="the token itself: shown this once, store it now")


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="what uses it, e.g. 'my phone'")
    scopes: list[str] = Field(min_length=1, max_length=3, description=", ".join(tokens.SCOPES))


def _out(row: ApiToken) -> TokenOut:
    return TokenOut(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=list(row.scopes),
        created_at=row.created_at.isoformat(),
        last_used_at=row.last_used_at.isoformat() if row.last_used_at else None,
        revoked_at=row.revoked_at.isoformat() if row.revoked_at else None,
    )


@router.get("/tokens", response_model=list[TokenOut])
@scope("account")
def list_tokens(viewer: CurrentUser, db: SessionDep) -> list[TokenOut]:
    """Your API tokens, newest first (revoked ones too); never the secrets."""
    return [_out(row) for row in tokens.member_tokens(db, viewer.id)]


@router.post("/tokens", status_code=201, response_model=NewTokenOut, responses=answers(422))
@scope("account")
def create_token(body: TokenIn, viewer: CurrentUser, db: SessionDep) -> NewTokenOut:
    """Make a token with the given scopes; ``token`` is in this answer only. 422: no or unknown scope, or
    you already have the most active tokens (20)."""
    try:
        new = tokens.create_token(db, viewer.id, body.name, body.scopes)
        db.commit()
    except tokens.TokenError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return NewTokenOut(**_out(new.row).model_dump(), token=new.secret)


@router.delete("/tokens/{token_id}", response_model=TokenOut, responses=answers(404))
@scope("account")
def revoke_token(token_id: RowId, viewer: CurrentUser, db: SessionDep) -> TokenOut:
    """Revoke one of your tokens: from now on it answers 401 (a live session it opened closes)."""
    if not tokens.revoke_token(db, viewer.id, token_id):
        raise HTTPException(status_code=404, detail="No such token.")
    db.commit()
    row = db.get(ApiToken, token_id)
    assert row is not None
    return _out(row)


# -- the account page's forms ------------------------------------------------------------------------


@pages.post("/account/tokens")
@signed_out_to("/login?next=/account")
def create_token_form(
    request: Request,
    viewer: CurrentUser,
    db: SessionDep,
    name: str = Form("", max_length=200),
    scopes: list[str] = Form([], max_length=5),
) -> Response:
    """Make a token and show it once, on a page of its own (never in a cookie, a URL or the log)."""
    try:
        new = tokens.create_token(db, viewer.id, name, [s[:20] for s in scopes])
        db.commit()
    except tokens.TokenError as exc:
        return redirect("/account#api-tokens", request, f"Token not made: {exc}.", "error")
    return render(
        request, "api_token_new.html", viewer, token=new.secret, row=new.row, scope_help=tokens.SCOPES
    )


@pages.post("/account/tokens/{token_id}/revoke")
@signed_out_to("/login?next=/account")
def revoke_token_form(request: Request, token_id: RowId, viewer: CurrentUser, db: SessionDep) -> Response:
    if not tokens.revoke_token(db, viewer.id, token_id):
        raise HTTPException(status_code=404, detail="No such token.")
    db.commit()
    return redirect("/account#api-tokens", request, "The token is revoked: it no longer works.")
