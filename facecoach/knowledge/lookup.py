"""A forgiving free-text look-up over tools, treatments and claims ("jaw exerciser", "gua sha", typos).

Scoring is deliberately simple and dependency-free: each candidate phrase (a tool's name and aliases, a
claim's text and aliases) is compared with the question by character similarity (difflib), by fuzzy word
overlap, and by whether the phrase appears whole inside the question. The best score wins if it clears
:data:`MATCH_THRESHOLD`; otherwise the answer is "not in the library" with the closest entries.
"""

from __future__ import annotations

import difflib
import re
from typing import Literal

from pydantic import BaseModel

from facecoach.knowledge.library import Library

MATCH_THRESHOLD = 0.62
MAX_TEXT_CHARS = 500
NOT_FOUND = "not in the library"

_STOPWORDS = frozenset(
    re.findall(
        r"[a-z]+",
        "a an the is are was be do does did can could will would should my your you i me it its "
        "this that these those for of to on in with and or about really what whats how any using use "
        "used if at by from",
    )
)


class Closest(BaseModel):
    id: str
    name: str
    score: float  # 0…1, higher is closer


class CheckResult(BaseModel):
    """The answer to ``facecoach check``: what the text refers to, and what to think of it."""

    query: str
    match: str | None  # tool or claim id; None when nothing is close enough
    kind: Literal["tool", "claim"] | None
    name: str | None
    category: str | None  # the tool's category (exercise | massage | passive | harmful); None for a claim
    verdict: str  # a tool's one-line verdict, a claim's true/false/partly/unproven, or "not in the library"
    why: str
    evidence: str | None = None  # evidence level, when matched
    score: float = 0.0
    closest: list[Closest]


def _normalise(text: str) -> str:
    text = text.lower().replace("'", "").replace("’", "")
    return " ".join(re.findall(r"[a-z0-9]+", text))


def _stem(token: str) -> str:
    """A crude plural/-ing strip so "rollers" meets "roller" and "exercises" meets "exercise"."""
    if len(token) > 6 and token.endswith("ing"):
        return token[:-3]
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


def _tokens(text: str) -> list[str]:
    return [_stem(t) for t in text.split() if t not in _STOPWORDS]


def _token_score(query: list[str], phrase: list[str]) -> float:
    """F1 of fuzzy word matches (two words match when their similarity is at least 0.8)."""
    if not query or not phrase:
        return 0.0

    def covered(words: list[str], others: list[str]) -> float:
        total = 0.0
        for w in words:
            best = max(difflib.SequenceMatcher(None, w, o).ratio() for o in others)
            total += best if best >= 0.8 else 0.0
        return total / len(words)

    precision, recall = covered(query, phrase), covered(phrase, query)
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def _phrase_score(query_norm: str, query_tokens: list[str], phrase: str) -> float:
    p_norm = _normalise(phrase)
    if not p_norm:
        return 0.0
    if p_norm == query_norm:
        return 1.0
    ratio = difflib.SequenceMatcher(None, query_norm, p_norm).ratio()
    tokens = _token_score(query_tokens, _tokens(p_norm))
    score = max(ratio, tokens)
    # The whole phrase inside a longer question ("is gua sha safe?"): a strong hint, a bit below exact.
    if len(p_norm) >= 4 and re.search(rf"\b{re.escape(p_norm)}\b", query_norm):
        score = max(score, 0.75 + 0.2 * len(p_norm) / max(len(query_norm), 1))
    return min(score, 1.0)


def check(text: str, library: Library) -> CheckResult:
    """Look ``text`` up among tools, treatments and claims; ``ValueError`` for empty or over-long text."""
    if not text or not text.strip():
        raise ValueError("give some text to check, e.g. 'jaw exerciser'")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"text too long to check ({len(text)} characters, at most {MAX_TEXT_CHARS})")
    query_norm = _normalise(text)
    query_tokens = _tokens(query_norm)

    scored: list[tuple[float, str, str, str]] = []  # score, kind, id, name
    for tool in library.tools.values():
        s = max(_phrase_score(query_norm, query_tokens, p) for p in [tool.name, tool.id, *tool.aliases])
        scored.append((s, "tool", tool.id, tool.name))
    for claim in library.claims.values():
        s = max(_phrase_score(query_norm, query_tokens, p) for p in [claim.claim, *claim.aliases])
        scored.append((s, "claim", claim.id, claim.claim))
    scored.sort(key=lambda item: (-item[0], item[2]))
    closest = [Closest(id=i, name=n, score=round(s, 3)) for s, _, i, n in scored[:5]]

    best_score, kind, ident, _ = scored[0] if scored else (0.0, "", "", "")
    if best_score < MATCH_THRESHOLD or not query_norm:
        names = ", ".join(c.name for c in closest[:3])
        return CheckResult(
            query=text,
            match=None,
            kind=None,
            name=None,
            category=None,
            verdict=NOT_FOUND,
            why=f"Nothing in the library matches '{text.strip()}'. Closest: {names}.",
            score=round(best_score, 3),
            closest=closest,
        )
    others = [c for c in closest if c.id != ident]
    if kind == "tool":
        tool = library.tools[ident]
        lasts = f" Results last: {tool.results_last}" if tool.results_last else ""
        risks = f" Risks: {'; '.join(tool.risks)}." if tool.risks else ""
        return CheckResult(
            query=text,
            match=tool.id,
            kind="tool",
            name=tool.name,
            category=tool.category,
            verdict=tool.verdict,
            why=f"{tool.what_it_does}{lasts}{risks}",
            evidence=tool.evidence.level,
            score=round(best_score, 3),
            closest=others,
        )
    claim = library.claims[ident]
    return CheckResult(
        query=text,
        match=claim.id,
        kind="claim",
        name=claim.claim,
        category=None,
        verdict=claim.verdict,
        why=claim.explanation,
        score=round(best_score, 3),
        closest=others,
    )
