"""The plans have one definition: ids and order in ``members.plans``, names and texts in plans.yaml."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from facecoach.members.plans import PLAN_IDS, PlansFile, all_plans, allows, plan_names


def test_the_names_people_see_come_from_the_data_file() -> None:
    assert plan_names() == {"free": "Free", "member": "Member", "instructor": "Instructor"}
    assert tuple(plan_names()) == PLAN_IDS == ("free", "member", "instructor")


def test_each_plan_includes_the_ones_before_it() -> None:
    assert [allows(p, "member") for p in (None, "free", "member", "instructor", "gold")] == [
        False, False, True, True, False,
    ]  # fmt: skip
    assert allows("instructor", "free") and not allows("member", "instructor")


def test_a_data_file_with_a_plan_missing_or_out_of_order_is_refused() -> None:
    plans = [p.model_dump() for p in all_plans()]
    with pytest.raises(ValidationError, match="plans must be free, member, instructor in this order"):
        PlansFile.model_validate({"plans": plans[::-1]})
    with pytest.raises(ValidationError, match=r"got free, member \[type=value_error"):
        PlansFile.model_validate({"plans": plans[:2]})
