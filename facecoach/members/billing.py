"""Joining a plan: charge through the provider, then switch the plan — one transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from facecoach.members.models import Payment, User, utcnow
from facecoach.members.payments import ChargeRequest, ChargeResult, PaymentProvider
from facecoach.members.plans import get_plan


class JoinError(ValueError):
    pass


def join_plan(
    db: Session, user: User, plan_id: str, card_number: str, provider: PaymentProvider
) -> ChargeResult:
    try:
        plan = get_plan(plan_id)
    except KeyError as exc:
        raise JoinError("plan: no such plan") from exc
    if not plan.purchasable:
        raise JoinError(f"plan: the {plan.name} plan cannot be bought")
    if user.plan == plan.id or user.is_instructor:
        raise JoinError(f"you already have everything the {plan.name} plan unlocks")
    result = provider.charge(
        ChargeRequest(
            amount_cents=plan.price_cents,
            currency=plan.currency,
            description=f"facecoach {plan.name} membership",
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
            amount_cents=plan.price_cents,
            currency=plan.currency,
            status=result.status,
        )
    )
    if result.ok:
        user.plan = plan.id
        user.plan_since = utcnow()
    return result


def leave_plan(db: Session, user: User) -> None:
    """Back to free (the test provider has nothing to refund)."""
    if user.plan == "member":
        user.plan = "free"
        user.plan_since = utcnow()
