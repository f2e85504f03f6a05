"""The scan's neutral check: a picture (or a video frame) is measured only when the face is neutral, open
eyed and uncovered (:func:`facecoach.vision.neutral.check_neutral`, the one definition of that range);
else it is refused with a reason — ``occluded`` (a hand over the face, from the Hand Landmarker),
``expression``, ``eyes_closed``, first of these wins — and a sentence for the person
(``scan_texts.yaml``, ``neutral:``). A face inside the range but near a limit is measured with a note
naming the figures that trace may move.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Literal

from facecoach.vision.neutral import NeutralCheck
from facecoach.vision.quality import Verdict
from facecoach.vision.scan_describe import scan_texts

#: Which reason names a refusal when several hold: a covered face first (its landmarks are guesses, so
#: its expression scores mean little), then an expression (a frown squeezes the eyes shut: the
#: expression is what to relax), then closed eyes. ``head_turned`` is the quality gate's.
REFUSAL_ORDER: tuple[Literal["occluded", "expression", "eyes_closed"], ...] = (
    "occluded",
    "expression",
    "eyes_closed",
)


def describe_expressions(names: Iterable[str]) -> str:
    """The expressions in words, joined ("a frown and raised brows")."""
    words = [scan_texts().neutral.expressions[n] for n in names]
    words = list(dict.fromkeys(words))
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def neutral_verdict(check: NeutralCheck) -> Verdict:
    """``ok``, or the first reason of :data:`REFUSAL_ORDER` that holds, with its sentence."""
    texts = scan_texts().neutral
    for code in REFUSAL_ORDER:
        if code in check.reasons:
            message = texts.refusals[code]
            if code == "expression":
                message = message.format(what=describe_expressions(check.expressions))
            return Verdict(code, message)
    return Verdict("ok", "ok")


def trace_notes(traces: Iterable[str]) -> list[str]:
    """One note per trace of an expression (names as in ``neutral.yaml``), figures it may move."""
    texts = scan_texts().neutral
    notes: dict[str, str] = {}  # one note per set of figures (a smile and its teeth move the same ones)
    for name in dict.fromkeys(traces):
        measures = texts.trace_measures[name]
        notes.setdefault(measures, texts.trace.format(what=texts.expressions[name], measures=measures))
    return list(notes.values())


def frequent_traces(checks: Iterable[NeutralCheck]) -> list[str]:
    """The traces seen in at least half of the checks (a video's usable frames), most frequent first."""
    checks = list(checks)
    counts = Counter(name for c in checks for name in c.traces)
    return [name for name, n in counts.most_common() if 2 * n >= len(checks)]


def too_few_frames(usable: int, seen: int, needed: int, refused: Counter[str]) -> str:
    """The refusal of a video with too few usable frames (``refused``: why the others were dropped)."""
    dropped = ", ".join(f"{n} {code.replace('_', ' ')}" for code, n in refused.most_common())
    return scan_texts().neutral.too_few_frames.format(
        usable=usable, seen=seen, needed=needed, dropped=dropped or "none dropped"
    )
