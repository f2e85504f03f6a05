"""The planner's questionnaire (data) as an HTML form, and the submitted form back into answers.

Form field names: ``<field>`` for bool ("yes"/"no"), int, choice and multi (repeated);
``<field>:region`` (repeated) with ``<field>:weeks:<region>`` and ``<field>:cleared:<region>`` for
region_weeks; ``<field>:<condition>`` (repeated regions) for skin. Validation is the planner's own
(:func:`facecoach.planning.assessment.parse_answers`), so a bad value is refused with the field named.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from facecoach.planning.assessment import Answers, AnswersError, parse_answers
from facecoach.planning.questionnaire import Question, Questionnaire, set_answer

GetList = Callable[[str], list[str]]


def _int(raw: str, where: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise AnswersError(f"field '{where}': a whole number is needed (got {raw[:20]!r})") from None


def _one(q: Question, get: GetList) -> Any:
    values = get(q.field)
    first = values[0] if values else None
    if q.type == "bool":
        return first == "yes"
    if q.type == "int":
        if first is None or not first.strip():
            return q.default
        return _int(first, q.field)
    if q.type == "choice":
        return first if first is not None else q.default
    if q.type == "multi":
        return list(values)
    if q.type == "region_weeks":
        out = []
        for region in get(f"{q.field}:region"):
            weeks_raw = (get(f"{q.field}:weeks:{region}") or [""])[0]
            if not weeks_raw.strip():
                raise AnswersError(f"field '{q.field}': say how many weeks ago the {region} was treated")
            entry: dict[str, Any] = {"region": region, "weeks_ago": _int(weeks_raw, f"{q.field}.weeks_ago")}
            if q.cleared_prompt:
                entry["cleared"] = bool(get(f"{q.field}:cleared:{region}"))
            out.append(entry)
        return out
    found = []
    for choice in q.choices:
        for region in get(f"{q.field}:{choice.value}"):
            found.append({"condition": choice.value, "region": region})
    return found


def form_to_answers(questionnaire: Questionnaire, get: GetList) -> Answers:
    data: dict[str, Any] = {}
    for q in questionnaire.questions:
        set_answer(data, q.field, _one(q, get))
    return parse_answers(data, source="assessment")
