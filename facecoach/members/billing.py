"""A member's plan and how they pay for it: joining, and the self-service changes (docs/payments.md).

- **Join** — with the test provider: charge the card, switch the plan and open a subscription, in one
  transaction; with Stripe: :meth:`PaymentProvider.start_checkout`, and the webhook
  (:mod:`facecoach.members.stripe_events`) switches the plan once Stripe says it is paid.
- **Cancel** — at the end of the period already paid for (:func:`cancel`, :func:`resume` takes it back);
  until then nothing changes. :func:`lapse_due` ends the test provider's cancelled subscriptions (and
  renews the others) when their date has come; Stripe's own end arrives as
  ``customer.subscription.deleted``.
- **Change billing** (monthly ↔ yearly) — at once, the unused part of the old price credited against the
  new one (:func:`change_quote` says how much before the member confirms; Stripe's ``always_invoice``
  proration charges the same way).
"""

from __future__ import annotations

import calendar
import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from facecoach.members.models import Payment, User, utcnow
from facecoach.members.payments import ChargeRequest, ChargeResult, PaymentProvider
from facecoach.members.plans import Billing, Plan, get_plan, money, price_key
from facecoach.members.studio_models import Subscription


class JoinError(ValueError):
    pass


class BillingError(ValueError):
    """A self-service change that cannot be made (no subscription, already cancelled, same billing)."""


def add_months(when: dt.datetime, months: int) -> dt.datetime:
    """The same day ``months`` later (the month's last day when it has fewer days: 31 Jan → 28 Feb)."""
    total = when.month - 1 + months
    year, month = when.year + total // 12, total % 12 + 1
    return when.replace(year=year, month=month, day=min(when.day, calendar.monthrange(year, month)[1]))


def _purchasable(plan_id: str) -> Plan:
    try:
        plan = get_plan(plan_id)
    except KeyError as exc:
        raise JoinError("plan: no such plan") from exc
    if not plan.purchasable:
        raise JoinError(f"plan: the {plan.name} plan cannot be bought")
    return plan


def billing_of(plan: Plan, billing_id: str) -> Billing:
    try:
        return plan.billing_option(billing_id or plan.billing[0].id)
    except KeyError as exc:
        raise JoinError(f"billing: the {plan.name} plan has no {billing_id!r} billing") from exc


def check_can_join(user: User, plan_id: str, billing_id: str = "") -> tuple[Plan, Billing]:
    plan = _purchasable(plan_id)
    if user.plan == plan.id or user.is_instructor:
        raise JoinError(f"you already have everything the {plan.name} plan unlocks")
    return plan, billing_of(plan, billing_id)


def join_plan(
    db: Session,
    user: User,
    plan_id: str,
    card_number: str,
    provider: PaymentProvider,
    billing: str = "",
    now: dt.datetime | None = None,
) -> ChargeResult:
    """Charge ``card_number`` (a provider that takes cards) and switch the plan on success."""
    plan, option = check_can_join(user, plan_id, billing)
    result = provider.charge(
        ChargeRequest(
            amount_cents=option.price_cents,
            currency=plan.currency,
            description=f"facecoach {plan.name} membership, {option.name.lower()}",
            card_number=card_number,
            customer_email=user.email,
        )
    )
    db.add(
        Payment(
            user_id=user.id,
            plan=plan.id,
            provider=provider.name,
            reference=result.reference,
            amount_cents=option.price_cents,
            currency=plan.currency,
            status=result.status,
        )
    )
    if result.ok:
        start = now or utcnow()
        user.plan = plan.id
        user.plan_since = start
        sub = subscription_of(db, user.id) or Subscription(user_id=user.id)
        sub.provider, sub.customer_ref = provider.name, ""
        sub.subscription_ref = f"{provider.name}_sub_{secrets.token_hex(8)}"
        sub.plan, sub.billing, sub.status, sub.item_ref = plan.id, option.id, "active", ""
        sub.period_start, sub.period_end = start, add_months(start, option.months)
        sub.cancel_at_period_end, sub.updated_at = False, start
        db.add(sub)
    return result


def leave_plan(db: Session, user: User) -> None:
    """Back to free at once (the end of a period, a deleted subscription)."""
    if user.plan == "member":
        user.plan = "free"
        user.plan_since = utcnow()


