"""Membership plans (content in ``data/plans.yaml``) and what each one unlocks.

The one definition of the plans: their ids and order here (:data:`PlanId`, each plan includes what the
plans before it unlock), their display names, prices and texts in the data file, which must list
exactly these plans in this order.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from facecoach.yamlfile import read_yaml

PlanId = Literal["free", "member", "instructor"]
#: Every plan id, from the least to the most included.
PLAN_IDS: tuple[PlanId, ...] = get_args(PlanId)
PLAN_ORDER: dict[str, int] = {plan: rank for rank, plan in enumerate(PLAN_IDS)}
_DATA = Path(__file__).resolve().parent / "data" / "plans.yaml"


class Billing(BaseModel):
    """One way to pay for a plan: a price every ``months`` months (``member-monthly``, ``member-yearly``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z]{2,20}$")
    name: str
    price_cents: int = Field(gt=0)
    months: int = Field(ge=1, le=12)

    @property
    def every(self) -> str:
        return {1: "a month", 12: "a year"}.get(self.months, f"every {self.months} months")

    def label(self, currency: str = "EUR") -> str:
        """``€12.00 a month``."""
        return f"{money(self.price_cents, currency)} {self.every}"


CURRENCY_SIGNS = {"EUR": "€", "USD": "$", "GBP": "£"}


def money(cents: int, currency: str = "EUR") -> str:
    """``1200`` → ``€12.00``; a negative amount keeps its sign in front (``-€3.45``)."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{CURRENCY_SIGNS.get(currency, currency + ' ')}{abs(cents) / 100:.2f}"


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: PlanId
    name: str
    price_cents: int = Field(ge=0)
    currency: str = Field(min_length=3, max_length=3)
    period: str
    purchasable: bool
    tagline: str
    unlocks: list[str]
    #: How the plan may be paid for (purchasable plans: at least one; the first costs ``price_cents``).
    billing: list[Billing] = Field(default_factory=list)

    @model_validator(mode="after")
    def _billing_matches(self) -> Plan:
        if self.purchasable and not self.billing:
            raise ValueError(f"{self.id}: a plan that can be bought needs at least one billing option")
        if self.billing and self.billing[0].price_cents != self.price_cents:
            raise ValueError(f"{self.id}: the first billing option must cost price_cents")
        if len({b.id for b in self.billing}) != len(self.billing):
            raise ValueError(f"{self.id}: billing option ids must differ")
        return self

    def billing_option(self, billing_id: str) -> Billing:
        for option in self.billing:
            if option.id == billing_id:
                return option
        raise KeyError(billing_id)

    @property
    def price_label(self) -> str:
        if self.price_cents == 0:
            return f"€0, {self.period}"
        return f"€{self.price_cents / 100:.2f} / {self.period}"


class PlansFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    plans: list[Plan]

    @model_validator(mode="after")
    def _every_plan_once_in_order(self) -> PlansFile:
        ids = tuple(p.id for p in self.plans)
        if ids != PLAN_IDS:
            raise ValueError(f"plans must be {', '.join(PLAN_IDS)} in this order, got {', '.join(ids)}")
        return self


@lru_cache(maxsize=1)
def all_plans() -> tuple[Plan, ...]:
    return tuple(PlansFile.model_validate(read_yaml(_DATA)).plans)


def plan_names() -> dict[str, str]:
    """Plan id → the name people see ("member" → "Member")."""
    return {plan.id: plan.name for plan in all_plans()}


def get_plan(plan_id: str) -> Plan:
    for plan in all_plans():
        if plan.id == plan_id:
            return plan
    raise KeyError(plan_id)


def price_key(plan_id: str, billing_id: str) -> str:
    """The name of one price (``member-yearly``): what ``FACECOACH_STRIPE_PRICES`` maps to a Stripe price."""
    return f"{plan_id}-{billing_id}"


def price_keys() -> list[str]:
    return [price_key(p.id, b.id) for p in all_plans() for b in p.billing]


def allows(user_plan: str | None, required: str) -> bool:
    """Whether ``user_plan`` (None: anonymous) includes what ``required`` unlocks."""
    if user_plan is None:
        return False
    return PLAN_ORDER.get(user_plan, -1) >= PLAN_ORDER[required]
