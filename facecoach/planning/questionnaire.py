"""The assessment questionnaire: questions are data (``data/questionnaire.yaml``), validated on load
against the answers format, and asked in the terminal with rich prompts.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from rich.console import Console
from rich.prompt import Confirm, IntPrompt, Prompt

from facecoach.knowledge.models import REGIONS
from facecoach.planning.assessment import (
    Answers,
    AnswersError,
    Conditions,
    Habits,
    describe_validation_error,
    parse_answers,
)
from facecoach.yamlfile import read_yaml

QUESTIONNAIRE_FILE = Path(__file__).resolve().parent / "data" / "questionnaire.yaml"

QuestionType = Literal["bool", "int", "choice", "multi", "region_weeks", "skin"]


class QuestionnaireError(ValueError):
    """The questionnaire file is broken: names the file, the question and the field."""


class Choice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    value: str
    label: str


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str = Field(pattern=r"^[a-z_]+(\.[a-z_]+)?$")  # dotted path in the answers file
    type: QuestionType
    prompt: str = Field(min_length=3)
    help: str = ""
    web_help: str = ""  # the web form's hint, where ``help`` is worded for the terminal prompt
    choices: list[Choice] = Field(default_factory=list)
    min: int | None = None
    max: int | None = None
    default: bool | int | str | None = None
    regions_prompt: str = ""
    weeks_prompt: str = ""
    cleared_prompt: str = ""
    conditions_prompt: str = ""

    @model_validator(mode="after")
    def _shape(self) -> Question:
        if self.type in ("choice", "multi", "skin") and not self.choices:
            raise ValueError(f"a '{self.type}' question needs choices")
        if self.type == "int" and (self.min is None or self.max is None or self.min > self.max):
            raise ValueError("an 'int' question needs min ≤ max")
        if self.type == "region_weeks" and not (self.regions_prompt and self.weeks_prompt):
            raise ValueError("a 'region_weeks' question needs regions_prompt and weeks_prompt")
        if self.type == "skin" and not (self.conditions_prompt and self.regions_prompt):
            raise ValueError("a 'skin' question needs conditions_prompt and regions_prompt")
        if self.type == "choice" and self.default not in [c.value for c in self.choices]:
            raise ValueError("a 'choice' question's default must be one of its choices")
        return self


class Questionnaire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    questions: list[Question] = Field(min_length=1)


def set_answer(data: dict[str, Any], path: str, value: Any) -> None:
    """Put ``value`` at a question's dotted ``field`` ("habits.stress") in a raw answers dict."""
    head, _, tail = path.partition(".")
    if tail:
        data.setdefault(head, {})[tail] = value
    else:
        data[head] = value


def _sample(q: Question) -> list[Any]:
    """Values the question can produce, to check against the answers format."""
    if q.type == "bool":
        return [True, False]
    if q.type == "int":
        return [q.min, q.max]
    if q.type == "choice":
        return [c.value for c in q.choices]
    if q.type == "multi":
        return [[c.value] for c in q.choices]
    if q.type == "region_weeks":
        return [
            [{"region": r, "weeks_ago": 1, **({"cleared": True} if q.cleared_prompt else {})}]
            for r in REGIONS
        ]
    return [[{"condition": c.value, "region": "cheeks"}] for c in q.choices]


def validate_questionnaire(data: Any, source: str = "questionnaire") -> Questionnaire:
    """Shape, then every question against the answers format: its field exists, each value it can
    produce is accepted, and every answers field is asked exactly once."""
    try:
        qn = Questionnaire.model_validate(data)
    except ValidationError as exc:
        raise QuestionnaireError(f"{source}: {describe_validation_error(exc)}") from None
    seen: set[str] = set()
    for i, q in enumerate(qn.questions):
        where = f"{source}: question {i + 1} ('{q.field}')"
        if q.field in seen:
            raise QuestionnaireError(f"{where}: field asked twice")
        seen.add(q.field)
        for value in _sample(q):
            probe: dict[str, Any] = {"minutes_per_day": 10}
            set_answer(probe, q.field, value)
            try:
                parse_answers(probe)
            except AnswersError as exc:
                raise QuestionnaireError(f"{where}: the answers format refuses {value!r} ({exc})") from None
    leaves = {"goals", "minutes_per_day", "tools"}
    leaves |= {f"habits.{k}" for k in Habits.model_fields} | {
        f"conditions.{k}" for k in Conditions.model_fields
    }
    missing = sorted(leaves - seen)
    if missing:
        raise QuestionnaireError(f"{source}: no question asks {', '.join(missing)}")
    return qn