def subscription_of(db: Session, user_id: int) -> Subscription | None:
    return db.scalar(select(Subscription).where(Subscription.user_id == user_id))


def current_subscription(db: Session, user: User, provider: PaymentProvider) -> Subscription | None:
    """The member's subscription; for a member without one (joined before subscriptions were kept, or
    given the plan by hand) a monthly one of ``provider`` is opened from their ``plan_since``, its
    period the month now running."""
    sub = subscription_of(db, user.id)
    if user.plan != "member":
        return sub
    if sub is not None and sub.status != "canceled":
        return sub
    if provider.hosted_checkout:
        return None  # a real provider's subscription comes from its webhook, never made up here
    plan = get_plan("member")
    option = plan.billing[0]
    start = user.plan_since or user.created_at or utcnow()
    now = utcnow()
    while add_months(start, option.months) <= now:
        start = add_months(start, option.months)
    sub = sub or Subscription(user_id=user.id)
    sub.provider, sub.subscription_ref = provider.name, f"{provider.name}_sub_{secrets.token_hex(8)}"
    sub.plan, sub.billing, sub.status, sub.item_ref, sub.customer_ref = plan.id, option.id, "active", "", ""
    sub.period_start, sub.period_end, sub.cancel_at_period_end = (
        start,
        add_months(start, option.months),
        False,
    )
    db.add(sub)
    db.flush()
    return sub


def _active(db: Session, user: User, provider: PaymentProvider) -> Subscription:
    sub = current_subscription(db, user, provider)
    if user.plan != "member" or sub is None or sub.status == "canceled":
        raise BillingError("you have no paid membership to change")
    if sub.provider != provider.name:
        raise BillingError(f"your membership is billed by {sub.provider}, which is not set up here now")
    return sub


def cancel(db: Session, user: User, provider: PaymentProvider) -> Subscription:
    """Cancel at the end of the period already paid for (the provider told first: if it refuses,
    :class:`PaymentError` and nothing changes)."""
    sub = _active(db, user, provider)
    if sub.cancel_at_period_end:
        raise BillingError("your membership is already cancelled")
    provider.set_cancel_at_period_end(sub.subscription_ref, True)
    sub.cancel_at_period_end, sub.updated_at = True, utcnow()
    return sub


def resume(db: Session, user: User, provider: PaymentProvider) -> Subscription:
    """Take a cancellation back before its date: the membership renews as before."""
    sub = _active(db, user, provider)
    if not sub.cancel_at_period_end:
        raise BillingError("your membership is not cancelled")
    provider.set_cancel_at_period_end(sub.subscription_ref, False)
    sub.cancel_at_period_end, sub.updated_at = False, utcnow()
    return sub


@dataclass(frozen=True)
class ChangeQuote:
    """What a change of billing costs, stated before the member confirms it."""

    old: Billing
    new: Billing
    currency: str
    #: The unused part of the current period's price (credited), in cents.
    credit_cents: int
    unused_days: int
    #: The new price less the credit: charged now when positive, kept as credit when negative.
    due_now_cents: int
    renews_on: dt.datetime

    @property
    def per_year_difference_cents(self) -> int:
        """How much more (positive) or less a year the new billing costs."""
        return self.new.price_cents * 12 // self.new.months - self.old.price_cents * 12 // self.old.months

    def statement(self) -> str:
        c = self.currency
        yearly = self.per_year_difference_cents
        compare = (
            f"{money(abs(yearly), c)} a year {'more' if yearly > 0 else 'less'}"
            if yearly
            else "the same a year"
        )
        head = f"{self.new.name}: {self.new.label(c)} instead of {self.old.label(c)} ({compare})."
        credit = (
            f"the unused {self.unused_days} days of your {self.old.name.lower()} price, "
            f"{money(self.credit_cents, c)}"
        )
        if self.due_now_cents >= 0:
            now = (
                f"You pay {money(self.due_now_cents, c)} now: {money(self.new.price_cents, c)} less {credit}."
            )
        else:
            now = (
                f"Nothing to pay now: {credit}, covers the {money(self.new.price_cents, c)}; "
                f"the {money(-self.due_now_cents, c)} left is credited to your next payments."
            )
        return f"{head} {now} Then {self.new.label(c)} from {self.renews_on:%d %B %Y}."


