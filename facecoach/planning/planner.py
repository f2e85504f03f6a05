"""Build a person's routine: release/warm-up → exercise → release the worked muscles → drain.

The planner only ever picks from what the safety rules allow (``rules.EXCLUSION_RULES``), keeps each
exercise together with the massage that releases it, and fills the daily time budget by priority:
first the releases the person's habits and scan call for, then the lymphatic finish, then exercise
blocks (goal first, then balance), then general releases. Everything is deterministic: the same answers,
scan and week always give the same plan. Durations in seconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from facecoach.knowledge.library import Library, load_library
from facecoach.knowledge.models import Defaults, Technique
from facecoach.planning.assessment import Answers, Goal
from facecoach.planning.context import Context, FindingKind, make_context, other
from facecoach.planning.plan import PHASES, Day, Excluded, Phase, Plan, PlanItem
from facecoach.planning.policy import Policy, check_against_library, default_policy
from facecoach.planning.rules import EXCLUSION_RULES, NoHarmfulTools, OverusedNeverExercised
from facecoach.planning.scan import ScanSummary, parse_scan

BOTH = ["left", "right"]


@dataclass
class _Block:
    """Items that go in together or not at all (an exercise with its release), and what to report
    under ``fits_time_budget`` when they do not fit."""

    items: list[PlanItem]
    label: str
    report: bool = True  # list it under fits_time_budget when it does not fit


@dataclass
class _Routine:
    """The day's items so far, what was left out and why, and the time budget they must fit in."""

    minutes_per_day: int
    items: list[PlanItem] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)

    @property
    def budget_s(self) -> float:
        return self.minutes_per_day * 60.0

    @property
    def total_s(self) -> float:
        return sum(i.duration_s for i in self.items)

    def has(self, technique: str, phase: Phase, sides: Sequence[str] | None = None) -> bool:
        return any(
            i.technique == technique and i.phase == phase and (sides is None or list(i.sides) == list(sides))
            for i in self.items
        )

    def phase(self, phase: Phase) -> list[PlanItem]:
        return [i for i in self.items if i.phase == phase]

    def listed(self) -> set[str]:
        """Every technique already in the routine or already excluded (each is reported once)."""
        return {e.technique for e in self.excluded} | {i.technique for i in self.items}

    def add(self, block: _Block) -> bool:
        """Add the block's new items if they all fit in the budget (an exercise may repeat, for one side's
        emphasis); otherwise add none, report it under ``fits_time_budget`` and return False."""
        new = [i for i in block.items if not self.has(i.technique, i.phase, i.sides) or i.phase == "exercise"]
        if not new:
            return True
        if self.total_s + sum(i.duration_s for i in new) > self.budget_s + 1e-9:
            if block.report and block.label not in self.listed():
                self.excluded.append(
                    Excluded(
                        technique=block.label,
                        rule="fits_time_budget",
                        reason=f"It does not fit in your {self.minutes_per_day} minutes a day.",
                    )
                )
            return False
        self.items.extend(new)
        return True


@dataclass(frozen=True)
class ForHabit:
    """A warm-up release a habit or the scan calls for; ``because`` completes "Because …"."""

    because: str


@dataclass(frozen=True)
class ForGoal:
    """A warm-up release one of the person's goals calls for."""

    goal: Goal


@dataclass(frozen=True)
class Common:
    """A release of a muscle most faces over-use (added only if there is time left)."""


Cause = ForHabit | ForGoal | Common


@dataclass(frozen=True)
class Wanted:
    """A muscle (side-less id) to release in the warm-up, and the cause the release serves."""

    muscle: str
    cause: Cause


# --- words ---------------------------------------------------------------------------------------------


def _muscle_words(muscles: list[str], library: Library) -> tuple[str, str, str]:
    """("masseter and temporalis", "are", "they") from side-less ids, in plain lower-case names."""
    groups = library.muscle_groups()
    names = []
    for m in dict.fromkeys(muscles):
        entries = groups.get(m)
        name = entries[0].name if entries else m.replace("-", " ")
        name = name.split(" (")[0]
        for suffix in (", left", ", right", " left", " right"):
            name = name.removesuffix(suffix)
        names.append(name[:1].lower() + name[1:])
    if len(names) <= 1:
        return (names[0] if names else "muscles"), "is", "it"
    return ", ".join(names[:-1]) + " and " + names[-1], "are", "they"


