"""The planner's questionnaire (data) as an HTML form, and the submitted form back into answers.

Form field names: ``<field>`` for bool ("yes"/"no"), int, choice and multi (repeated);
``<field>:region`` (repeated) with ``<field>:weeks:<region>`` and ``<field>:cleared:<region>`` for
region_weeks; ``<field>:<condition>`` (repeated regions) for skin. Validation is the planner's own
(:class:`facecoach.planning.assessment.Answers`); a refusal is a :class:`FormError` that names the
question it belongs to in plain words, so the page can show it beside that question and keep every
other answer as it was typed (:func:`answers_to_form` and the submitted form use one shape: a name →
values mapping).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from facecoach.planning.assessment import Answers, AnswersError
from facecoach.planning.questionnaire import Question, Questionnaire, set_answer

GetList = Callable[[str], list[str]]
FormValues = dict[str, list[str]]


class FormError(AnswersError):
    """A refused form: ``field`` is the question's field (``conditions.injectables``); ``message`` is
    one sentence for the person filling it in, without field paths."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"field '{field}': {message}")
        self.field = field
        self.message = message


def _int(raw: str, field: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise FormError(field, f"Enter a whole number (not “{raw[:20]}”).") from None


def _region_weeks(q: Question, get: GetList) -> list[dict[str, Any]]:
    out = []
    for region in get(f"{q.field}:region"):
        weeks_raw = (get(f"{q.field}:weeks:{region}") or [""])[0]
        if not weeks_raw.strip():
            raise FormError(q.field, f"Say how many weeks ago the {region} was treated.")
        entry: dict[str, Any] = {"region": region, "weeks_ago": _int(weeks_raw, q.field)}
        if q.cleared_prompt:
            entry["cleared"] = bool(get(f"{q.field}:cleared:{region}"))
        out.append(entry)
    return out


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
        return _region_weeks(q, get)
    return [
        {"condition": choice.value, "region": region}
        for choice in q.choices
        for region in get(f"{q.field}:{choice.value}")
    ]


def _plain(error: Mapping[str, Any]) -> str:
    """Pydantic's message, as a sentence for a person ("Input should be …" → "This should be …")."""
    msg = str(error.get("msg", "this answer is not valid"))
    if msg.startswith("Input should"):
        msg = "This answer should" + msg[len("Input should") :]
    return msg[:1].upper() + msg[1:].rstrip(".") + "."


def _question_of(questionnaire: Questionnaire, loc: tuple[Any, ...]) -> str:
    """The question a validation error's location belongs to (the longest matching field path)."""
    path = ".".join(str(p) for p in loc)
    fields = sorted((q.field for q in questionnaire.questions), key=len, reverse=True)
    return next((f for f in fields if path == f or path.startswith(f + ".")), path or "answers")


def form_to_answers(questionnaire: Questionnaire, get: GetList) -> Answers:
    data: dict[str, Any] = {}
    for q in questionnaire.questions:
        set_answer(data, q.field, _one(q, get))
    try:
        return Answers.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise FormError(_question_of(questionnaire, tuple(first["loc"])), _plain(first)) from None


def _answer_at(answers: Mapping[str, Any], field: str) -> Any:
    head, _, tail = field.partition(".")
    value = answers.get(head)
    if tail:
        return value.get(tail) if isinstance(value, Mapping) else None
    return value


def _question_values(q: Question, value: Any) -> FormValues:
    if q.type == "bool":
        return {q.field: ["yes" if value else "no"]}
    if q.type in ("int", "choice"):
        return {q.field: [str(value)]} if value is not None else {}
    if q.type == "multi":
        return {q.field: [str(v) for v in value or []]}
    out: FormValues = {}
    for entry in value or []:
        if q.type == "region_weeks":
            region = str(entry.get("region"))
            out.setdefault(f"{q.field}:region", []).append(region)
            out[f"{q.field}:weeks:{region}"] = [str(entry.get("weeks_ago", ""))]
            if entry.get("cleared"):
                out[f"{q.field}:cleared:{region}"] = ["yes"]
        else:
            out.setdefault(f"{q.field}:{entry.get('condition')}", []).append(str(entry.get("region")))
    return out


def answers_to_form(questionnaire: Questionnaire, answers: Mapping[str, Any] | None) -> FormValues:
    """The form values that would submit ``answers`` (a stored answers dict); each question without an
    answer gets its default. The inverse of :func:`form_to_answers`."""
    values: FormValues = {}
    for q in questionnaire.questions:
        found = _answer_at(answers or {}, q.field)
        values.update(_question_values(q, q.default if found is None else found))
    return values


def submitted_values(questionnaire: Questionnaire, items: Iterable[tuple[str, object]]) -> FormValues:
    """The submitted form's values that belong to a question (to show them again as typed); bounded,
    since the form is untrusted."""
    names = {q.field for q in questionnaire.questions}
    prefixes = tuple(f"{name}:" for name in names)
    values: FormValues = {}
    for key, value in items:
        if isinstance(value, str) and (key in names or key.startswith(prefixes)):
            kept = values.setdefault(key, [])
            if len(kept) < 50:
                kept.append(value[:100])
    return values
