"""Load the knowledge base from its YAML files, validate it as a whole, and answer questions over it.

Validation happens once, at load: the pydantic shape of every entry, then every cross-reference
(technique targets, massage releases, claim relations, tool mappings) and the safety rules the rest of
facecoach relies on (an exercise never targets an over-used muscle, every exercised muscle has a massage
that releases it, a harmful device is never a technique's tool, risky techniques carry their
contraindications). A broken file fails with a :class:`KnowledgeError` naming the file, entry and field,
so the author can fix it without reading Python.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar, get_args

import yaml
from pydantic import BaseModel, ValidationError

from facecoach.knowledge.models import (
    REGIONS,
    Claim,
    Contraindication,
    MassageSpec,
    Muscle,
    Stroke,
    Technique,
    TechniqueKind,
    Tool,
    ToolName,
)
from facecoach.yamlfile import read_yaml

DATA_DIR = Path(__file__).resolve().parent / "data"
FILES = ("muscles.yaml", "tools.yaml", "techniques.yaml", "claims.yaml")

# Stroke coordinates (see models.Stroke): x across the face 0…1, y from the hairline (0) to the chin (1)
# and on down the neck to the collarbones (1.6).
STROKE_X = (0.0, 1.0)
STROKE_Y = (0.0, 1.6)
_MIDLINE_TOLERANCE = 0.02
# The pre-auricular lymph nodes in stroke coordinates (person's right, left); below y = 1 is the neck.
EAR_NODES = ((0.03, 0.47), (0.97, 0.47))

# Safety rules: which contraindications a technique must list, by what it does to the face.
_SKIN_CONDITIONS: tuple[Contraindication, ...] = (
    "broken_skin",
    "active_acne",
    "rosacea",
    "eczema",
    "sunburn",
)
_TOOLS_ON_SKIN: tuple[ToolName, ...] = ("gua_sha", "jade_roller")
_EXERCISE_TOOLS: tuple[ToolName, ...] = ("hands", "none")

E = TypeVar("E", bound=BaseModel)


class KnowledgeError(ValueError):
    """A knowledge file or entry is invalid. ``file``, ``entry`` and ``field`` say where."""

    def __init__(
        self, problem: str, *, file: str | None = None, entry: str | None = None, field: str | None = None
    ) -> None:
        self.problem = problem
        self.file = file
        self.entry = entry
        self.field = field
        shown = entry if entry is None or len(entry) <= 80 else entry[:80] + "…"  # an oversized id
        where = [part for part in (file, f"entry '{shown}'" if shown else None) if part]
        if field:
            where.append(f"field '{field}'")
        super().__init__(f"{', '.join(where)}: {problem}" if where else problem)


def _side_less(muscle_id: str) -> str:
    for suffix in ("-left", "-right", "-midline"):
        if muscle_id.endswith(suffix):
            return muscle_id[: -len(suffix)]
    return muscle_id


@dataclass(frozen=True, eq=False)
class Library:
    """The whole knowledge base, validated. Treat it as read-only: use ``with_*`` to derive a changed copy.

    Dicts keep file order, so listings come out in the order the author wrote them. Equality and hashing
    are by identity, so a library can key a cache.
    """

    muscles: dict[str, Muscle]  # by sided id, e.g. "masseter-left" ("procerus" for a midline muscle)
    techniques: dict[str, Technique]
    tools: dict[str, Tool]
    claims: dict[str, Claim]
    data_dir: Path | None = field(default=None, compare=False)

    # -- anatomy -------------------------------------------------------------------------------------
    def muscle_groups(self) -> dict[str, list[Muscle]]:
        """Side-less muscle id (``"masseter"``) → its entries (right, left or the one midline entry)."""
        groups: dict[str, list[Muscle]] = {}
        for m in self.muscles.values():
            groups.setdefault(m.muscle, []).append(m)
        return groups

    def muscle_ids(self) -> set[str]:
        """Every side-less muscle id."""
        return {m.muscle for m in self.muscles.values()}

    def resolve_muscle(self, muscle_id: str) -> str:
        """Side-less id for a side-less or sided muscle id; ``KeyError`` with suggestions if unknown."""
        key = muscle_id.strip().lower()
        if key in self.muscles:
            return self.muscles[key].muscle
        if key in self.muscle_ids():
            return key
        raise KeyError(_unknown("muscle", muscle_id, [*self.muscle_ids(), *self.muscles]))

    # -- techniques ----------------------------------------------------------------------------------
    def technique(self, technique_id: str) -> Technique:
        try:
            return self.techniques[technique_id]
        except KeyError:
            raise KeyError(_unknown("technique", technique_id, self.techniques)) from None

    def techniques_for(
        self,
        kind: TechniqueKind | str | None = None,
        muscle: str | None = None,
        region: str | None = None,
        tool: str | None = None,
    ) -> list[Technique]:
        """Techniques matching every filter given, in library order.

        ``muscle`` is a side-less or sided id; ``region`` matches any region the technique touches;
        ``tool`` is a technique tool (``gua_sha``) or a tool id (``gua-sha``). Unknown filter values raise
        ``KeyError`` with the allowed values, so a typo never silently returns nothing.
        """
        if kind is not None and kind not in get_args(TechniqueKind):
            raise KeyError(f"unknown kind '{kind}' (use one of: {', '.join(get_args(TechniqueKind))})")
        target = self.resolve_muscle(muscle) if muscle is not None else None
        if region is not None and region not in REGIONS:
            raise KeyError(_unknown("region", region, REGIONS))
        tool_name = self._resolve_tool(tool) if tool is not None else None
        return [
            t
            for t in self.techniques.values()
            if (kind is None or t.kind == kind)
            and (
                target is None
                or target in t.targets
                or (t.massage is not None and target in t.massage.releases)
            )
            and (region is None or region in t.regions)
            and (tool_name is None or t.tool == tool_name)
        ]

    def _resolve_tool(self, tool: str) -> ToolName:
        key = tool.strip().lower()
        names: tuple[str, ...] = get_args(ToolName)
        for candidate in (key, key.replace("-", "_").replace(" ", "_")):
            if candidate in names:
                return candidate  # type: ignore[return-value]
        entry = self.tools.get(key) or self.tools.get(key.replace("_", "-").replace(" ", "-"))
        if entry is not None:
            if entry.technique_tool is None:
                raise KeyError(f"'{tool}' ({entry.name}) is not a tool any technique uses")
            return entry.technique_tool
        raise KeyError(_unknown("tool", tool, names))

    def releases_for(self, region_or_muscle: str) -> list[Technique]:
        """Massages that release a muscle (side-less or sided id) or any muscle of a region."""
        key = region_or_muscle.strip().lower()
        if key in REGIONS:
            in_region = {m.muscle for m in self.muscles.values() if m.region == key}
            return [
                t
                for t in self.techniques.values()
                if t.massage is not None
                and t.massage.releases
                and (key in t.regions or in_region.intersection(t.massage.releases))
            ]
        try:
            target = self.resolve_muscle(key)
        except KeyError:
            raise KeyError(
                _unknown("region or muscle", region_or_muscle, [*REGIONS, *self.muscle_ids()])
            ) from None
        return [t for t in self.techniques.values() if t.massage is not None and target in t.massage.releases]

    # -- derived copies (the instructor's edits) -----------------------------------------------------
    def with_technique(self, t: Technique) -> Library:
        """A validated copy with ``t`` added (or replacing the entry with the same id)."""
        checked = validate_technique(t.model_dump(mode="python"), self)
        techniques = dict(self.techniques)
        techniques[checked.id] = checked
        new = replace(self, techniques=techniques)
        _check_library(new, file=None)
        return new

    def with_claim(self, c: Claim) -> Library:
        """A validated copy with ``c`` added (or replacing the entry with the same id)."""
        checked = validate_claim(c.model_dump(mode="python"), self)
        claims = dict(self.claims)
        claims[checked.id] = checked
        return replace(self, claims=claims)


def _unknown(what: str, value: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(value.strip().lower(), list(known), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return f"no {what} '{value}' in the library{hint}"


# ---------------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------------


def load_library(data_dir: Path | None = None) -> Library:
    """Load and validate the four data files. The packaged library is loaded once and cached."""
    if data_dir is None:
        return _load_default()
    return _load(Path(data_dir))


@lru_cache(maxsize=1)
def _load_default() -> Library:
    return _load(DATA_DIR)


def _read_entries(path: Path) -> list[dict[str, Any]]:
    """The file's list of entries (a YAML list of mappings)."""
    name = path.name
    if not path.is_file():
        raise KnowledgeError(f"file not found in {path.parent}", file=name)
    try:
        data = read_yaml(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise KnowledgeError(f"not valid YAML{at}: {getattr(exc, 'problem', exc)}", file=name) from None
    except UnicodeDecodeError:
        raise KnowledgeError("not UTF-8 text", file=name) from None
    if not isinstance(data, list):
        raise KnowledgeError("the file must be a YAML list of entries", file=name)
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise KnowledgeError("each entry must be a mapping of fields", file=name, entry=f"#{index + 1}")
    return data


def _entry_label(data: Mapping[str, Any], index: int | None) -> str:
    ident = data.get("id")
    if isinstance(ident, str) and ident:
        return ident
    return f"#{index + 1}" if index is not None else "(new entry)"


def _parse(model: type[E], data: Mapping[str, Any], *, file: str | None, index: int | None) -> E:
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(part) for part in err["loc"]) or None
        more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
        raise KnowledgeError(
            f"{err['msg']}{more}", file=file, entry=_entry_label(data, index), field=loc
        ) from None