# --- progression ---------------------------------------------------------------------------------------


def progressed(defaults: Defaults, week: int, policy: Policy) -> tuple[int | None, float | None, float]:
    """(reps, hold_s, duration_s) for ``week``: one more rep and 15 % longer holds a week, up to twice the
    start (policy.progression); the duration grows with the work."""
    p = policy.progression
    w = max(0, week - 1)
    reps = defaults.reps
    hold = defaults.hold_s
    factor = 1.0
    if reps is not None:
        new_reps = min(reps + p.reps_per_week * w, math.floor(reps * p.max_factor))
        factor *= new_reps / reps
        reps = new_reps
    if hold is not None:
        new_hold = round(
            min(hold * (1 + p.hold_growth_per_week * w), hold * p.max_factor, max(hold, p.max_hold_s))
        )
        new_hold = max(new_hold, 1)
        rest = defaults.rest_s or 0.0
        factor *= (new_hold + rest) / (hold + rest)
        hold = float(new_hold)
    return reps, hold, float(round(defaults.duration_s * factor))


def _max_exercises(week: int, policy: Policy) -> int:
    caps = policy.session.max_exercises_by_week
    return caps[min(week, len(caps)) - 1]


# --- items ---------------------------------------------------------------------------------------------


def _massage_item(t: Technique, phase: Phase, reason: str, sides: list[str] | None = None) -> PlanItem:
    return PlanItem(
        technique=t.id,
        kind=t.kind,
        phase=phase,
        targets=list(t.targets),
        sides=list(sides or BOTH),  # type: ignore[arg-type]
        reps=None,
        hold_s=None,
        duration_s=t.defaults.duration_s
        if not sides or len(sides) > 1
        else max(1.0, round(t.defaults.duration_s / 2)),
        reason=reason,
    )


def _releases_of(t: Technique) -> list[str]:
    return list(t.massage.releases) if t.massage is not None else []


def _releasers(muscle: str, allowed: dict[str, Technique]) -> list[Technique]:
    """Allowed non-draining massages that release ``muscle`` (library order)."""
    return [
        t
        for t in allowed.values()
        if t.massage is not None and not t.massage.drains and muscle in t.massage.releases
    ]


def _cover(muscles: list[str], allowed: dict[str, Technique], have: set[str]) -> list[Technique] | None:
    """A few allowed massages that release every muscle (greedy set cover), or None if one cannot be."""
    chosen: list[Technique] = []
    released: set[str] = set()
    for tid in have:
        spec = allowed[tid].massage if tid in allowed else None
        released |= set(spec.releases) if spec else set()
    need = [m for m in dict.fromkeys(muscles) if m not in released]
    while need:
        options = _releasers(need[0], allowed)
        if not options:
            return None
        best = max(
            options,
            key=lambda t: (
                len(set(t.massage.releases) & set(need)) if t.massage else 0,
                -t.defaults.duration_s,
            ),
        )
        chosen.append(best)
        need = [m for m in need if best.massage is None or m not in best.massage.releases]
    return chosen


# --- the planner ---------------------------------------------------------------------------------------


def build_plan(
    answers: Answers,
    scan: ScanSummary | dict[str, object] | None = None,
    week: int = 1,
    library: Library | None = None,
    *,
    rest_day: bool = False,
    policy: Policy | None = None,
) -> Plan:
    """The routine for one day of ``week`` (a rest day keeps massage only), filled by priority."""
    if week < 1:
        raise ValueError("week must be 1 or more")
    library = library or load_library()
    policy = policy or default_policy()
    check_against_library(policy, library.muscle_ids())
    summary = parse_scan(scan) if scan is not None else None
    ctx = make_context(answers, summary, library, policy, week=week, rest_day=rest_day)
    allowed, excluded = _allowed(ctx)
    routine = _Routine(answers.minutes_per_day, excluded=excluded)

    _warmup_releases(_wanted_releases(ctx), allowed, ctx, routine)  # 1. what habits and goals call for
    _scan_releases(ctx, allowed, routine)  # 2. what the scan saw
    _drainage(ctx, allowed, routine)  # 3. the lymphatic finish
    _exercise_blocks(ctx, allowed, routine)  # 4. exercise blocks
    _common_releases(ctx, allowed, routine)  # 5. muscles most faces over-use, if there is time left

    items = sorted(routine.items, key=lambda i: PHASES.index(i.phase))  # stable: keeps priority order
    items = _release_reasons(items, library, policy.text.reasons)
    total = sum(i.duration_s for i in items)
    return Plan(
        week=week,
        minutes=round(total / 60.0, 1),
        items=items,
        excluded=routine.excluded,
        habit_tips=habit_tips(ctx),
        referral=policy.text.referral if answers.conditions.facial_palsy else None,
    )