def change_quote(sub: Subscription, billing_id: str, now: dt.datetime) -> ChangeQuote:
    plan = get_plan(sub.plan)
    try:
        new = plan.billing_option(billing_id)
        old = plan.billing_option(sub.billing)
    except KeyError as exc:
        raise BillingError(f"billing: the {plan.name} plan has no {exc.args[0]!r} billing") from None
    if new.id == old.id:
        raise BillingError(f"you are already billed {old.name.lower()}")
    start, end = sub.period_start or now, sub.period_end or now
    total = max((end - start).total_seconds(), 1.0)
    left = min(max((end - now).total_seconds(), 0.0), total)
    credit = round(old.price_cents * left / total)
    return ChangeQuote(
        old=old,
        new=new,
        currency=plan.currency,
        credit_cents=credit,
        unused_days=int(left // 86400),
        due_now_cents=new.price_cents - credit,
        renews_on=add_months(now, new.months),
    )


def quote_for(db: Session, user: User, provider: PaymentProvider, billing_id: str) -> ChangeQuote:
    sub = _active(db, user, provider)
    if sub.cancel_at_period_end:
        raise BillingError("your membership is cancelled: keep it first, then change how you pay")
    return change_quote(sub, billing_id, utcnow())


def change_billing(db: Session, user: User, provider: PaymentProvider, billing_id: str) -> ChangeQuote:
    """Switch to ``billing_id`` now. The test provider records the difference as a payment (or a
    credit); Stripe is asked to (``always_invoice``) and its invoice arrives by webhook."""
    now = utcnow()
    sub = _active(db, user, provider)
    if sub.cancel_at_period_end:
        raise BillingError("your membership is cancelled: keep it first, then change how you pay")
    quote = change_quote(sub, billing_id, now)
    provider.change_price(sub.subscription_ref, sub.item_ref, price_key(sub.plan, billing_id))
    if not provider.hosted_checkout:
        db.add(
            Payment(
                user_id=user.id,
                plan=sub.plan,
                provider=provider.name,
                reference=f"{provider.name}_change_{secrets.token_hex(8)}",
                amount_cents=quote.due_now_cents,
                currency=quote.currency,
                status="succeeded" if quote.due_now_cents >= 0 else "credited",
            )
        )
    sub.billing, sub.period_start, sub.period_end = billing_id, now, quote.renews_on
    sub.updated_at = now
    return quote


def lapse_due(db: Session, now: dt.datetime | None = None, user_id: int | None = None) -> int:
    """Subscriptions kept by facecoach itself (the test provider) whose period has ended: a cancelled
    one ends (the member is back on Free), the others renew for another period (a renewal payment
    recorded; the test provider moves no money). Stripe's subscriptions are left to Stripe's webhook.
    Returns how many ended; the caller commits."""
    now = now or utcnow()
    query = select(Subscription).where(
        Subscription.status == "active",
        Subscription.provider == "test",
        Subscription.period_end.is_not(None),
        Subscription.period_end <= now,
    )
    if user_id is not None:
        query = query.where(Subscription.user_id == user_id)
    ended = 0
    for sub in db.scalars(query):
        user = db.get(User, sub.user_id)
        if user is None:
            continue
        if sub.cancel_at_period_end:
            sub.status, sub.updated_at = "canceled", now
            leave_plan(db, user)
            ended += 1
            continue
        _renew(db, sub, now)
    return ended


def _renew(db: Session, sub: Subscription, now: dt.datetime) -> None:
    plan = get_plan(sub.plan)
    option = plan.billing_option(sub.billing)
    while sub.period_end is not None and sub.period_end <= now:
        sub.period_start, sub.period_end = sub.period_end, add_months(sub.period_end, option.months)
        db.add(
            Payment(
                user_id=sub.user_id,
                plan=sub.plan,
                provider=sub.provider,
                reference=f"{sub.provider}_renewal_{secrets.token_hex(8)}",
                amount_cents=option.price_cents,
                currency=plan.currency,
                status="succeeded",
                created_at=sub.period_start,
            )
        )
