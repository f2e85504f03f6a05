"""The planner's safety rules, each a named, documented, pure object.

A rule may *exclude* a technique for this person (``excludes`` returns the plain reason, or ``None``),
and every rule can *check* a finished plan (``violations`` returns what is wrong, empty when the plan
obeys it). The planner builds routines from what the rules allow; the checks prove, independently, that
the result obeys every rule (the property tests run them over thousands of generated people).

Order matters only for reporting: a technique removed by several rules is listed under the first.
"""

from __future__ import annotations

from typing import ClassVar

from facecoach.knowledge.models import Technique
from facecoach.planning.context import Context
from facecoach.planning.plan import PHASES, Plan

SKIN_TOOLS = ("gua_sha", "jade_roller")
LIGHT_PRESSURES = ("none", "feather", "light")


def _weeks(n: int) -> str:
    return "under a week" if n == 0 else f"{n} week{'s' if n != 1 else ''}"


class Rule:
    """Base: a rule that never excludes; its check re-runs ``excludes`` on every planned item."""

    name: ClassVar[str] = "rule"

    def excludes(self, t: Technique, ctx: Context) -> str | None:
        return None

    def violations(self, plan: Plan, ctx: Context) -> list[str]:
        out = []
        for item in plan.items:
            why = self.excludes(ctx.library.technique(item.technique), ctx)
            if why:
                out.append(f"{item.technique}: {why}")
        return out


class NoHarmfulTools(Rule):
    """Harmful devices never appear: jaw-biting "jawline exercisers" and the like bulk and spasm the
    masseter, strain the jaw joint and can crack teeth. A technique whose id or tool is a harmful tool of
    the library is excluded (the library forbids it already; this rule does not trust that)."""

    name = "no_harmful_tools"

    @staticmethod
    def harmful(ctx: Context) -> tuple[set[str], set[str]]:
        tools = [t for t in ctx.library.tools.values() if t.category == "harmful"]
        ids = {t.id for t in tools}
        tool_names: set[str] = {t.technique_tool for t in tools if t.technique_tool}
        return ids, tool_names

    def excludes(self, t: Technique, ctx: Context) -> str | None:
        ids, names = self.harmful(ctx)
        if t.id in ids or t.tool in names:
            return "it uses a harmful device, which facecoach never recommends"
        return None


class FacialPalsyReferral(Rule):
    """Facial palsy is a clinician's job: untargeted exercise can worsen synkinesis. The plan carries a
    referral and no exercise; only gentle hand massage (light pressure or less, no tool) stays."""

    name = "facial_palsy_referral"

    def excludes(self, t: Technique, ctx: Context) -> str | None:
        if not ctx.answers.conditions.facial_palsy:
            return None
        if t.kind == "exercise":
            return "with facial palsy, exercise is planned by a clinician, not by facecoach"
        if t.pressure not in LIGHT_PRESSURES or t.tool in SKIN_TOOLS or "facial_palsy" in t.contraindications:
            return "with facial palsy, only gentle hand massage is safe without a clinician"
        return None

    def violations(self, plan: Plan, ctx: Context) -> list[str]:
        out = super().violations(plan, ctx)
        palsy = ctx.answers.conditions.facial_palsy
        if palsy and not plan.referral:
            out.append("facial palsy without a referral")
        if not palsy and plan.referral:
            out.append("a referral without facial palsy")
        return out


class TmjNoJawLoad(Rule):
    """Jaw pain or a TMJ disorder removes everything that loads the jaw: techniques marked ``loads_jaw``,
    those contraindicated for TMJ, and any jaw-opening exercise."""

    name = "tmj_no_jaw_load"

    def excludes(self, t: Technique, ctx: Context) -> str | None:
        if not ctx.answers.conditions.tmj:
            return None
        opens = t.exercise is not None and t.exercise.movement == "jaw_open"
        if t.loads_jaw or "tmj" in t.contraindications or opens:
            return "you have jaw pain or a TMJ disorder, and this loads the jaw"
        return None