def _allowed(ctx: Context) -> tuple[dict[str, Technique], list[Excluded]]:
    """The techniques every safety rule allows (library order), and each other one with the first rule
    that excludes it."""
    allowed: dict[str, Technique] = {}
    excluded: list[Excluded] = []
    for t in ctx.library.techniques.values():
        refusal = _first_exclusion(t, ctx)
        if refusal is None:
            allowed[t.id] = t
        else:
            excluded.append(refusal)
    return allowed, excluded


def _first_exclusion(t: Technique, ctx: Context) -> Excluded | None:
    for rule in EXCLUSION_RULES:
        why = rule.excludes(t, ctx)
        if why:
            return Excluded(technique=t.id, rule=rule.name, reason=_sentence(why))
    return None


def _wanted_releases(ctx: Context) -> list[Wanted]:
    """Muscles the person's own habits over-use, then those their goals ask to release."""
    skip = ("library", "never_exercised", "scan_jaw", "scan_brow")
    wanted = [Wanted(o.muscle, ForHabit(o.because)) for o in ctx.overuse if o.source not in skip]
    for goal in ctx.answers.goals:
        wanted += [Wanted(m, ForGoal(goal)) for m in ctx.policy.goals[goal].release_muscles]
    return wanted


def _scan_releases(ctx: Context, allowed: dict[str, Technique], routine: _Routine) -> None:
    """An extra release on the bulkier jaw side and on the higher brow side."""
    texts = ctx.policy.text.reasons
    findings: tuple[tuple[FindingKind, str], ...] = (
        ("bulky_jaw", ctx.policy.scan.bulky_jaw_muscle),
        ("higher_brow", ctx.policy.scan.higher_brow_muscle),
    )
    for kind, muscle in findings:
        f = ctx.finding(kind)
        options = _releasers(muscle, allowed)
        if f is None or not options:
            continue
        reason = texts[kind].format(side=f.side, other=other(f.side), mm=f"{f.mm:.1f}")
        routine.add(_Block([_massage_item(options[0], "warmup", reason, [f.side])], options[0].id))


def _drainage(ctx: Context, allowed: dict[str, Technique], routine: _Routine) -> None:
    """The most complete lymphatic sweep allowed, capped at the policy's share of the day."""
    drains = [t for t in allowed.values() if t.massage is not None and t.massage.drains]
    drains.sort(key=lambda t: -len(t.regions))  # the most complete sweep first (stable: library order)
    if not drains:
        return
    answers, session, texts = ctx.answers, ctx.policy.session, ctx.policy.text.reasons
    depuff = "depuff" in answers.goals
    extra = ""
    if depuff:
        extra = texts["drainage_depuff"]
    elif answers.habits.sleeping_side in ("left", "right"):
        extra = texts["drainage_sleep"].format(side=answers.habits.sleeping_side)
    best = drains[0]
    direction = best.massage.direction if best.massage else "towards the ears and down the neck"
    reason = texts["drainage"].format(direction=direction, extra=extra)
    if ctx.rest_day:
        reason = reason.removesuffix(".") + texts["rest_day"] + "."
    item = _massage_item(best, "drainage", reason)
    ratio = session.drainage_max_share_depuff if depuff else session.drainage_max_share
    share = max(60.0, round(routine.budget_s * ratio))
    routine.add(_Block([item.model_copy(update={"duration_s": min(item.duration_s, share)})], best.id))


def _common_releases(ctx: Context, allowed: dict[str, Technique], routine: _Routine) -> None:
    """Releases of what most faces over-use that the warm-up does not release yet (a few at most)."""
    library = ctx.library
    warmed = {r for i in routine.phase("warmup") for r in _releases_of(library.technique(i.technique))}
    muscles = [o.muscle for o in ctx.overuse if o.source == "never_exercised"]
    muscles += [o.muscle for o in ctx.overuse if o.source == "library"]
    wanted = [Wanted(m, Common()) for m in muscles if m not in warmed]
    _warmup_releases(wanted, allowed, ctx, routine, limit=ctx.policy.session.max_common_releases)