def _unique(entries: list[E], file: str) -> dict[str, E]:
    out: dict[str, E] = {}
    for e in entries:
        ident = e.id  # type: ignore[attr-defined]
        if ident in out:
            raise KnowledgeError("duplicate id (ids must be unique)", file=file, entry=ident, field="id")
        out[ident] = e
    return out


def _load(data_dir: Path) -> Library:
    if not data_dir.is_dir():
        raise KnowledgeError(f"knowledge data directory not found: {data_dir}")
    raw = {name: _read_entries(data_dir / name) for name in FILES}

    muscles = _unique(
        [_parse(Muscle, d, file="muscles.yaml", index=i) for i, d in enumerate(raw["muscles.yaml"])],
        "muscles.yaml",
    )
    _check_muscles(muscles)
    tools = _unique(
        [_parse(Tool, d, file="tools.yaml", index=i) for i, d in enumerate(raw["tools.yaml"])], "tools.yaml"
    )
    for tool in tools.values():
        _check_tool(tool)
    partial = Library(muscles=muscles, techniques={}, tools=tools, claims={}, data_dir=data_dir)
    techniques = _unique(
        [
            _technique(d, partial, file="techniques.yaml", index=i)
            for i, d in enumerate(raw["techniques.yaml"])
        ],
        "techniques.yaml",
    )
    partial = replace(partial, techniques=techniques)
    claims = _unique(
        [_claim(d, partial, file="claims.yaml", index=i) for i, d in enumerate(raw["claims.yaml"])],
        "claims.yaml",
    )
    library = replace(partial, claims=claims)
    _check_library(library, file="techniques.yaml")
    _check_global_ids(library)
    return library


