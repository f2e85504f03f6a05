"""The habit guard's rows: the member's settings, and the opt-in hourly counts the page uploads.

An upload is validated down to its last key (:class:`CountsUpload`, ``extra="forbid"``): hours, seconds,
nudge counts and known habit ids, nothing else, so a page (or anyone) cannot store a landmark or a frame
here even by mistake. Each page has its own random ``client_id``; re-sending an hour replaces that page's
row for it, so retries never double-count.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from facecoach.guard.policy import GuardSettings, default_settings
from facecoach.guard.rules import GuardRules
from facecoach.members.models import GuardHour, GuardSetting, utcnow

#: the most hours one upload may carry (two days of one open page)
MAX_HOURS_PER_UPLOAD = 48
#: how far a counted day may lie from the server's date (time zones span −12…+14 h)
MAX_DAY_SKEW = dt.timedelta(days=2)


class CountsError(ValueError):
    """Counts that cannot be saved (the member has not opted in)."""


def _epoch(when: dt.datetime | None) -> float | None:
    return None if when is None else when.replace(tzinfo=dt.UTC).timestamp()


def load_settings(db: Session, user_id: int, rules: GuardRules) -> GuardSettings:
    row = db.get(GuardSetting, user_id)
    if row is None:
        return default_settings(rules)
    return GuardSettings(
        enabled=row.enabled,
        interval_min=row.interval_min,
        quiet_start_h=row.quiet_start_h,
        quiet_end_h=row.quiet_end_h,
        paused_until_s=_epoch(row.paused_until),
        sound=row.sound,
        notify=row.notify,
        save_counts=row.save_counts,
    )


def save_settings(db: Session, user_id: int, settings: GuardSettings) -> None:
    row = db.get(GuardSetting, user_id) or GuardSetting(user_id=user_id)
    row.enabled = settings.enabled
    row.interval_min = settings.interval_min
    row.quiet_start_h = settings.quiet_start_h
    row.quiet_end_h = settings.quiet_end_h
    row.paused_until = (
        None
        if settings.paused_until_s is None
        else dt.datetime.fromtimestamp(settings.paused_until_s, dt.UTC).replace(tzinfo=None)
    )
    row.sound = settings.sound
    row.notify = settings.notify
    row.save_counts = settings.save_counts
    row.updated_at = utcnow()
    db.add(row)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SettingsChange(_Strict):
    """What the page may change (every field optional; ``pause``: pause for the rules' pause_min,
    ``resume``: end a pause)."""

    enabled: bool | None = None
    interval_min: int | None = None
    quiet_start_h: int | None = Field(default=None, ge=0, le=23)
    quiet_end_h: int | None = Field(default=None, ge=0, le=23)
    quiet_hours: bool | None = None  # false: no quiet hours (both hours cleared)
    sound: bool | None = None
    notify: bool | None = None
    save_counts: bool | None = None
    pause: bool = False
    resume: bool = False


def apply_change(
    current: GuardSettings, change: SettingsChange, rules: GuardRules, now_s: float
) -> GuardSettings:
    """The settings after ``change``; ValueError for an interval the rules do not offer."""
    if change.interval_min is not None and change.interval_min not in rules.nudges.interval_min_choices:
        raise ValueError(f"interval_min must be one of {rules.nudges.interval_min_choices}")
    values = {
        k: v
        for k, v in change.model_dump(exclude={"pause", "resume", "quiet_hours"}).items()
        if v is not None and k in GuardSettings.__dataclass_fields__
    }
    if change.quiet_hours is False:
        values["quiet_start_h"] = values["quiet_end_h"] = None
    if change.pause:
        values["paused_until_s"] = now_s + rules.nudges.pause_min * 60.0
    if change.resume:
        values["paused_until_s"] = None
    merged = {**current.__dict__, **values}
    return GuardSettings(**merged)


class HourUpload(_Strict):
    day: dt.date
    hour: int = Field(ge=0, le=23)
    measured_s: float = Field(ge=0, le=3600)
    habit_s: dict[str, float] = Field(default_factory=dict)
    nudges: dict[str, int] = Field(default_factory=dict)

    @field_validator("habit_s")
    @classmethod
    def _seconds(cls, v: dict[str, float]) -> dict[str, float]:
        if any(not 0 <= s <= 3600 for s in v.values()):
            raise ValueError("habit seconds are 0–3600")
        return v

    @field_validator("nudges")
    @classmethod
    def _nudges(cls, v: dict[str, int]) -> dict[str, int]:
        if any(not 0 <= n <= 60 for n in v.values()):
            raise ValueError("nudges per hour are 0–60")
        return v

    @model_validator(mode="after")
    def _within_the_hour(self) -> HourUpload:
        if any(s > self.measured_s + 1.0 for s in self.habit_s.values()):
            raise ValueError("a habit cannot be held longer than the hour was watched")
        return self


class CountsUpload(_Strict):
    """One page's counts: ``client_id`` (16–32 hex digits, random per page) and up to 48 hours."""

    client_id: str = Field(pattern=r"^[0-9a-f]{16,32}$")
    hours: list[HourUpload] = Field(min_length=1, max_length=MAX_HOURS_PER_UPLOAD)

    @field_validator("hours")
    @classmethod
    def _known_habits(cls, hours: list[HourUpload], info: ValidationInfo) -> list[HourUpload]:
        known = (info.context or {}).get("habit_ids")
        if known is not None:
            for h in hours:
                unknown = (set(h.habit_s) | set(h.nudges)) - set(known)
                if unknown:
                    raise ValueError(f"unknown habit {sorted(unknown)[0][:30]!r}")
        return hours


