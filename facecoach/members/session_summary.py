"""The one model of a practice-session summary (issue 11): what ``POST /api/sessions`` accepts and what
live coaching builds on the server before it saves.

A summary used to be stored as the client sent it: a 30 MB fault name, 50,000 fault kinds, a count of
10^18, unknown technique ids and dates from year 1 to 9999 all went in (one member's export grew to
63 MB). :class:`SessionSummary` bounds every count and length on its own; :meth:`SessionSummary.check`
adds what needs the site's state: technique ids from the library, fault ids from the coaching engine's
movement rules, and a date within a day of today (UTC; a day either way covers every time zone).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    ValidationError,
    field_validator,
)

if TYPE_CHECKING:
    from facecoach.knowledge import Library

#: Where a stored session came from: the live socket (built by the server) or logged by hand.
Source = Literal["live", "manual"]

MAX_TECHNIQUES = 100  # technique ids in one session
MAX_FAULT_KINDS = 20  # distinct fault kinds (the engine knows 7)
MAX_COUNT = 10_000  # reps, and occurrences of one fault kind
MAX_DURATION_S = 6 * 3600.0  # seconds; a live session ends after 3 h
MAX_FAULT_LIST = MAX_COUNT  # a list of fault kinds (one per occurrence) is at most this long
DATE_WINDOW = dt.timedelta(days=1)

TechniqueId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=100)]
FaultId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
Count = Annotated[StrictInt, Field(ge=0, le=MAX_COUNT)]


class SessionSummaryError(ValueError):
    """A summary is malformed or not believable; the message starts with the field's name."""


@dataclass(frozen=True)
class SummaryRules:
    """What a summary is checked against: known technique and fault ids, and today's date (UTC)."""

    techniques: frozenset[str]
    faults: frozenset[str]
    today: dt.date

    @classmethod
    def of(cls, library: Library, today: dt.date | None = None) -> SummaryRules:
        from facecoach.coaching.specs import recorded_fault_kinds

        return cls(
            frozenset(library.techniques), recorded_fault_kinds(), today or dt.datetime.now(dt.UTC).date()
        )


class SessionSummary(BaseModel):
    """One practice session: techniques practised, reps, fault kind → count, seconds, the day."""

    model_config = ConfigDict(extra="forbid")

    technique_ids: list[TechniqueId] = Field(default_factory=list, max_length=MAX_TECHNIQUES)
    reps: Count = 0
    faults: dict[FaultId, Count] = Field(
        default_factory=dict, max_length=MAX_FAULT_KINDS, description="fault kind → how many times"
    )
    duration_s: float = Field(default=0.0, ge=0, le=MAX_DURATION_S, description="seconds")
    date: dt.date | None = Field(default=None, description="the day practised (UTC), default today")

    @field_validator("faults", mode="before")
    @classmethod
    def _list_of_kinds(cls, value: Any) -> Any:
        """Live coaching may give one kind per occurrence; it is counted here."""
        if isinstance(value, list):
            if len(value) > MAX_FAULT_LIST:
                raise ValueError(f"at most {MAX_FAULT_LIST} faults")
            if not all(isinstance(v, str) for v in value):
                raise ValueError("a list of fault kinds must hold strings")
            return dict(Counter(value))
        return value

    @field_validator("duration_s", mode="before")
    @classmethod
    def _not_a_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("seconds are a number, not true/false")
        return value

    def check(self, rules: SummaryRules) -> None:
        """Refuse what the model alone cannot know is wrong (``SessionSummaryError`` names the field)."""
        unknown = sorted(set(self.technique_ids) - rules.techniques)
        if unknown:
            raise SessionSummaryError(f"technique_ids: unknown technique {unknown[0]!r}")
        unknown = sorted(set(self.faults) - rules.faults)
        if unknown:
            raise SessionSummaryError(f"faults: unknown fault kind {unknown[0]!r}")
        if self.date is not None and abs(self.date - rules.today) > DATE_WINDOW:
            raise SessionSummaryError(
                f"date: must be within a day of today ({rules.today.isoformat()}),"
                f" got {self.date.isoformat()}"
            )


def parse_summary(data: Any) -> SessionSummary:
    """Validate a mapping as a :class:`SessionSummary`; the first problem as ``SessionSummaryError``."""
    try:
        return SessionSummary.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "summary"
        raise SessionSummaryError(f"{where}: {first['msg']}") from None
