"""When a nudge may be shown: the member's settings against the clock (pure; the page runs its twin).

Kind by default: at most one nudge per ``interval_min`` minutes whatever the habit, the same habit at most
once per ``same_habit_factor`` × that, nothing while paused, during quiet hours or with the guard off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from facecoach.guard.rules import GuardRules

Refusal = Literal["off", "paused", "quiet_hours", "interval", "same_habit"]


@dataclass(frozen=True)
class GuardSettings:
    """The member's choices. Hours are local (0–23); quiet hours run from ``quiet_start_h`` up to, not
    including, ``quiet_end_h`` and may wrap midnight (22 → 7); None or equal hours: no quiet hours.
    ``paused_until_s``: epoch seconds, or None. ``save_counts``: the opt-in to keep hourly counts."""

    enabled: bool = True
    interval_min: int = 10
    quiet_start_h: int | None = None
    quiet_end_h: int | None = None
    paused_until_s: float | None = None
    sound: bool = False
    notify: bool = False
    save_counts: bool = False


def default_settings(rules: GuardRules) -> GuardSettings:
    return GuardSettings(interval_min=rules.nudges.interval_min_default)


def in_quiet_hours(settings: GuardSettings, local_hour: int) -> bool:
    start, end = settings.quiet_start_h, settings.quiet_end_h
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= local_hour < end
    return local_hour >= start or local_hour < end


def is_paused(settings: GuardSettings, t_s: float) -> bool:
    return settings.paused_until_s is not None and t_s < settings.paused_until_s


def refusal(
    settings: GuardSettings,
    rules: GuardRules,
    habit_id: str,
    t_s: float,
    local_hour: int,
    last_any_s: float | None,
    last_habit_s: float | None,
) -> Refusal | None:
    """Why a nudge for ``habit_id`` may not be shown at ``t_s`` (epoch seconds), or None when it may."""
    if not settings.enabled:
        return "off"
    if is_paused(settings, t_s):
        return "paused"
    if in_quiet_hours(settings, local_hour):
        return "quiet_hours"
    interval_s = settings.interval_min * 60.0
    if last_any_s is not None and t_s - last_any_s < interval_s:
        return "interval"
    if last_habit_s is not None and t_s - last_habit_s < interval_s * rules.nudges.same_habit_factor:
        return "same_habit"
    return None
