"""Everything the rules and the planner need to know about one person, derived once and purely:
which muscles are over-used (by habit, by the scan, or by the library's ``use``), what the scan found,
and which injectables/surgery are still inside their safety window.

Sides are the person's own. Scan figures are LEFT minus RIGHT in millimetres.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from facecoach.knowledge.library import Library
from facecoach.planning.assessment import Answers, RegionWhen
from facecoach.planning.policy import Policy
from facecoach.planning.scan import ScanSummary

Side = Literal["left", "right"]
FindingKind = Literal["bulky_jaw", "higher_brow", "lower_mouth_corner"]


def other(side: str) -> str:
    return "right" if side == "left" else "left"


@dataclass(frozen=True)
class Overuse:
    """A muscle (side-less id) over-used on some of its sides, and why ("because …")."""

    muscle: str
    sides: frozenset[str]  # "left", "right" and/or "midline"
    source: str  # an overuse rule id, "scan_jaw", "scan_brow", "library" or "never_exercised"
    because: str


@dataclass(frozen=True)
class Finding:
    """An asymmetry the scan saw beyond its threshold and its noise: ``side`` is the higher/wider one
    (for ``lower_mouth_corner``, the lower one). ``mm`` is the absolute size."""

    kind: FindingKind
    side: Side
    mm: float


@dataclass(frozen=True)
class Context:
    answers: Answers
    scan: ScanSummary | None
    library: Library
    policy: Policy
    week: int
    rest_day: bool
    overuse: tuple[Overuse, ...]
    findings: tuple[Finding, ...]

    def muscle_sides(self, muscle: str) -> frozenset[str]:
        return frozenset(m.side for m in self.library.muscle_groups().get(muscle, []))

    def overused_sides(self, muscle: str) -> frozenset[str]:
        out: set[str] = set()
        for o in self.overuse:
            if o.muscle == muscle:
                out |= o.sides
        return frozenset(out)

    def overuse_of(self, muscle: str, side: str) -> Overuse | None:
        return next((o for o in self.overuse if o.muscle == muscle and side in o.sides), None)

    def finding(self, kind: FindingKind) -> Finding | None:
        return next((f for f in self.findings if f.kind == kind), None)

    def active_injectables(self) -> list[RegionWhen]:
        w = self.policy.windows.injectables_weeks
        return [i for i in self.answers.conditions.injectables if i.weeks_ago < w]

    def active_surgery(self) -> list[RegionWhen]:
        w = self.policy.windows.surgery_weeks
        return [s for s in self.answers.conditions.surgery if s.weeks_ago < w and not s.cleared]


def scan_findings(scan: ScanSummary | None, policy: Policy) -> tuple[Finding, ...]:
    """Asymmetries large enough to act on: above the policy threshold and ``noise_factor`` × the noise."""
    if scan is None:
        return ()
    th = policy.scan
    out: list[Finding] = []
    checks: tuple[tuple[FindingKind, str, float, bool], ...] = (
        ("bulky_jaw", "lower_face_width_mm", th.lower_face_width_mm, False),
        ("higher_brow", "brow_height_mm", th.brow_height_mm, False),
        ("lower_mouth_corner", "mouth_corner_mm", th.mouth_corner_mm, True),
    )
    for kind, field, threshold, lower in checks:
        value = getattr(scan.asymmetry, field)
        if value is None:
            continue
        limit = max(threshold, th.noise_factor * scan.noise(field))
        if abs(value) <= limit:
            continue
        positive_side: Side = "right" if lower else "left"  # left minus right > 0: left is higher/wider
        side: Side = positive_side if value > 0 else ("left" if positive_side == "right" else "right")
        out.append(Finding(kind=kind, side=side, mm=round(abs(value), 1)))
    return tuple(out)


def _habit_side(answers: Answers, when: str) -> str | None:
    h = answers.habits
    if when == "chewing_side":
        return h.chewing_side if h.chewing_side in ("left", "right") else None
    if when == "one_sided_expression":
        return h.one_sided_expression if h.one_sided_expression in ("left", "right") else None
    return None


def _habit_present(answers: Answers, when: str, policy: Policy) -> bool:
    h = answers.habits
    if when == "stress_high":
        return h.stress >= policy.stress_threshold
    if when in ("chewing_side", "one_sided_expression"):
        return _habit_side(answers, when) is not None
    return bool(getattr(h, when))


def derive_overuse(
    answers: Answers, findings: tuple[Finding, ...], library: Library, policy: Policy
) -> tuple[Overuse, ...]:
    """Habits first (they are the person's own story), then the scan, then the library's typical use."""
    groups = library.muscle_groups()
    out: list[Overuse] = []

    def sides_of(muscle: str) -> frozenset[str]:
        return frozenset(m.side for m in groups.get(muscle, []))

    for rule in policy.overuse:
        if not _habit_present(answers, rule.when, policy):
            continue
        side = _habit_side(answers, rule.when)
        because = rule.because.format(side=side or "")
        for muscle in rule.muscles:
            all_sides = sides_of(muscle)
            sides = all_sides if rule.sides == "both" or side is None else all_sides & {side, "midline"}
            if sides:
                out.append(Overuse(muscle, sides, rule.id, because))
    texts = policy.text.reasons
    for f in findings:
        if f.kind == "bulky_jaw":
            because = texts["because_bulky_jaw"].format(side=f.side)
            out.append(Overuse(policy.scan.bulky_jaw_muscle, frozenset({f.side}), "scan_jaw", because))
        elif f.kind == "higher_brow":
            because = texts["because_higher_brow"].format(side=f.side)
            out.append(Overuse(policy.scan.higher_brow_muscle, frozenset({f.side}), "scan_brow", because))
    for muscle in policy.never_exercised:
        out.append(Overuse(muscle, sides_of(muscle), "never_exercised", texts["because_never_exercised"]))
    for muscle, entries in groups.items():
        if entries and all(m.use == "overused" for m in entries):
            out.append(Overuse(muscle, sides_of(muscle), "library", texts["because_library"]))
    return tuple(out)


def make_context(
    answers: Answers,
    scan: ScanSummary | None,
    library: Library,
    policy: Policy,
    week: int = 1,
    rest_day: bool = False,
) -> Context:
    findings = scan_findings(scan, policy)
    return Context(
        answers=answers,
        scan=scan,
        library=library,
        policy=policy,
        week=week,
        rest_day=rest_day,
        overuse=derive_overuse(answers, findings, library, policy),
        findings=findings,
    )
