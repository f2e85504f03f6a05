"""Payments over HTTP (issue 18): Stripe Checkout and Stripe's signed webhook against a local stand-in for
Stripe's API (tests/members/stripe_support.py: the real ``stripe`` package builds and sends the requests),
and the self-service cancel / keep / change of billing with the test provider, receipts by real SMTP."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from facecoach.members.billing import subscription_of
from facecoach.members.db import Database
from facecoach.members.models import Payment
from facecoach.members.studio_models import PaymentEvent
from tests.members.stripe_support import (
    PRICES,
    SECRET_KEY,
    FakeStripeApi,
    event_payload,
    signed,
    stripe_settings,
)
from tests.web.fixtures import Site, build_site

WEBHOOK = "/payments/stripe/webhook"


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripeApi]:
    fake = FakeStripeApi().start()
    yield fake
    fake.stop()


@pytest.fixture
def stripe_site(migrated: Database, tmp_path: Path, fake_stripe: FakeStripeApi) -> Iterator[Site]:
    """The app with Stripe configured (its API at the local fake), on SQLite, then on PostgreSQL."""
    site = build_site(migrated, tmp_path, **stripe_settings(fake_stripe.base))
    yield site
    site.close()


def _post_event(site: Site, payload: str, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    r = site.client("anon").post(WEBHOOK, content=payload.encode(), headers=headers)
    return r.status_code, r.json()


def _counts(site: Site) -> tuple[int, int]:
    with site.db.session() as s:
        return (
            s.scalar(select(func.count()).select_from(PaymentEvent)) or 0,
            s.scalar(select(func.count()).select_from(Payment)) or 0,
        )


# -- Checkout -----------------------------------------------------------------------------------------------


def test_joining_creates_a_checkout_session_at_stripe(stripe_site: Site, fake_stripe: FakeStripeApi) -> None:
    c = stripe_site.client("free")
    page = c.get("/membership").text
    assert "Continue to payment" in page and 'name="card_number"' not in page  # no card on our form
    token = stripe_site.csrf("free", "/membership")
    r = c.post(
        "/membership/join",
        data={"plan": "member", "billing": "yearly", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith(
        "https://checkout.stripe.com/c/pay/cs_test_"
    )
    assert len(fake_stripe.requests) == 1
    sent = fake_stripe.requests[0]
    uid = str(stripe_site.user_ids["free"])
    assert (sent.method, sent.path) == ("POST", "/v1/checkout/sessions")
    assert sent.headers["authorization"] == f"Bearer {SECRET_KEY}"
    assert sent.headers["stripe-version"].startswith("20")  # the package's pinned API version
    assert sent.headers["idempotency-key"]  # the package retries safely
    assert sent.form == {
        "mode": "subscription",
        "line_items[0][price]": PRICES["member-yearly"],
        "line_items[0][quantity]": "1",
        "customer_email": "free@example.org",
        "client_reference_id": uid,
        "success_url": "http://127.0.0.1:8000/membership/welcome?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://127.0.0.1:8000/membership",
        "metadata[user_id]": uid,
        "metadata[plan]": "member",
        "metadata[billing]": "yearly",
        "subscription_data[metadata][user_id]": uid,
        "subscription_data[metadata][plan]": "member",
        "subscription_data[metadata][billing]": "yearly",
    }
    # Coming back from Stripe's page proves nothing: the plan waits for the signed webhook.
    assert stripe_site.user("free").plan == "free"
    assert "as soon as Stripe confirms it" in c.get("/membership/welcome?session_id=cs_test_x").text


def test_a_refusal_from_stripe_is_said_clearly_and_changes_nothing(
    stripe_site: Site, fake_stripe: FakeStripeApi
) -> None:
    fake_stripe.fail = (400, "invalid_request_error", "No such price: 'price_member_monthly'")
    c = stripe_site.client("free")
    token = stripe_site.csrf("free", "/membership")
    r = c.post("/membership/join", data={"plan": "member", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 502
    assert "The payment could not be started" in r.text and "Nothing was charged" in r.text
    assert stripe_site.user("free").plan == "free" and _counts(stripe_site) == (0, 0)


# -- the webhook's signature --------------------------------------------------------------------------------


def test_webhook_signatures(stripe_site: Site) -> None:
    stripe_site.client("free")
    uid = stripe_site.user_ids["free"]
    payload = event_payload("checkout.session.completed", uid)
    now = int(time.time())
    refused = {
        "missing": {"content-type": "application/json"},
        "another secret": signed(payload, secret="whsec_not_this_endpoints_secret"),
        "stale (301 s old)": signed(payload, at=now - 301),
        "not a signature": {"stripe-signature": "garbage", "content-type": "application/json"},
        "no v1 scheme": {"stripe-signature": f"t={now},v0=abc", "content-type": "application/json"},
    }
    for why, headers in refused.items():
        status, body = _post_event(stripe_site, payload, headers)
        assert status == 400, why
        assert "signature" in str(body["detail"]), why
    # The body changed after signing (a higher amount, say): refused.
    tampered = payload.replace('"amount_total": 1200', '"amount_total": 1')
    assert _post_event(stripe_site, tampered, signed(payload))[0] == 400
    # Signed, but not an event.
    assert _post_event(stripe_site, "[1, 2]", signed("[1, 2]"))[0] == 400
    assert _post_event(stripe_site, "{not json", signed("{not json"))[0] == 400
    assert _counts(stripe_site) == (0, 0) and stripe_site.user("free").plan == "free"
    # Just inside the tolerance, with the right secret: applied.
    status, body = _post_event(stripe_site, payload, signed(payload, at=now - 290))
    assert (status, body["result"]) == (200, "applied")
    assert stripe_site.user("free").plan == "member"


# -- applied once, in any order -----------------------------------------------------------------------------


def test_the_same_event_twice_changes_nothing(stripe_site: Site) -> None:
    stripe_site.client("free")
    uid = stripe_site.user_ids["free"]
    payload = event_payload("checkout.session.completed", uid)
    first = _post_event(stripe_site, payload, signed(payload))
    assert first == (200, {"received": True, "result": "applied"})
    after_first = _counts(stripe_site)
    assert after_first == (1, 1)
    again = _post_event(stripe_site, payload, signed(payload))
    assert again == (200, {"received": True, "result": "duplicate"})
    assert _counts(stripe_site) == after_first
    with stripe_site.db.session() as s:
        paid = s.scalars(select(Payment)).one()
        assert (paid.amount_cents, paid.currency, paid.status, paid.provider) == (
            1200,
            "EUR",
            "succeeded",
            "stripe",
        )
        sub = subscription_of(s, uid)
        assert sub is not None and (sub.subscription_ref, sub.customer_ref) == (
            "sub_TestSubscription01",
            "cus_TestCustomer01",
        )
    receipts = stripe_site.mail_to("free@example.org", 1)
    assert "Amount: €12.00" in receipts[0].text and "cs_test_a1B2c3D4e5" in receipts[0].text
    time.sleep(0.5)
    assert len(stripe_site.mail.to("free@example.org")) == 1  # type: ignore[union-attr]
    # The account page lists the payment with its amount.
    page = stripe_site.client("free").get("/account").text
    assert re.search(r'class="amount">€12\.00<', page)


def test_events_out_of_order(stripe_site: Site) -> None:
    stripe_site.client("free")
    uid = stripe_site.user_ids["free"]

    def send(name: str, **changes: object) -> str:
        payload = event_payload(name, uid, **changes)
        status, body = _post_event(stripe_site, payload, signed(payload))
        assert status == 200, body
        return str(body["result"])

    # The cancellation (t+100) arrives before the checkout (t+0): the member's subscription is known
    # from its metadata; then the checkout adds the payment without undoing the cancellation.
    assert send("customer.subscription.updated") == "applied"
    assert send("checkout.session.completed") == "applied"
    with stripe_site.db.session() as s:
        sub = subscription_of(s, uid)
        assert sub is not None and sub.cancel_at_period_end and sub.status == "active"
        assert sub.period_end == dt.datetime(2026, 12, 30, 0, 53, 20) and sub.billing == "monthly"
    assert stripe_site.user("free").plan == "member"
    # An older state, delivered late (another event id, created before the one applied): ignored.
    older = json.loads(event_payload("customer.subscription.updated", uid))["data"]
    older["object"]["cancel_at_period_end"], older["object"]["cancel_at"] = False, None
    assert send("customer.subscription.updated", id="evt_older", created=1796000050, data=older) == "stale"
    with stripe_site.db.session() as s:
        sub = subscription_of(s, uid)
        assert sub is not None and sub.cancel_at_period_end
    # The end, then a renewal state from before the end: the member stays on Free.
    assert send("customer.subscription.deleted") == "applied"
    assert stripe_site.user("free").plan == "free"
    active = json.loads(event_payload("customer.subscription.updated", uid))["data"]
    assert (
        send("customer.subscription.updated", id="evt_late_active", created=1798592000, data=active)
        == "stale"
    )
    assert stripe_site.user("free").plan == "free"
    with stripe_site.db.session() as s:
        sub = subscription_of(s, uid)
        assert sub is not None and sub.status == "canceled"


def test_a_failed_renewal_is_recorded_with_its_amount_and_the_member_told(stripe_site: Site) -> None:
    stripe_site.client("free")
    uid = stripe_site.user_ids["free"]
    for name in ("checkout.session.completed", "invoice.payment_failed", "invoice.paid"):
        payload = event_payload(name, uid)
        assert _post_event(stripe_site, payload, signed(payload))[0] == 200
    with stripe_site.db.session() as s:
        rows = [
            (p.reference, p.amount_cents, p.status) for p in s.scalars(select(Payment).order_by(Payment.id))
        ]
    assert rows == [
        ("cs_test_a1B2c3D4e5", 1200, "succeeded"),
        ("in_TestInvoiceFailed01", 1200, "failed"),
        ("in_TestInvoicePaid01", 1200, "succeeded"),
    ]
    mails = stripe_site.mail_to("free@example.org", 3)
    failed = [m for m in mails if "did not go through" in m.subject]
    assert len(failed) == 1 and "€12.00" in failed[0].text and "in_TestInvoiceFailed01" in failed[0].text


def test_an_event_for_nobody_we_know_is_acknowledged_and_ignored(stripe_site: Site) -> None:
    payload = event_payload("checkout.session.completed", 987654)
    assert _post_event(stripe_site, payload, signed(payload)) == (
        200,
        {"received": True, "result": "ignored"},
    )
    other = json.dumps({"id": "evt_other", "object": "event", "type": "charge.refunded", "created": 1,
                        "data": {"object": {"id": "ch_1"}}})  # fmt: skip
    assert _post_event(stripe_site, other, signed(other))[1]["result"] == "ignored"
    # Signed and an event, but its object not shaped as Stripe's: acknowledged, nothing changed, no 500.
    stripe_site.client("free")
    data = json.loads(event_payload("customer.subscription.updated", stripe_site.user_ids["free"]))["data"]
    data["object"]["items"] = "not a list"
    odd = event_payload(
        "customer.subscription.updated", stripe_site.user_ids["free"], id="evt_odd", data=data
    )
    assert _post_event(stripe_site, odd, signed(odd)) == (200, {"received": True, "result": "ignored"})
    assert _counts(stripe_site) == (3, 0) and stripe_site.user("free").plan == "free"


# -- self-service with Stripe: the requests it sends --------------------------------------------------------


def _stripe_member(site: Site) -> int:
    site.client("free")
    uid = site.user_ids["free"]
    for name in ("checkout.session.completed",):
        payload = event_payload(name, uid)
        assert _post_event(site, payload, signed(payload))[0] == 200
    # The subscription's state as Stripe reports it (period, item), without the cancellation.
    data = json.loads(event_payload("customer.subscription.updated", uid))["data"]
    data["object"]["cancel_at_period_end"], data["object"]["cancel_at"] = False, None
    data["object"]["items"]["data"][0]["current_period_end"] = int(time.time()) + 20 * 86400
    data["object"]["items"]["data"][0]["current_period_start"] = int(time.time()) - 10 * 86400
    payload = event_payload("customer.subscription.updated", uid, data=data)
    assert _post_event(site, payload, signed(payload))[1]["result"] == "applied"
    return uid


def test_cancel_and_change_call_stripe(stripe_site: Site, fake_stripe: FakeStripeApi) -> None:
    uid = _stripe_member(stripe_site)
    c = stripe_site.client("free")
    token = stripe_site.csrf("free", "/account")
    r = c.post("/membership/change", data={"billing": "yearly", "confirm": "yes", "csrf_token": token})
    assert r.status_code == 200 and "Yearly: €120.00 a year instead of €12.00 a month" in r.text
    change = fake_stripe.requests[-1]
    assert (change.path, change.form) == (
        "/v1/subscriptions/sub_TestSubscription01",
        {
            "items[0][id]": "si_TestItem01",
            "items[0][price]": PRICES["member-yearly"],
            "proration_behavior": "always_invoice",
            "metadata[billing]": "yearly",
        },
    )
    r = c.post("/membership/cancel", data={"confirm": "yes", "csrf_token": token})
    assert r.status_code == 200 and "You keep everything until" in r.text
    cancel = fake_stripe.requests[-1]
    assert (cancel.path, cancel.form) == (
        "/v1/subscriptions/sub_TestSubscription01",
        {"cancel_at_period_end": "true"},
    )
    with stripe_site.db.session() as s:
        sub = subscription_of(s, uid)
        assert sub is not None and sub.cancel_at_period_end and sub.billing == "yearly"
    # Stripe refusing: said, and the local state is unchanged.
    fake_stripe.fail = (400, "invalid_request_error", "This subscription cannot be changed.")
    r = c.post("/membership/resume", data={"csrf_token": token})
    assert "Nothing was changed" in r.text
    with stripe_site.db.session() as s:
        sub = subscription_of(s, uid)
        assert sub is not None and sub.cancel_at_period_end