# ---------------------------------------------------------------------------------------------------
# Entry checks
# ---------------------------------------------------------------------------------------------------


def _check_muscles(muscles: dict[str, Muscle]) -> None:
    file = "muscles.yaml"
    groups: dict[str, list[Muscle]] = {}
    for m in muscles.values():
        expected = m.muscle if m.side == "midline" else f"{m.muscle}-{m.side}"
        if m.id != expected:
            raise KnowledgeError(
                f"id must be '{expected}' (side-less id, then the side; a midline muscle uses the bare id)",
                file=file,
                entry=m.id,
                field="id",
            )
        groups.setdefault(m.muscle, []).append(m)
    for key, entries in groups.items():
        sides = sorted(m.side for m in entries)
        if sides not in (["midline"], ["left", "right"]):
            raise KnowledgeError(
                f"muscle '{key}' must have a left and a right entry, or one midline entry (has {sides})",
                file=file,
                entry=entries[0].id,
                field="side",
            )
        first = entries[0]
        for other in entries[1:]:
            for attr in ("name", "group", "region", "use", "insertion_kind"):
                if getattr(other, attr) != getattr(first, attr):
                    raise KnowledgeError(
                        f"'{attr}' differs between the sides of '{key}' ({getattr(first, attr)!r} vs "
                        f"{getattr(other, attr)!r})",
                        file=file,
                        entry=other.id,
                        field=attr,
                    )