class RecentInjectablesOrSurgery(Rule):
    """Recent injectables or surgery protect the treated region.

    Injectables (toxin or filler) less than ``windows.injectables_weeks`` (4) weeks ago: no pressure, no
    tool and no hand resistance over that region — toxin takes ~2 weeks to settle and can spread with
    pressure early, filler integrates over 2–4 weeks. Surgery less than ``windows.surgery_weeks`` (12)
    weeks ago and not cleared by the surgeon: nothing at all over that region, and no exercise the
    library contraindicates after surgery anywhere on the face (expressions pull on healing tissue) —
    swelling and scar remodelling take about three months. The windows and their reasons live in
    policy.yaml."""

    name = "recent_injectables_or_surgery"

    def excludes(self, t: Technique, ctx: Context) -> str | None:
        for s in ctx.active_surgery():
            if s.region in t.regions:
                return (
                    f"your {s.region} surgery was {_weeks(s.weeks_ago)} ago: nothing over that region for "
                    f"{ctx.policy.windows.surgery_weeks} weeks unless your surgeon clears it"
                )
            if t.kind == "exercise" and "surgery" in t.contraindications:
                return (
                    f"your {s.region} surgery was {_weeks(s.weeks_ago)} ago: facial exercise pulls on "
                    "healing tissue, so it waits until your surgeon clears it"
                )
        for i in ctx.active_injectables():
            if i.region not in t.regions:
                continue
            resistance = t.exercise is not None and bool(t.exercise.resistance)
            if t.pressure != "none" or t.tool in SKIN_TOOLS or resistance:
                return (
                    f"your {i.region} injectables were {_weeks(i.weeks_ago)} ago: no pressure or tools there "
                    f"for {ctx.policy.windows.injectables_weeks} weeks"
                )
        return None


class SkinNoFrictionOrToolsThere(Rule):
    """Inflamed or broken skin (active acne, rosacea flare, eczema, sunburn, broken skin) removes tools
    and friction over that region: dragging spreads bacteria and inflames it further."""

    name = "skin_no_friction_or_tools_there"

    def excludes(self, t: Technique, ctx: Context) -> str | None:
        for s in ctx.answers.conditions.skin:
            if s.region in t.regions and (
                t.friction or t.tool in SKIN_TOOLS or s.condition in t.contraindications
            ):
                cond = s.condition.replace("_", " ")
                return f"your {cond} on the {s.region} rules out tools and friction there"
        return None


class BloodThinnersLightPressure(Rule):
    """Blood thinners mean light pressure only: firmer pressure and gua sha (which raises petechiae by
    design) bruise easily on anticoagulants."""

    name = "blood_thinners_light_pressure"

    def excludes(self, t: Technique, ctx: Context) -> str | None:
        if not ctx.answers.conditions.blood_thinners:
            return None
        if (
            t.pressure not in LIGHT_PRESSURES
            or t.tool == "gua_sha"
            or "blood_thinners" in t.contraindications
        ):
            return (
                "you take blood thinners, so only light pressure is safe (this is firmer or uses a gua sha)"
            )
        return None


class OverusedNeverExercised(Rule):
    """An over-used muscle is released and never exercised. Over-use comes from habits (clenching →
    masseter, temporalis; frowning or stress → corrugator, procerus, frontalis; chewing side → that
    masseter; a one-sided expression → that side), from the scan (the bulkier jaw side, the higher brow
    side) and from the library (muscles whose typical ``use`` is over-used; the masseter always).

    When only one side is over-used, an exercise that can be done one side at a time is kept for the
    other side (see :meth:`allowed_sides`); otherwise it is excluded."""

    name = "overused_never_exercised"

    @staticmethod
    def one_sided_ok(t: Technique, ctx: Context) -> bool:
        e = t.exercise
        return e is not None and (e.sides == "each" or e.movement in ctx.policy.session.one_sided_movements)

    def allowed_sides(self, t: Technique, ctx: Context) -> list[str]:
        """The person's sides this exercise may work: both, one, or none."""
        free = {"left", "right"}
        for m in t.targets:
            used = ctx.overused_sides(m)
            if "midline" in used:
                return []
            free -= used
        if free == {"left", "right"}:
            return ["left", "right"]
        if free and self.one_sided_ok(t, ctx):
            return sorted(free)
        return []

    def excludes(self, t: Technique, ctx: Context) -> str | None:
        if t.kind != "exercise" or self.allowed_sides(t, ctx):
            return None
        for m in t.targets:
            for side in ("midline", "left", "right"):
                o = ctx.overuse_of(m, side)
                if o is not None:
                    return f"it works your {m.replace('-', ' ')}, which is over-used because {o.because}"
        return "it works an over-used muscle"

    def violations(self, plan: Plan, ctx: Context) -> list[str]:
        out = []
        for item in plan.items:
            if item.kind != "exercise":
                continue
            for m in item.targets:
                if m in ctx.policy.never_exercised:
                    out.append(f"{item.technique}: exercises the {m}, which is never exercised")
                bad = ctx.overused_sides(m) & (set(item.sides) | {"midline"})
                if bad:
                    out.append(f"{item.technique}: exercises over-used {m} on {sorted(bad)}")
        return out


