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


def allows(user_plan: str | None, required: str) -> bool:
    """Whether ``user_plan`` (None: anonymous) includes what ``required`` unlocks."""
    if user_plan is None:
        return False
    return PLAN_ORDER.get(user_plan, -1) >= PLAN_ORDER[required]