def _check_tool(tool: Tool) -> None:
    if tool.category == "harmful" and tool.technique_tool is not None:
        raise KnowledgeError(
            "a harmful tool can never be a technique's tool: remove technique_tool",
            file="tools.yaml",
            entry=tool.id,
            field="technique_tool",
        )


def _technique(
    data: Mapping[str, Any], library: Library, *, file: str | None, index: int | None
) -> Technique:
    t = _parse(Technique, data, file=file, index=index)

    def bad(problem: str, where: str) -> KnowledgeError:
        return KnowledgeError(problem, file=file, entry=t.id, field=where)

    muscle_ids = library.muscle_ids()
    for i, target in enumerate(t.targets):
        if target not in muscle_ids:
            hint = (
                f" (use the side-less id '{_side_less(target)}')" if _side_less(target) in muscle_ids else ""
            )
            raise bad(_unknown("muscle", target, muscle_ids) + hint, f"targets.{i}")
    if len(set(t.targets)) != len(t.targets):
        raise bad("a muscle is listed twice", "targets")

    if not t.regions:
        t = t.model_copy(update={"regions": [t.region]})
    elif t.region not in t.regions:
        raise bad(f"the main region '{t.region}' must be one of its regions {t.regions}", "regions")

    harmful = {tool.technique_tool for tool in library.tools.values() if tool.category == "harmful"}
    if t.tool in harmful:
        raise bad(f"'{t.tool}' is a harmful tool and can never be used by a technique", "tool")
    described = {tool.technique_tool for tool in library.tools.values()}
    if t.tool != "none" and t.tool not in described:
        raise bad(f"no tools.yaml entry describes '{t.tool}' (set its technique_tool)", "tool")

    if t.kind == "exercise":
        _check_exercise(t, library, bad)
    else:
        _check_massage(t, library, bad)
    # Regions drive the planner's "release every region you exercised": they must cover every muscle
    # the technique works or releases.
    groups = library.muscle_groups()
    worked = [*t.targets, *(t.massage.releases if t.massage else [])]
    for muscle in dict.fromkeys(m for m in worked if m in groups):
        region = groups[muscle][0].region
        if region not in t.regions:
            raise bad(f"'{muscle}' lies in the {region} region: add '{region}' to regions", "regions")
    _check_contraindications(t, bad)
    return t


def _check_exercise(t: Technique, library: Library, bad: Any) -> None:
    if t.exercise is None:
        raise bad("an exercise needs an 'exercise:' block (movement, still, …)", "exercise")
    if t.massage is not None:
        raise bad("an exercise must not have a 'massage:' block", "massage")
    if t.tool not in _EXERCISE_TOOLS:
        raise bad(f"an exercise uses your own muscles: tool must be one of {list(_EXERCISE_TOOLS)}", "tool")
    if not t.exercise.still:
        raise bad("say what the camera must see stay still (at least one fault kind)", "exercise.still")
    d = t.defaults
    if d.reps is None and d.hold_s is None:
        raise bad("an exercise needs reps or hold_s", "defaults")
    # The planner budgets time with duration_s, so it must cover the prescribed work.
    needed = (
        d.sets
        * (d.reps or 1)
        * ((d.hold_s or 1.0) + (d.rest_s or 0.0))
        * (2 if t.exercise.sides == "each" else 1)
    )
    if d.duration_s < needed:
        raise bad(
            f"duration_s {d.duration_s:g} s is shorter than the work it prescribes (≈{needed:g} s: "
            "sets × reps × (hold + rest), × 2 when done one side at a time)",
            "defaults.duration_s",
        )
    groups = library.muscle_groups()
    for i, target in enumerate(t.targets):
        if all(m.use == "overused" for m in groups[target]):
            raise bad(
                f"'{target}' is typically over-used: it is released by massage, never exercised",
                f"targets.{i}",
            )