class OnlyOwnedTools(Rule):
    """Only tools the person owns: a gua sha or jade roller technique needs that tool at hand."""

    name = "only_owned_tools"

    def excludes(self, t: Technique, ctx: Context) -> str | None:
        if t.tool in SKIN_TOOLS and t.tool not in ctx.answers.tools:
            return f"you do not have a {t.tool.replace('_', ' ')}"
        return None


class RestDay(Rule):
    """A rest day keeps massage only: muscles strengthen while they recover."""

    name = "rest_day"

    def excludes(self, t: Technique, ctx: Context) -> str | None:
        if ctx.rest_day and t.kind == "exercise":
            return "today is a rest day: no exercise"
        return None


class ProgressionUnlock(Rule):
    """New exercises unlock week by week (``exercise.unlock_week``): the basics come first."""

    name = "progression"

    def excludes(self, t: Technique, ctx: Context) -> str | None:
        if t.exercise is not None and t.exercise.unlock_week > ctx.week:
            return f"it unlocks in week {t.exercise.unlock_week}"
        return None


class ReleaseAfterExercise(Rule):
    """Every exercised muscle is released afterwards in the same session: a release massage that covers
    its muscles, on its sides, comes later in the routine. A muscle is never left tense."""

    name = "release_after_exercise"

    def violations(self, plan: Plan, ctx: Context) -> list[str]:
        out = []
        for i, item in enumerate(plan.items):
            if item.kind != "exercise":
                continue
            released: set[str] = set()
            for later in plan.items[i + 1 :]:
                t = ctx.library.technique(later.technique)
                if later.phase == "release" and t.massage is not None and set(item.sides) <= set(later.sides):
                    released |= set(t.massage.releases)
            missing = set(item.targets) - released
            if missing:
                out.append(f"{item.technique}: {sorted(missing)} not released afterwards")
        return out


class FitsTimeBudget(Rule):
    """The whole routine fits the minutes per day the person has."""

    name = "fits_time_budget"

    def violations(self, plan: Plan, ctx: Context) -> list[str]:
        budget = ctx.answers.minutes_per_day * 60
        if plan.total_s > budget + 1e-6:
            return [f"{plan.total_s:.0f} s is over the budget of {budget} s"]
        return []


class PhasesInOrder(Rule):
    """The method's order: warm-up, exercise, release, drainage; exercises only in the exercise phase,
    massages everywhere else, draining massages only in the drainage phase."""

    name = "phases_in_order"

    def violations(self, plan: Plan, ctx: Context) -> list[str]:
        out = []
        ranks = [PHASES.index(i.phase) for i in plan.items]
        if ranks != sorted(ranks):
            out.append("phases out of order")
        for item in plan.items:
            t = ctx.library.technique(item.technique)
            if (item.phase == "exercise") != (t.kind == "exercise"):
                out.append(f"{item.technique}: a {t.kind} in the {item.phase} phase")
            drains = t.massage is not None and t.massage.drains
            if (item.phase == "drainage") != drains:
                out.append(f"{item.technique}: drains={drains} in the {item.phase} phase")
        return out


#: Rules that remove techniques, in the order exclusions are reported.
EXCLUSION_RULES: tuple[Rule, ...] = (
    NoHarmfulTools(),
    FacialPalsyReferral(),
    TmjNoJawLoad(),
    RecentInjectablesOrSurgery(),
    SkinNoFrictionOrToolsThere(),
    BloodThinnersLightPressure(),
    OverusedNeverExercised(),
    OnlyOwnedTools(),
    RestDay(),
    ProgressionUnlock(),
)
#: Every rule a finished plan must obey.
ALL_RULES: tuple[Rule, ...] = (*EXCLUSION_RULES, ReleaseAfterExercise(), FitsTimeBudget(), PhasesInOrder())
RULES_BY_NAME: dict[str, Rule] = {r.name: r for r in ALL_RULES}


def check_plan(plan: Plan, ctx: Context) -> list[str]:
    """Every violation of every rule, as ``rule: problem`` lines (empty for a safe plan)."""
    return [f"{r.name}: {v}" for r in ALL_RULES for v in r.violations(plan, ctx)]