def _release_reasons(items: list[PlanItem], library: Library, texts: dict[str, str]) -> list[PlanItem]:
    """Each release names every muscle the session exercised that it releases (several exercises may
    share one release)."""
    worked = [m for i in items if i.kind == "exercise" for m in i.targets]
    out = []
    for i in items:
        if i.phase == "release":
            released = set(_releases_of(library.technique(i.technique)))
            words, verb, pronoun = _muscle_words([m for m in worked if m in released], library)
            i = i.model_copy(
                update={
                    "reason": _sentence(texts["release"].format(muscles=words, verb=verb, pronoun=pronoun))
                }
            )
        out.append(i)
    return out


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).removesuffix(".") + "."


def _warmup_choices(
    wanted: list[Wanted], allowed: dict[str, Technique]
) -> list[tuple[Technique, list[str], Cause]]:
    """One massage per group of wanted muscles (the one releasing most of those still uncovered), the
    muscles it releases for the first cause it serves, and that cause."""
    covered: set[str] = set()
    chosen: list[tuple[Technique, list[str], Cause]] = []
    for want in wanted:
        if want.muscle in covered:
            continue
        options = _releasers(want.muscle, allowed)
        if not options:
            continue
        still = {w.muscle for w in wanted if w.muscle not in covered}
        best = max(options, key=lambda t: len(set(t.massage.releases) & still) if t.massage else 0)
        rel = set(best.massage.releases) if best.massage else set()
        muscles = [w.muscle for w in wanted if w.muscle in rel and w.cause == want.cause] or [want.muscle]
        covered |= {w.muscle for w in wanted if w.muscle in rel}
        chosen.append((best, muscles, want.cause))
    return chosen


def _warmup_reason(cause: Cause, muscles: list[str], ctx: Context) -> str:
    texts = ctx.policy.text.reasons
    words, verb, pronoun = _muscle_words(muscles, ctx.library)
    if isinstance(cause, ForGoal):
        label = ctx.policy.goals[cause.goal].label
        reason = texts["warmup_goal"].format(goal=label, muscles=words, verb=verb)
    elif isinstance(cause, Common):
        reason = texts["warmup_common"].format(muscles=words, verb=verb, pronoun=pronoun)
    else:
        reason = texts["warmup_overuse"].format(because=cause.because, muscles=words, verb=verb)
    return _sentence(reason)


def _warmup_releases(
    wanted: list[Wanted],
    allowed: dict[str, Technique],
    ctx: Context,
    routine: _Routine,
    limit: int | None = None,
) -> None:
    """One warm-up massage per group of wanted muscles; the reason names the first cause it serves."""
    for t, muscles, cause in _warmup_choices(wanted, allowed)[:limit]:
        item = _massage_item(t, "warmup", _warmup_reason(cause, muscles, ctx))
        routine.add(_Block([item], t.id, report=not isinstance(cause, Common)))


# --- exercise blocks -----------------------------------------------------------------------------------

#: An exercise and the goal label it serves (None: it trains only under-used muscles, for balance).
Ranked = tuple[Technique, str | None]


def _rank_once(ranked: list[Ranked], candidates: list[Technique], label: str | None) -> None:
    """Append the candidates not ranked yet, in order, with ``label``."""
    for t in candidates:
        if all(t.id != r.id for r, _ in ranked):
            ranked.append((t, label))


def _is_corner_lift(t: Technique, ctx: Context) -> bool:
    return t.exercise is not None and t.exercise.movement == ctx.policy.scan.lower_corner_movement