def _check_massage(t: Technique, library: Library, bad: Any) -> None:
    if t.massage is None:
        raise bad("a massage needs a 'massage:' block (direction, pressure, strokes, …)", "massage")
    if t.exercise is not None:
        raise bad("a massage must not have an 'exercise:' block", "exercise")
    m = t.massage
    muscle_ids = library.muscle_ids()
    for i, released in enumerate(m.releases):
        if released not in muscle_ids:
            raise bad(_unknown("muscle", released, muscle_ids), f"massage.releases.{i}")
    if m.pressure != t.pressure:
        raise bad(f"massage.pressure '{m.pressure}' differs from pressure '{t.pressure}'", "massage.pressure")
    if t.tool in _TOOLS_ON_SKIN and m.tool_angle_deg is None:
        raise bad(
            "a gua sha or roller massage needs the tool angle to the skin, in degrees",
            "massage.tool_angle_deg",
        )
    if t.tool == "gua_sha" and not t.friction:
        raise bad("a gua sha glides over the skin: set friction: true", "friction")
    for i, stroke in enumerate(m.strokes):
        _check_stroke(stroke, m.drains, f"massage.strokes.{i}", bad)
    if m.camera is not None:
        _check_camera(m, bad)


def _check_stroke(stroke: Stroke, drains: bool, where: str, bad: Any) -> None:
    """Every point inside the face box and on the stroke's own half of the face; a drainage stroke moves
    lymph towards the nodes."""
    for j, (x, y) in enumerate(stroke.path):
        at = f"{where}.path.{j}"
        if not (STROKE_X[0] <= x <= STROKE_X[1] and STROKE_Y[0] <= y <= STROKE_Y[1]):
            raise bad(f"point ({x}, {y}) is outside the face box x {STROKE_X}, y {STROKE_Y}", at)
        if stroke.sides in ("both", "right") and x > 0.5 + _MIDLINE_TOLERANCE:
            raise bad(
                f"a '{stroke.sides}' stroke is drawn on the person's right half (x ≤ 0.5), got x={x}", at
            )
        if stroke.sides == "left" and x < 0.5 - _MIDLINE_TOLERANCE:
            raise bad(f"a 'left' stroke is drawn on the person's left half (x ≥ 0.5), got x={x}", at)
    if drains and not drains_towards_nodes(stroke.path[0], stroke.path[-1]):
        raise bad(
            "a drainage stroke must end nearer the lymph nodes in front of the ear, or run down the neck",
            f"{where}.path",
        )


def _check_camera(m: MassageSpec, bad: Any) -> None:
    """The camera check names real strokes, sane pace limits, and counts sides only where there are sides."""
    camera = m.camera
    assert camera is not None
    labels = {s.label: s for s in m.strokes}
    for i, label in enumerate(camera.directed):
        if label not in labels:
            raise bad(_unknown("stroke", label, labels), f"massage.camera.directed.{i}")
    low, high = camera.pace_mm_s
    if not 0 < low < high < camera.return_mm_s:
        raise bad(
            f"pace_mm_s must be 0 < slowest < fastest < return_mm_s ({camera.return_mm_s}): {low}, {high}",
            "massage.camera.pace_mm_s",
        )
    sided = any(labels[label].sides != "midline" for label in camera.directed)
    if camera.strokes_per_side > 0 and not sided:
        raise bad(
            "strokes_per_side counts sides, but every directed stroke is on the midline", "massage.camera"
        )


