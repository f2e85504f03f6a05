"""The worked examples of docs/planner.md, produced by running the real planner on
``data/examples.yaml``.

``python -m facecoach.planning.examples`` prints the Markdown; ``--write docs/planner.md`` replaces the
section between the ``<!-- examples:start -->`` and ``<!-- examples:end -->`` markers.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from facecoach.knowledge.library import Library, load_library
from facecoach.planning.assessment import parse_answers
from facecoach.planning.plan import Plan
from facecoach.planning.planner import build_plan
from facecoach.planning.scan import parse_scan
from facecoach.yamlfile import read_yaml

EXAMPLES_FILE = Path(__file__).resolve().parent / "data" / "examples.yaml"
START, END = "<!-- examples:start -->", "<!-- examples:end -->"


class Example(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    title: str
    story: str
    week: int
    answers: dict[str, Any]
    scan: dict[str, Any] | None


def load_examples() -> list[Example]:
    raw = read_yaml(EXAMPLES_FILE)
    return [Example.model_validate(e) for e in raw]


def run_example(example: Example, library: Library | None = None) -> Plan:
    answers = parse_answers(example.answers, source=f"example {example.id}")
    scan = parse_scan(example.scan, source=f"example {example.id}") if example.scan else None
    return build_plan(answers, scan, example.week, library or load_library())


def _dose(reps: int | None, hold: float | None, seconds: float) -> str:
    parts = [f"{reps} reps"] if reps else []
    if hold:
        parts.append(f"hold {hold:g} s")
    parts.append(f"{seconds:g} s")
    return ", ".join(parts)


def render(library: Library | None = None) -> str:
    lib = library or load_library()
    out: list[str] = []
    for n, ex in enumerate(load_examples(), 1):
        plan = run_example(ex, lib)
        out += [f"### Example {n}: {ex.title}", "", ex.story, ""]
        out += ["Answers file:", "", "```json", json.dumps(ex.answers), "```", ""]
        if ex.scan:
            out += ["Scan (`facecoach scan --json`, abridged to what the planner reads):", "", "```json"]
            out += [
                json.dumps({"asymmetry": ex.scan["asymmetry"], "noise_mm": ex.scan.get("noise_mm")}),
                "```",
                "",
            ]
        cmd = f"facecoach plan --answers {ex.id}.json" + (f" --scan {ex.id}-scan.json" if ex.scan else "")
        out += [f"`{cmd} --week {ex.week}` → week {plan.week}, {plan.minutes:g} minutes:", ""]
        out += ["| # | phase | technique | sides | dose | reason |", "|---|---|---|---|---|---|"]
        for i, item in enumerate(plan.items, 1):
            dose = _dose(item.reps, item.hold_s, item.duration_s)
            sides = ", ".join(item.sides)
            out.append(f"| {i} | {item.phase} | `{item.technique}` | {sides} | {dose} | {item.reason} |")
        out.append("")
        safety = [e for e in plan.excluded if e.rule != "progression"]
        locked = [e.technique for e in plan.excluded if e.rule == "progression"]
        if safety:
            out += ["Left out:", ""] + [f"- `{e.technique}` — `{e.rule}`: {e.reason}" for e in safety]
        if locked:
            out.append(f"- not yet unlocked (`progression`): {', '.join(f'`{t}`' for t in locked)}")
        out.append("")
        if plan.habit_tips:
            out += ["Habit tips:", ""] + [f"- {t}" for t in plan.habit_tips] + [""]
        out += [f"Referral: {plan.referral or 'none'}.", ""]
    return "\n".join(out).rstrip() + "\n"


def write(doc: Path, library: Library | None = None) -> None:
    text = doc.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{doc}: the {START} … {END} markers are missing")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    doc.write_text(f"{head}{START}\n\n{render(library)}\n{END}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", type=Path, help="rewrite the examples section of this Markdown file")
    args = parser.parse_args()
    if args.write:
        write(args.write)
    else:
        print(render(), end="")


if __name__ == "__main__":
    main()
