"""Stripe's webhook events, applied to facecoach's database once each and in any order (docs/payments.md).

The event has been verified by :meth:`StripeProvider.verified_event`. :func:`handle_event` then:

- **once** — an event id already in ``payment_events`` changes nothing (Stripe delivers at least once;
  a redelivery, or the same event twice at the same moment, where the table's unique key makes the
  second commit fail and the route answer it as a duplicate);
- **in any order** — each subscription keeps the Stripe time (``created``) of the state it holds: an
  older ``customer.subscription.updated`` arriving after a newer one only fills what is still unknown
  (the period, the item), never the status; a deleted subscription stays deleted; a checkout completed
  after its subscription's events only adds the payment.

Handled: ``checkout.session.completed`` (the member has paid: the plan switches, the payment with its
amount is recorded, a receipt goes out), ``customer.subscription.created/updated`` (status, period,
cancellation at the period's end, billing), ``customer.subscription.deleted`` (back to Free),
``invoice.paid`` for renewals and changes (the payment, a receipt) and ``invoice.payment_failed`` (the
failed payment recorded, the member told). Other types are recorded as seen and ignored.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from facecoach.members.billing import leave_plan, subscription_of
from facecoach.members.models import Payment, User, utcnow
from facecoach.members.studio_models import PaymentEvent, Subscription

log = logging.getLogger(__name__)
PROVIDER = "stripe"
#: Stripe statuses under which the member keeps the plan (``past_due``: Stripe is still retrying).
ACCESS = {"active", "trialing", "past_due"}
Result = Literal["applied", "duplicate", "stale", "ignored"]


@dataclass(frozen=True)
class Outcome:
    result: Result
    user_id: int | None = None
    #: A mail to send once committed: ``receipt`` or ``payment_failed``.
    mail: str | None = None
    payment_id: int | None = None


def already_handled(db: Session, event_id: str) -> bool:
    return db.scalar(select(PaymentEvent.id).where(PaymentEvent.event_id == event_id)) is not None


def handle_event(db: Session, event: dict[str, Any], price_keys: dict[str, str]) -> Outcome:
    """Apply one verified event (``price_keys``: Stripe price id → ``member-yearly``); the caller commits."""
    if already_handled(db, event["id"]):
        return Outcome("duplicate")
    kind, obj, created = event["type"], event["data"]["object"], int(event["created"])
    try:
        outcome = _dispatch(db, kind, obj, created, price_keys)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        # A payload not shaped as expected: recorded as seen, nothing changed, logged for a look.
        log.warning("stripe event %s (%s) not applied: %s: %s", event["id"], kind, type(exc).__name__, exc)
        outcome = Outcome("ignored")
        db.rollback()
    db.add(
        PaymentEvent(provider=PROVIDER, event_id=event["id"][:255], kind=kind[:100], user_id=outcome.user_id)
    )
    db.flush()
    return outcome


def _dispatch(db: Session, kind: str, obj: dict[str, Any], created: int, keys: dict[str, str]) -> Outcome:
    if kind == "checkout.session.completed":
        return _checkout_completed(db, obj, created)
    if kind in ("customer.subscription.created", "customer.subscription.updated"):
        return _subscription(db, obj, created, keys, deleted=False)
    if kind == "customer.subscription.deleted":
        return _subscription(db, obj, created, keys, deleted=True)
    if kind in ("invoice.paid", "invoice.payment_failed"):
        return _invoice(db, obj, failed=kind == "invoice.payment_failed")
    return Outcome("ignored")


# -- helpers ---------------------------------------------------------------------------------------------


def _when(unix: Any) -> dt.datetime | None:
    if isinstance(unix, int) and not isinstance(unix, bool) and unix > 0:
        return dt.datetime.fromtimestamp(unix, dt.UTC).replace(tzinfo=None)
    return None


def _user(db: Session, raw: Any) -> User | None:
    text = str(raw or "")
    return db.get(User, int(text)) if text.isdigit() and len(text) < 19 else None


def _give_plan(user: User, plan: str) -> None:
    if user.plan == "free":
        user.plan, user.plan_since = plan, utcnow()


def _record_payment(
    db: Session, user_id: int, plan: str, reference: str, cents: Any, currency: Any, status: str
) -> Payment | None:
    """A payment once per provider reference (a checkout's or an invoice's id)."""
    if not reference or db.scalar(select(Payment.id).where(Payment.reference == reference)) is not None:
        return None
    payment = Payment(
        user_id=user_id,
        plan=plan,
        provider=PROVIDER,
        reference=reference[:100],
        amount_cents=int(cents or 0),
        currency=str(currency or "eur").upper()[:3],
        status=status,
    )
    db.add(payment)
    db.flush()
    return payment


# -- checkout --------------------------------------------------------------------------------------------


def _checkout_completed(db: Session, obj: dict[str, Any], created: int) -> Outcome:
    meta = obj.get("metadata") or {}
    user = _user(db, obj.get("client_reference_id") or meta.get("user_id"))
    ref = str(obj.get("subscription") or "")
    if user is None or obj.get("mode") != "subscription" or not ref:
        return Outcome("ignored", user.id if user else None)
    plan = str(meta.get("plan") or "member")
    paid = obj.get("payment_status") in ("paid", "no_payment_required")
    sub = db.scalar(select(Subscription).where(Subscription.subscription_ref == ref))
    if sub is None:  # the usual order: the checkout first; the subscription's events fill in its period
        sub = subscription_of(db, user.id) or Subscription(user_id=user.id)
        sub.provider, sub.subscription_ref, sub.plan = PROVIDER, ref, plan
        sub.billing = str(meta.get("billing") or "monthly")
        sub.status = "active" if paid else "incomplete"
        sub.item_ref, sub.period_start, sub.period_end, sub.cancel_at_period_end = "", None, None, False
        sub.provider_changed_at = created
        db.add(sub)
    sub.customer_ref = sub.customer_ref or str(obj.get("customer") or "")[:100]
    sub.updated_at = utcnow()
    if sub.status in ACCESS:
        _give_plan(user, plan)
    payment = None
    if paid:
        payment = _record_payment(
            db, user.id, plan, str(obj["id"]), obj.get("amount_total"), obj.get("currency"), "succeeded"
        )
    return Outcome("applied", user.id, "receipt" if payment else None, payment.id if payment else None)


# -- subscriptions ---------------------------------------------------------------------------------------


def _subscription(
    db: Session, obj: dict[str, Any], created: int, keys: dict[str, str], *, deleted: bool
) -> Outcome:
    ref = str(obj["id"])
    sub = db.scalar(select(Subscription).where(Subscription.subscription_ref == ref))
    if sub is None:
        user = _user(db, (obj.get("metadata") or {}).get("user_id"))
        if user is None:
            return Outcome("ignored")
        sub = subscription_of(db, user.id)
        if sub is not None and sub.subscription_ref not in ("", ref) and sub.status != "canceled" and deleted:
            return Outcome("ignored", user.id)  # the end of a subscription the member no longer has
        sub = sub or Subscription(user_id=user.id)
        sub.provider, sub.subscription_ref, sub.status = PROVIDER, ref, "incomplete"
        sub.plan, sub.provider_changed_at = str((obj.get("metadata") or {}).get("plan") or "member"), 0
        sub.item_ref, sub.period_start, sub.period_end = "", None, None
        db.add(sub)
    user_id = sub.user_id
    stale = (sub.status == "canceled" and not deleted) or (not deleted and created < sub.provider_changed_at)
    _fill_details(sub, obj, keys, only_blanks=stale)
    if stale:
        return Outcome("stale", user_id)
    sub.status = "canceled" if deleted else str(obj.get("status") or "incomplete")[:20]
    sub.cancel_at_period_end = bool(obj.get("cancel_at_period_end")) or obj.get("cancel_at") is not None
    sub.provider_changed_at = max(created, sub.provider_changed_at)
    sub.customer_ref = str(obj.get("customer") or sub.customer_ref)[:100]
    sub.updated_at = utcnow()
    user = db.get(User, user_id)
    if user is not None:
        if sub.status in ACCESS:
            _give_plan(user, sub.plan)
        else:
            leave_plan(db, user)
    return Outcome("applied", user_id)


def _fill_details(sub: Subscription, obj: dict[str, Any], keys: dict[str, str], *, only_blanks: bool) -> None:
    """The item, its price (→ billing) and the current period (on the item since Stripe's 2025 API
    versions, on the subscription before)."""
    items = (obj.get("items") or {}).get("data") or []
    item = items[0] if items else {}
    period_start = _when(item.get("current_period_start") or obj.get("current_period_start"))
    period_end = _when(item.get("current_period_end") or obj.get("current_period_end"))
    key = keys.get(str((item.get("price") or {}).get("id") or ""), "")
    if not only_blanks or not sub.item_ref:
        sub.item_ref = str(item.get("id") or sub.item_ref)[:100]
    if period_end is not None and (not only_blanks or sub.period_end is None):
        sub.period_start, sub.period_end = period_start, period_end
    if key and (not only_blanks or not sub.billing):
        sub.plan, _, sub.billing = key.partition("-")


# -- invoices --------------------------------------------------------------------------------------------


def _invoice_subscription(obj: dict[str, Any]) -> str:
    """The invoice's subscription: ``parent.subscription_details.subscription`` since Stripe's 2025 API
    versions, ``subscription`` before."""
    parent = (obj.get("parent") or {}).get("subscription_details") or {}
    return str(parent.get("subscription") or obj.get("subscription") or "")


def _invoice(db: Session, obj: dict[str, Any], *, failed: bool) -> Outcome:
    ref = _invoice_subscription(obj)
    sub = db.scalar(select(Subscription).where(Subscription.subscription_ref == ref)) if ref else None
    if sub is None and obj.get("customer"):
        sub = db.scalar(select(Subscription).where(Subscription.customer_ref == str(obj["customer"])))
    if sub is None:
        return Outcome("ignored")
    if not failed and obj.get("billing_reason") == "subscription_create":
        return Outcome("ignored", sub.user_id)  # the first payment is the checkout's, recorded there
    payment = _record_payment(
        db,
        sub.user_id,
        sub.plan,
        str(obj["id"]),
        obj.get("amount_due" if failed else "amount_paid"),
        obj.get("currency"),
        "failed" if failed else "succeeded",
    )
    if payment is None:
        return Outcome("applied", sub.user_id)
    return Outcome("applied", sub.user_id, "payment_failed" if failed else "receipt", payment.id)