def load_questionnaire(path: Path | None = None) -> Questionnaire:
    p = path or QUESTIONNAIRE_FILE
    try:
        data = read_yaml(p)
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise QuestionnaireError(f"{p}: cannot read ({exc.__class__.__name__})") from None
    return validate_questionnaire(data, source=str(p))


@lru_cache(maxsize=1)
def default_questionnaire() -> Questionnaire:
    return load_questionnaire()


# --- asking --------------------------------------------------------------------------------------------


def _pick_many(
    console: Console, prompt: str, options: list[tuple[str, str]], allow_none: bool = True
) -> list[str]:
    """Comma-separated values, labels or 1-based numbers; 'none' or empty for nothing. Asks again on a
    typo."""
    for n, (value, label) in enumerate(options, 1):
        console.print(f"  [bold]{n}[/bold]. {label} [dim]({value})[/dim]")
    while True:
        raw = Prompt.ask(
            prompt, console=console, default="none" if allow_none else None, show_default=allow_none
        )
        parts = [p.strip().lower() for p in (raw or "").split(",") if p.strip()]
        if parts in ([], ["none"]):
            if allow_none:
                return []
            console.print("[red]Pick at least one.[/red]")
            continue
        out: list[str] = []
        bad = []
        for part in parts:
            match = next(
                (
                    v
                    for n, (v, label) in enumerate(options, 1)
                    if part in (v, label.lower(), str(n), v.replace("_", " "))
                ),
                None,
            )
            if match is None:
                bad.append(part)
            elif match not in out:
                out.append(match)
        if not bad:
            return out
        console.print(f"[red]Not a choice: {', '.join(bad)}[/red]")


def _ask_one(console: Console, q: Question) -> Any:
    """The answer to one question, in the shape the answers file takes for its type."""
    if q.help:
        console.print(f"[dim]{q.help}[/dim]")
    if q.type == "bool":
        return Confirm.ask(q.prompt, console=console, default=bool(q.default))
    if q.type == "int":
        return _ask_int(console, q)
    if q.type == "choice":
        for c in q.choices:
            console.print(f"  [bold]{c.value}[/bold]: {c.label}")
        return Prompt.ask(
            q.prompt, console=console, choices=[c.value for c in q.choices], default=str(q.default)
        )
    if q.type == "multi":
        return _pick_many(console, q.prompt, [(c.value, c.label) for c in q.choices])
    if q.type == "region_weeks":
        return _ask_region_weeks(console, q)
    return _ask_skin(console, q)


def _ask_int(console: Console, q: Question) -> int:
    """A whole number within the question's range; asks again outside it."""
    lo, hi = q.min or 0, q.max or 0
    default = int(q.default) if isinstance(q.default, int) and not isinstance(q.default, bool) else lo
    while True:
        n = IntPrompt.ask(f"{q.prompt} [{lo}-{hi}]", console=console, default=default)
        if lo <= n <= hi:
            return n
        console.print(f"[red]Please enter a number from {lo} to {hi}.[/red]")


_REGIONS: list[tuple[str, str]] = [(r, r) for r in REGIONS]


def _ask_region_weeks(console: Console, q: Question) -> list[dict[str, Any]]:
    """Injectables or surgery: which regions, how many weeks ago, and (surgery) whether cleared."""
    if not Confirm.ask(q.prompt, console=console, default=False):
        return []
    entries = []
    for region in _pick_many(console, q.regions_prompt, _REGIONS, allow_none=False):
        weeks = -1
        while weeks < 0:
            weeks = IntPrompt.ask(q.weeks_prompt.format(region=region), console=console)
        entry: dict[str, Any] = {"region": region, "weeks_ago": weeks}
        if q.cleared_prompt:
            entry["cleared"] = Confirm.ask(
                q.cleared_prompt.format(region=region), console=console, default=False
            )
        entries.append(entry)
    return entries


def _ask_skin(console: Console, q: Question) -> list[dict[str, str]]:
    """Skin conditions, each with the regions it affects."""
    if not Confirm.ask(q.prompt, console=console, default=False):
        return []
    found = []
    conditions = _pick_many(
        console, q.conditions_prompt, [(c.value, c.label) for c in q.choices], allow_none=False
    )
    for cond in conditions:
        label = next(c.label for c in q.choices if c.value == cond)
        for region in _pick_many(
            console, q.regions_prompt.format(condition=label), _REGIONS, allow_none=False
        ):
            found.append({"condition": cond, "region": region})
    return found


def ask_questionnaire(console: Console, questionnaire: Questionnaire | None = None) -> Answers:
    """Ask every question in order and return validated answers."""
    qn = questionnaire or default_questionnaire()
    data: dict[str, Any] = {}
    for q in qn.questions:
        console.print()
        set_answer(data, q.field, _ask_one(console, q))
    return parse_answers(data)
