"""Build a person's routine: release/warm-up → exercise → release the worked muscles → drain.

The planner only ever picks from what the safety rules allow (``rules.EXCLUSION_RULES``), keeps each
exercise together with the massage that releases it, and fills the daily time budget by priority:
first the releases the person's habits and scan call for, then the lymphatic finish, then exercise
blocks (goal first, then balance), then general releases. Everything is deterministic: the same answers,
scan and week always give the same plan. Durations in seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from facecoach.knowledge.library import Library, load_library
from facecoach.knowledge.models import Defaults, Technique
from facecoach.planning.assessment import Answers
from facecoach.planning.context import Context, make_context, other
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
class _State:
    items: list[PlanItem] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)

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
    """The routine for one day of ``week`` (a rest day keeps massage only)."""
    if week < 1:
        raise ValueError("week must be 1 or more")
    library = library or load_library()
    policy = policy or default_policy()
    check_against_library(policy, library.muscle_ids())
    summary = parse_scan(scan) if scan is not None else None
    ctx = make_context(answers, summary, library, policy, week=week, rest_day=rest_day)
    texts = policy.text.reasons
    state = _State()

    allowed: dict[str, Technique] = {}
    for t in library.techniques.values():
        for rule in EXCLUSION_RULES:
            why = rule.excludes(t, ctx)
            if why:
                state.excluded.append(Excluded(technique=t.id, rule=rule.name, reason=_sentence(why)))
                break
        else:
            allowed[t.id] = t

    budget = answers.minutes_per_day * 60.0

    def add(block: _Block) -> bool:
        new = [
            i for i in block.items if not state.has(i.technique, i.phase, i.sides) or i.phase == "exercise"
        ]
        cost = sum(i.duration_s for i in new)
        if not new:
            return True
        if state.total_s + cost > budget + 1e-9:
            listed = {e.technique for e in state.excluded} | {i.technique for i in state.items}
            if block.report and block.label not in listed:
                state.excluded.append(
                    Excluded(
                        technique=block.label,
                        rule="fits_time_budget",
                        reason=f"It does not fit in your {answers.minutes_per_day} minutes a day.",
                    )
                )
            return False
        state.items.extend(new)
        return True

    # 1. releases the person's habits and goals call for (warm-up)
    wanted: list[tuple[str, str]] = []  # (muscle, reason)
    for o in ctx.overuse:
        if o.source in ("library", "never_exercised", "scan_jaw", "scan_brow"):
            continue
        wanted.append((o.muscle, o.because))
    for goal in answers.goals:
        for m in policy.goals[goal].release_muscles:
            wanted.append((m, f"goal:{goal}"))
    _warmup_releases(wanted, allowed, ctx, add, library)

    # 2. what the scan saw: extra release on the bulkier jaw side and the higher brow side
    for kind, muscle, template in (
        ("bulky_jaw", policy.scan.bulky_jaw_muscle, "bulky_jaw"),
        ("higher_brow", policy.scan.higher_brow_muscle, "higher_brow"),
    ):
        f = ctx.finding(kind)  # type: ignore[arg-type]
        if f is None:
            continue
        options = _releasers(muscle, allowed)
        if options:
            reason = texts[template].format(side=f.side, other=other(f.side), mm=f"{f.mm:.1f}")
            add(_Block([_massage_item(options[0], "warmup", reason, [f.side])], options[0].id))

    # 3. the lymphatic finish
    drains = [t for t in allowed.values() if t.massage is not None and t.massage.drains]
    drains.sort(key=lambda t: -len(t.regions))  # the most complete sweep first (stable: library order)
    if drains:
        extra = ""
        if "depuff" in answers.goals:
            extra = texts["drainage_depuff"]
        elif answers.habits.sleeping_side in ("left", "right"):
            extra = texts["drainage_sleep"].format(side=answers.habits.sleeping_side)
        direction = drains[0].massage.direction if drains[0].massage else "towards the ears and down the neck"
        reason = texts["drainage"].format(direction=direction, extra=extra)
        if rest_day:
            reason = reason.removesuffix(".") + texts["rest_day"] + "."
        item = _massage_item(drains[0], "drainage", reason)
        depuff = "depuff" in answers.goals
        ratio = policy.session.drainage_max_share_depuff if depuff else policy.session.drainage_max_share
        share = max(60.0, round(budget * ratio))
        item = item.model_copy(update={"duration_s": min(item.duration_s, share)})
        add(_Block([item], drains[0].id))

    # 4. exercise blocks
    _exercise_blocks(ctx, allowed, state, add)

    # 5. muscles most faces over-use, released if there is time left
    warmed = {r for i in state.phase("warmup") for r in _releases_of(library.technique(i.technique))}
    common = [(o.muscle, "common") for o in ctx.overuse if o.source == "never_exercised"]
    common += [(o.muscle, "common") for o in ctx.overuse if o.source == "library"]
    common = [(m, w) for m, w in common if m not in warmed]
    _warmup_releases(common, allowed, ctx, add, library, limit=policy.session.max_common_releases)

    items = sorted(state.items, key=lambda i: PHASES.index(i.phase))  # stable: keeps priority order
    items = _release_reasons(items, library, texts)
    total = sum(i.duration_s for i in items)
    return Plan(
        week=week,
        minutes=round(total / 60.0, 1),
        items=items,
        excluded=state.excluded,
        habit_tips=habit_tips(ctx),
        referral=policy.text.referral if answers.conditions.facial_palsy else None,
    )


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


def _warmup_releases(
    wanted: list[tuple[str, str]],
    allowed: dict[str, Technique],
    ctx: Context,
    add: Callable[[_Block], bool],
    library: Library,
    limit: int | None = None,
) -> None:
    """One warm-up massage per group of wanted muscles; the reason names the first cause it serves."""
    texts = ctx.policy.text.reasons
    covered: set[str] = set()
    chosen: list[tuple[Technique, list[str], str]] = []
    for muscle, why in wanted:
        if muscle in covered:
            continue
        options = _releasers(muscle, allowed)
        if not options:
            continue
        still = [m for m, _ in wanted if m not in covered]
        best = max(options, key=lambda t: len(set(t.massage.releases) & set(still)) if t.massage else 0)
        rel = set(best.massage.releases) if best.massage else set()
        muscles = [m for m, w in wanted if m in rel and w == why] or [muscle]
        covered |= {m for m, _ in wanted if m in rel}
        chosen.append((best, muscles, why))
    for t, muscles, why in chosen[:limit]:
        words, verb, pronoun = _muscle_words(muscles, library)
        if why.startswith("goal:"):
            goal = ctx.policy.goals[why.removeprefix("goal:")].label  # type: ignore[index]
            reason = texts["warmup_goal"].format(goal=goal, muscles=words, verb=verb)
        elif why == "common":
            reason = texts["warmup_common"].format(muscles=words, verb=verb, pronoun=pronoun)
        else:
            reason = texts["warmup_overuse"].format(because=why, muscles=words, verb=verb)
        add(_Block([_massage_item(t, "warmup", _sentence(reason))], t.id, report=why != "common"))


def _exercise_blocks(
    ctx: Context, allowed: dict[str, Technique], state: _State, add: Callable[[_Block], bool]
) -> None:
    policy, library, answers = ctx.policy, ctx.library, ctx.answers
    texts = policy.text.reasons
    rule = OverusedNeverExercised()
    exercises = [t for t in allowed.values() if t.kind == "exercise"]
    if not exercises:
        return
    groups = library.muscle_groups()
    goal_regions = [r for g in answers.goals for r in policy.goals[g].exercise_regions]
    lower = ctx.finding("lower_mouth_corner")

    ranked: list[tuple[Technique, str | None]] = []  # (exercise, goal label or None for balance)
    if lower is not None:
        for t in exercises:
            if t.exercise is not None and t.exercise.movement == policy.scan.lower_corner_movement:
                ranked.append((t, policy.goals["symmetry"].label))
                break
    if "symmetry" in answers.goals:  # train the quieter side of a one-sided face first
        for t in exercises:
            if len(rule.allowed_sides(t, ctx)) == 1 and all(t.id != r.id for r, _ in ranked):
                ranked.append((t, policy.goals["symmetry"].label))
    for region in dict.fromkeys(goal_regions):
        label = next(
            policy.goals[g].label for g in answers.goals if region in policy.goals[g].exercise_regions
        )
        for t in exercises:
            if t.region == region and all(t.id != r.id for r, _ in ranked):
                ranked.append((t, label))
    for t in exercises:
        under = all(all(m.use == "underused" for m in groups.get(x, [])) for x in t.targets)
        if under and all(t.id != r.id for r, _ in ranked):
            ranked.append((t, None))

    cap = _max_exercises(ctx.week, policy)
    done = 0
    for t, goal in ranked:
        if done >= cap:
            break
        sides = rule.allowed_sides(t, ctx)
        if not sides:
            continue
        reps, hold, duration = progressed(t.defaults, ctx.week, policy)
        words, _, _ = _muscle_words(list(t.targets), library)
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
        items = [
            PlanItem(
                technique=t.id, kind="exercise", phase="exercise", targets=list(t.targets), sides=sides,  # type: ignore[arg-type]
                reps=reps, hold_s=hold, duration_s=duration, reason=_sentence(reason),
            )
        ]  # fmt: skip
        if (
            lower is not None
            and t.exercise is not None
            and t.exercise.movement == policy.scan.lower_corner_movement
            and lower.side in sides
            and rule.one_sided_ok(t, ctx)
        ):
            one_side = duration if sides != BOTH else max(1.0, round(duration / 2))
            emph = texts["exercise_emphasis"].format(
                side=lower.side, other=other(lower.side), mm=f"{lower.mm:.1f}"
            )
            items.append(
                PlanItem(
                    technique=t.id, kind="exercise", phase="exercise", targets=list(t.targets),
                    sides=[lower.side], reps=reps, hold_s=hold,  # type: ignore[list-item]
                    duration_s=one_side, reason=_sentence(emph),
                )
            )  # fmt: skip
        have = {i.technique for i in state.phase("release")}
        cover = _cover(list(t.targets), allowed, have)
        if cover is None:
            state.excluded.append(
                Excluded(
                    technique=t.id,
                    rule="release_after_exercise",
                    reason=_sentence(
                        "no massage that releases its muscles is safe for you, so it is not trained"
                    ),
                )
            )
            continue
        block_items: list[PlanItem] = []
        if not state.phase("warmup"):
            warm = _general_warmup(t, allowed)
            if warm is not None:
                block_items.append(_massage_item(warm, "warmup", texts["warmup_general"]))
        block_items += items
        for r in cover:
            rw, rv, rp = _muscle_words(
                [m for m in t.targets if r.massage and m in r.massage.releases], library
            )
            block_items.append(
                _massage_item(
                    r, "release", _sentence(texts["release"].format(muscles=rw, verb=rv, pronoun=rp))
                )
            )
        if add(_Block(block_items, t.id, report=goal is not None)):
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
    tips = ctx.policy.text.tips
    a, h = ctx.answers, ctx.answers.habits
    out: list[str] = []
    jaw = ctx.finding("bulky_jaw")
    if jaw is not None:
        out.append(tips["bulky_jaw"].format(side=jaw.side, other=other(jaw.side)))
    if h.chewing_side in ("left", "right") and (jaw is None or jaw.side != h.chewing_side):
        out.append(tips["chewing_side"].format(side=h.chewing_side))
    if h.clenching:
        out.append(tips["clenching"])
    if h.clenching or jaw is not None or "jaw_tension" in a.goals:
        ids, _ = NoHarmfulTools.harmful(ctx)
        names = [ctx.library.tools[i].name for i in sorted(ids)]
        if names:
            out.append(tips["harmful_jaw"].format(names=", ".join(names)))
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
    if a.conditions.blood_thinners:
        out.append(tips["blood_thinners"])
    if a.conditions.tmj:
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