def parse_upload(data: object, rules: GuardRules, today: dt.date) -> CountsUpload:
    """Validate an upload (pydantic ValidationError or ValueError when it is not acceptable)."""
    upload = CountsUpload.model_validate(data, context={"habit_ids": rules.habit_ids})
    for h in upload.hours:
        if abs(h.day - today) > MAX_DAY_SKEW:
            raise ValueError(f"hours: {h.day.isoformat()} is not a recent day")
    return upload


def save_counts(db: Session, user_id: int, upload: CountsUpload, settings: GuardSettings) -> int:
    """Store (replace) this page's hours; CountsError unless the member opted in. Returns rows written."""
    if not settings.save_counts:
        raise CountsError("saving counts is off: turn it on in the guard's settings first")
    for h in upload.hours:
        row = db.scalar(
            select(GuardHour).where(
                GuardHour.user_id == user_id,
                GuardHour.client_id == upload.client_id,
                GuardHour.day == h.day,
                GuardHour.hour == h.hour,
            )
        )
        row = row or GuardHour(user_id=user_id, client_id=upload.client_id, day=h.day, hour=h.hour)
        row.measured_s = h.measured_s
        row.habit_s = {k: round(v, 3) for k, v in h.habit_s.items()}
        row.nudges = dict(h.nudges)
        row.updated_at = utcnow()
        db.add(row)
    return len(upload.hours)


def forget_counts(db: Session, user_id: int) -> int:
    """Delete every saved count of the member; returns how many hours went."""
    result = db.execute(delete(GuardHour).where(GuardHour.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Totals:
    """Seconds watched, and seconds held per habit, over some span."""

    measured_s: float
    habit_s: dict[str, float]

    def share(self, habit: str) -> float | None:
        """The fraction of watched time the habit was held (None when nothing was watched)."""
        return self.habit_s.get(habit, 0.0) / self.measured_s if self.measured_s > 0 else None


def _add(rows: list[GuardHour]) -> Totals:
    measured = sum(r.measured_s for r in rows)
    habits: dict[str, float] = {}
    for r in rows:
        for k, v in (r.habit_s or {}).items():
            habits[k] = habits.get(k, 0.0) + float(v)
    return Totals(measured, habits)


def day_hours(db: Session, user_id: int, day: dt.date) -> list[Totals]:
    """24 totals, one per local hour of ``day`` (every page's rows added)."""
    rows = list(db.scalars(select(GuardHour).where(GuardHour.user_id == user_id, GuardHour.day == day)))
    return [_add([r for r in rows if r.hour == hour]) for hour in range(24)]


def week_totals(db: Session, user_id: int, today: dt.date, weeks: int) -> list[tuple[dt.date, Totals]]:
    """(Monday, totals) for the ``weeks`` ISO weeks up to and including today's."""
    monday = today - dt.timedelta(days=today.weekday())
    first = monday - dt.timedelta(weeks=weeks - 1)
    rows = list(db.scalars(select(GuardHour).where(GuardHour.user_id == user_id, GuardHour.day >= first)))
    out = []
    for k in range(weeks):
        start = first + dt.timedelta(weeks=k)
        end = start + dt.timedelta(days=7)
        out.append((start, _add([r for r in rows if start <= r.day < end])))
    return out


def change_sentence(label: str, this: Totals, last: Totals, habit: str) -> str | None:
    """ "You frowned 40 % less this week" — held time per watched hour, this week against last; None
    when either week has under an hour watched (too little to say anything)."""
    if this.measured_s < 3600 or last.measured_s < 3600:
        return None
    now, before = this.share(habit), last.share(habit)
    if now is None or before is None or before <= 0:
        return None
    change = (now - before) / before
    pct = round(abs(change) * 100)
    if pct < 5:
        return f"{label}: about the same as last week."
    direction = "less" if change < 0 else "more"
    return f"{label}: {pct} % {direction} this week than last (per hour watched)."