def drains_towards_nodes(start: tuple[float, float], end: tuple[float, float]) -> bool:
    """Lymph is moved towards the nodes in front of the ears and down the neck, never back."""
    nearer_ear = min(math.dist(end, n) for n in EAR_NODES) < min(math.dist(start, n) for n in EAR_NODES)
    down_the_neck = end[1] >= 1.0 and end[1] > start[1]
    return nearer_ear or down_the_neck


def _check_contraindications(t: Technique, bad: Any) -> None:
    required: list[Contraindication] = []
    if t.loads_jaw:
        required.append("tmj")
    if t.tool in _TOOLS_ON_SKIN or t.pressure in ("medium", "firm"):
        required += ["injectables", "surgery"]
    if t.friction or t.tool in _TOOLS_ON_SKIN:
        required += list(_SKIN_CONDITIONS)
    if t.pressure == "firm":
        required.append("blood_thinners")
    missing = [c for c in dict.fromkeys(required) if c not in t.contraindications]
    if missing:
        raise bad(f"must list {missing} (by its jaw load, pressure, tool or friction)", "contraindications")


def _claim(data: Mapping[str, Any], library: Library, *, file: str | None, index: int | None) -> Claim:
    c = _parse(Claim, data, file=file, index=index)
    known = {**library.tools, **library.techniques}
    for i, rel in enumerate(c.related):
        if rel not in known:
            raise KnowledgeError(
                _unknown("tool or technique", rel, known), file=file, entry=c.id, field=f"related.{i}"
            )
    return c


def _check_library(library: Library, *, file: str | None) -> None:
    """Rules over the whole library: every exercised muscle has a massage that releases it."""
    released = {r for t in library.techniques.values() if t.massage is not None for r in t.massage.releases}
    for t in library.techniques.values():
        if t.kind != "exercise":
            continue
        for i, target in enumerate(t.targets):
            if target not in released:
                raise KnowledgeError(
                    f"no massage releases '{target}': add one (massage.releases) before exercising it",
                    file=file,
                    entry=t.id,
                    field=f"targets.{i}",
                )


def _check_global_ids(library: Library) -> None:
    """Ids are unique across the whole library, so ``facecoach show ID`` is never ambiguous."""
    seen: dict[str, str] = {}
    collections: list[tuple[str, Iterable[str]]] = [
        ("muscles.yaml", [*library.muscles, *library.muscle_ids()]),
        ("tools.yaml", library.tools),
        ("techniques.yaml", library.techniques),
        ("claims.yaml", library.claims),
    ]
    for file, ids in collections:
        for ident in dict.fromkeys(ids):
            if ident in seen and seen[ident] != file:
                raise KnowledgeError(f"id already used in {seen[ident]}", file=file, entry=ident, field="id")
            seen[ident] = file


# ---------------------------------------------------------------------------------------------------
# Validating new entries (the instructor's edits)
# ---------------------------------------------------------------------------------------------------


def validate_technique(data: Mapping[str, Any], library: Library) -> Technique:
    """Same checks as the data file; a :class:`KnowledgeError` names the field at fault."""
    if not isinstance(data, Mapping):
        raise KnowledgeError("a technique must be a mapping of fields")
    t = _technique(data, library, file=None, index=None)
    if (
        t.id in library.muscles
        or t.id in library.muscle_ids()
        or t.id in library.tools
        or t.id in library.claims
    ):
        raise KnowledgeError("id already used by another kind of entry", entry=t.id, field="id")
    return t


def validate_claim(data: Mapping[str, Any], library: Library) -> Claim:
    """Same checks as the data file; a :class:`KnowledgeError` names the field at fault."""
    if not isinstance(data, Mapping):
        raise KnowledgeError("a claim must be a mapping of fields")
    c = _claim(data, library, file=None, index=None)
    if (
        c.id in library.muscles
        or c.id in library.muscle_ids()
        or c.id in library.tools
        or c.id in library.techniques
    ):
        raise KnowledgeError("id already used by another kind of entry", entry=c.id, field="id")
    return c
