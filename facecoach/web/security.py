"""Cookies, CSRF and security headers.

The session cookie carries only a signed, server-side session id (HttpOnly, SameSite=Lax, Secure over
https), so logging out or deleting the account revokes it. CSRF tokens are an HMAC of the session id
(or, before login, of a random per-browser cookie): every form and every JSON write must send it.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, Response
from itsdangerous import BadSignature, URLSafeSerializer

SESSION_COOKIE = "fc_session"
ANON_COOKIE = "fc_anon"
FLASH_COOKIE = "fc_flash"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

# Only what the pages need: our own scripts and styles, the MediaPipe WASM (needs wasm-unsafe-eval),
# camera frames as blob:, the annotated picture as data:, the live-coaching WebSocket on the same host.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob: mediastream:",
        "connect-src 'self'",  # CSP 3: 'self' covers ws:/wss: to this same host, and no other
        "worker-src 'self' blob:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
#: Sent over https only (a browser ignores it over http): one year, subdomains included.
HSTS = "max-age=31536000; includeSubDomains"


class Signer:
    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()
        self._serializer = URLSafeSerializer(secret, salt="facecoach-cookie")

    def sign(self, value: str) -> str:
        return self._serializer.dumps(value)

    def unsign(self, token: str | None) -> str | None:
        if not token:
            return None
        try:
            value = self._serializer.loads(token)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None

    def csrf_token(self, base: str) -> str:
        return hmac.new(self._secret, b"csrf:" + base.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, base: str | None, token: str | None) -> bool:
        if not base or not token:
            return False
        return hmac.compare_digest(self.csrf_token(base), token)


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )


def new_anon_id() -> str:
    return secrets.token_urlsafe(24)


class BodyLimit:
    """ASGI middleware: a request body larger than ``max_bytes`` is refused with 413 even when it comes
    without a Content-Length (chunked), by counting the bytes as the app reads them."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = 0

        async def limited() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(status_code=413, detail="request body too large")
            return message

        await self.app(scope, limited, send)


# The dev server and the tests' live servers answer on these whatever the public base URL is.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def allowed_hosts(base_url: str, configured: str) -> list[str]:
    """Host names to answer (``FACECOACH_ALLOWED_HOSTS``, comma-separated); by default the base URL's
    host and the loopback names. Anything else is refused before a page is built."""
    if configured.strip():
        return [h.strip().lower() for h in configured.split(",") if h.strip()]
    host = urlsplit(base_url).hostname
    if not host:
        raise ValueError(f"FACECOACH_BASE_URL {base_url!r} has no host name")
    if ":" in host:
        host = f"[{host}]"
    return list(dict.fromkeys([host.lower(), *LOOPBACK_HOSTS]))


def trusted_networks(configured: str) -> list[IPNetwork]:
    """``FACECOACH_TRUSTED_PROXIES``: addresses or networks, comma-separated (empty: trust none)."""
    networks = []
    for part in configured.split(","):
        if part.strip():
            try:
                networks.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError:
                raise ValueError(f"FACECOACH_TRUSTED_PROXIES: {part.strip()!r} is not an address") from None
    return networks


def _trusted(address: str, networks: Sequence[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def forwarded_client(peer: str, forwarded_for: str | None, networks: Sequence[IPNetwork]) -> str:
    """The client's address: the peer itself unless it is a trusted proxy; then the right-most address
    of X-Forwarded-For that is not a trusted proxy (the left part is whatever the client wrote)."""
    if not forwarded_for or not _trusted(peer, networks):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop
    return hops[0] if hops else peer


class ForwardedHeaders:
    """ASGI middleware: believes X-Forwarded-For and X-Forwarded-Proto only from ``networks`` (the
    configured proxies); from anyone else they are ignored, so a client cannot pick its own address to
    escape the rate limits, nor claim https."""

    def __init__(self, app: Any, networks: Sequence[IPNetwork]) -> None:
        self.app = app
        self.networks = list(networks)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        client = scope.get("client")
        if scope["type"] in ("http", "websocket") and self.networks and client:
            headers = {k.lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            if _trusted(client[0], self.networks):
                scope = dict(scope)
                address = forwarded_client(client[0], headers.get(b"x-forwarded-for"), self.networks)
                scope["client"] = (address, 0)
                proto = headers.get(b"x-forwarded-proto", "").split(",")[-1].strip().lower()
                if proto in ("http", "https"):
                    secure = proto == "https"
                    scope["scheme"] = ("wss" if secure else "ws") if scope["type"] == "websocket" else proto
        await self.app(scope, receive, send)