def _ranked_exercises(ctx: Context, exercises: list[Technique]) -> list[Ranked]:
    """Exercises by priority: the lift of a lower mouth corner, the quieter side of a one-sided face,
    each goal's regions, then any that trains only under-used muscles."""
    policy, goals = ctx.policy, ctx.answers.goals
    symmetry = policy.goals["symmetry"].label
    ranked: list[Ranked] = []
    if ctx.finding("lower_mouth_corner") is not None:
        _rank_once(ranked, [t for t in exercises if _is_corner_lift(t, ctx)][:1], symmetry)
    if "symmetry" in goals:  # train the quieter side of a one-sided face first
        rule = OverusedNeverExercised()
        _rank_once(ranked, [t for t in exercises if len(rule.allowed_sides(t, ctx)) == 1], symmetry)
    for region in dict.fromkeys(r for g in goals for r in policy.goals[g].exercise_regions):
        label = next(policy.goals[g].label for g in goals if region in policy.goals[g].exercise_regions)
        _rank_once(ranked, [t for t in exercises if t.region == region], label)
    groups = ctx.library.muscle_groups()
    under = [
        t for t in exercises if all(all(m.use == "underused" for m in groups.get(x, [])) for x in t.targets)
    ]
    _rank_once(ranked, under, None)
    return ranked


def _exercise_item(t: Technique, goal: str | None, sides: list[str], ctx: Context) -> PlanItem:
    """The exercise at this week's dose on ``sides`` (half the time when one-sided), with its reason."""
    texts = ctx.policy.text.reasons
    reps, hold, duration = progressed(t.defaults, ctx.week, ctx.policy)
    words, _, _ = _muscle_words(list(t.targets), ctx.library)
    note = ""
    if sides != BOTH:
        gone = other(sides[0])
        o = next((ctx.overuse_of(m, gone) for m in t.targets if ctx.overuse_of(m, gone)), None)
        note = texts["sides_note_overused"].format(side=sides[0], because=o.because if o else "")
        duration = max(1.0, round(duration / 2))
    if goal is None:
        reason = texts["exercise_balance"].format(muscles=words, sides_note=note)
    else:
        reason = texts["exercise_goal"].format(goal=goal, muscles=words, sides_note=note)
    return PlanItem(
        technique=t.id, kind="exercise", phase="exercise", targets=list(t.targets), sides=sides,  # type: ignore[arg-type]
        reps=reps, hold_s=hold, duration_s=duration, reason=_sentence(reason),
    )  # fmt: skip


def _emphasis_item(exercise: PlanItem, t: Technique, ctx: Context) -> PlanItem | None:
    """An extra one-sided set of the corner lift on the side of the lower mouth corner the scan saw."""
    lower = ctx.finding("lower_mouth_corner")
    if lower is None or not _is_corner_lift(t, ctx) or lower.side not in exercise.sides:
        return None
    if not OverusedNeverExercised().one_sided_ok(t, ctx):
        return None
    both = list(exercise.sides) == BOTH
    texts = ctx.policy.text.reasons
    emph = texts["exercise_emphasis"].format(side=lower.side, other=other(lower.side), mm=f"{lower.mm:.1f}")
    return exercise.model_copy(
        update={
            "sides": [lower.side],
            "duration_s": max(1.0, round(exercise.duration_s / 2)) if both else exercise.duration_s,
            "reason": _sentence(emph),
        }
    )


def _exercise_block(
    t: Technique, items: list[PlanItem], cover: list[Technique], allowed: dict[str, Technique], ctx: Context,
    routine: _Routine, report: bool,
) -> _Block:  # fmt: skip
    """A general warm-up if the routine has none yet, the exercise, then the releases of its muscles."""
    texts = ctx.policy.text.reasons
    block: list[PlanItem] = []
    warm = _general_warmup(t, allowed) if not routine.phase("warmup") else None
    if warm is not None:
        block.append(_massage_item(warm, "warmup", texts["warmup_general"]))
    block += items
    for r in cover:
        rw, rv, rp = _muscle_words(
            [m for m in t.targets if r.massage and m in r.massage.releases], ctx.library
        )
        block.append(
            _massage_item(r, "release", _sentence(texts["release"].format(muscles=rw, verb=rv, pronoun=rp)))
        )
    return _Block(block, t.id, report=report)


