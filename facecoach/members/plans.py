"""Membership plans (content in ``data/plans.yaml``) and what each one unlocks."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from facecoach.yamlfile import read_yaml

PlanId = Literal["free", "member", "instructor"]
PLAN_ORDER: dict[str, int] = {"free": 0, "member": 1, "instructor": 2}
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


class _PlansFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    plans: list[Plan]


@lru_cache(maxsize=1)
def all_plans() -> tuple[Plan, ...]:
    return tuple(_PlansFile.model_validate(read_yaml(_DATA)).plans)


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
