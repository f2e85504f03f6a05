"""Planning: the assessment questionnaire → safety rules → an ordered routine with reasons and
progression (see docs/planner.md)."""

from facecoach.planning.assessment import Answers, AnswersError, load_answers, parse_answers
from facecoach.planning.plan import Day, Excluded, Plan, PlanItem
from facecoach.planning.planner import build_plan, week_schedule
from facecoach.planning.scan import ScanError, ScanSummary, load_scan, parse_scan

__all__ = [
    "Answers",
    "AnswersError",
    "Day",
    "Excluded",
    "Plan",
    "PlanItem",
    "ScanError",
    "ScanSummary",
    "build_plan",
    "load_answers",
    "load_scan",
    "parse_answers",
    "parse_scan",
    "week_schedule",
]