def _exercise_blocks(ctx: Context, allowed: dict[str, Technique], routine: _Routine) -> None:
    """The ranked exercises, each with the releases of its muscles, up to the week's cap. An exercise
    that no allowed massage can release is not trained."""
    exercises = [t for t in allowed.values() if t.kind == "exercise"]
    rule = OverusedNeverExercised()
    cap = _max_exercises(ctx.week, ctx.policy)
    done = 0
    for t, goal in _ranked_exercises(ctx, exercises):
        if done >= cap:
            break
        sides = rule.allowed_sides(t, ctx)
        if not sides:
            continue
        exercise = _exercise_item(t, goal, sides, ctx)
        emphasis = _emphasis_item(exercise, t, ctx)
        cover = _cover(list(t.targets), allowed, {i.technique for i in routine.phase("release")})
        if cover is None:
            reason = _sentence("no massage that releases its muscles is safe for you, so it is not trained")
            routine.excluded.append(Excluded(technique=t.id, rule="release_after_exercise", reason=reason))
            continue
        items = [exercise] if emphasis is None else [exercise, emphasis]
        if routine.add(_exercise_block(t, items, cover, allowed, ctx, routine, report=goal is not None)):
            done += 1


def _general_warmup(exercise: Technique, allowed: dict[str, Technique]) -> Technique | None:
    """A gentle non-draining massage before exercising: one that releases the exercise's muscles if any,
    else the shortest, lightest one."""
    massages = [t for t in allowed.values() if t.massage is not None and not t.massage.drains]
    if not massages:
        return None
    order = ("none", "feather", "light", "medium", "firm")
    return min(
        massages,
        key=lambda t: (
            not (t.massage is not None and set(exercise.targets) & set(t.massage.releases)),
            order.index(t.pressure),
            t.defaults.duration_s,
        ),
    )


def habit_tips(ctx: Context) -> list[str]:
    """Advice for the rest of the day, from habits, conditions and the scan (policy text)."""
    return [*_jaw_tips(ctx), *_face_habit_tips(ctx), *_condition_tips(ctx)]


def _jaw_tips(ctx: Context) -> list[str]:
    """The bulkier jaw side, chewing on one side, clenching, and the jaw tools that make it worse."""
    tips, h = ctx.policy.text.tips, ctx.answers.habits
    out: list[str] = []
    jaw = ctx.finding("bulky_jaw")
    if jaw is not None:
        out.append(tips["bulky_jaw"].format(side=jaw.side, other=other(jaw.side)))
    if h.chewing_side in ("left", "right") and (jaw is None or jaw.side != h.chewing_side):
        out.append(tips["chewing_side"].format(side=h.chewing_side))
    if h.clenching:
        out.append(tips["clenching"])
    if h.clenching or jaw is not None or "jaw_tension" in ctx.answers.goals:
        ids, _ = NoHarmfulTools.harmful(ctx)
        names = [ctx.library.tools[i].name for i in sorted(ids)]
        if names:
            out.append(tips["harmful_jaw"].format(names=", ".join(names)))
    return out


def _face_habit_tips(ctx: Context) -> list[str]:
    tips, h = ctx.policy.text.tips, ctx.answers.habits
    out: list[str] = []
    if h.frowning:
        out.append(tips["frowning"])
    if h.screen_squinting:
        out.append(tips["screen_squinting"])
    if h.one_sided_expression in ("left", "right"):
        out.append(tips["one_sided_expression"].format(side=h.one_sided_expression))
    if h.sleeping_side in ("left", "right"):
        out.append(tips["sleeping_side"].format(side=h.sleeping_side))
    if h.stress >= ctx.policy.stress_threshold:
        out.append(tips["stress"])
    return out


def _condition_tips(ctx: Context) -> list[str]:
    tips, c = ctx.policy.text.tips, ctx.answers.conditions
    out: list[str] = []
    if c.blood_thinners:
        out.append(tips["blood_thinners"])
    if c.tmj:
        out.append(tips["tmj"])
    return out


def rest_days(week: int, policy: Policy | None = None) -> list[int]:
    p = (policy or default_policy()).progression.rest_days_by_week
    return list(p[min(week, len(p)) - 1])


def week_schedule(
    answers: Answers,
    scan: ScanSummary | dict[str, object] | None = None,
    week: int = 1,
    library: Library | None = None,
    *,
    policy: Policy | None = None,
) -> list[Day]:
    """Seven days of ``week``: training days get the full plan, rest days massage only."""
    policy = policy or default_policy()
    rest = set(rest_days(week, policy))
    train = build_plan(answers, scan, week, library, policy=policy)
    easy = build_plan(answers, scan, week, library, rest_day=True, policy=policy)
    return [Day(day=d, rest=d in rest, plan=easy if d in rest else train) for d in range(1, 8)]
