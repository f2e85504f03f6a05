"""A forgiving free-text look-up over tools, treatments and claims ("jaw exerciser", "gua sha", typos).

Scoring is deliberately simple and dependency-free: each candidate phrase (a tool's name and aliases, a
claim's text and aliases) is compared with the question by character similarity (difflib), by fuzzy word
overlap, and by whether the phrase appears whole inside the question. The best score wins if it clears
:data:`MATCH_THRESHOLD`; otherwise the answer is "not in the library" with the closest entries.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel

from facecoach.knowledge.library import Library

MATCH_THRESHOLD = 0.62
SURE_SCORE = 0.8  # a word-level score this high is not second-guessed by whole-string similarity
WHOLE_STRING_CHARS = 40  # whole-string similarity only between texts this short (names, not sentences)
WORD_MATCH = 0.8  # two words count as the same word at this difflib similarity ("exerciser"/"excerciser")
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


@lru_cache(maxsize=100_000)
def _word_similarity(a: str, b: str) -> float:
    """difflib ratio of two words, or 0 below :data:`WORD_MATCH` (cheap upper bounds first)."""
    if a == b:
        return 1.0
    if 2 * min(len(a), len(b)) / (len(a) + len(b)) < WORD_MATCH:
        return 0.0
    matcher = difflib.SequenceMatcher(None, a, b)
    if matcher.quick_ratio() < WORD_MATCH:
        return 0.0
    ratio = matcher.ratio()
    return ratio if ratio >= WORD_MATCH else 0.0


Similar = dict[str, dict[str, float]]  # query word → {library word: similarity ≥ WORD_MATCH}


def _token_score(query: tuple[str, ...], phrase: tuple[str, ...], similar: Similar) -> float:
    """F1 of fuzzy word matches (two words match when their similarity is at least WORD_MATCH)."""
    if not query or not phrase:
        return 0.0
    precision = sum(max((similar[q].get(p, 0.0) for p in phrase), default=0.0) for q in query) / len(query)
    if precision == 0.0:
        return 0.0
    recall = sum(max(similar[q].get(p, 0.0) for q in query) for p in phrase) / len(phrase)
    return 2 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class _Candidate:
    kind: Literal["tool", "claim"]
    id: str
    name: str
    phrases: tuple[tuple[str, tuple[str, ...], frozenset[str]], ...]  # normalised phrase, tokens, token set


@dataclass(frozen=True)
class _Index:
    candidates: tuple[_Candidate, ...]
    words_by_length: dict[int, tuple[str, ...]]  # the library's vocabulary, for fuzzy word matching


@lru_cache(maxsize=8)
def _index(library: Library) -> _Index:
    """Normalised phrases of every tool and claim, prepared once per library (libraries hash by identity)."""

    def prepare(phrases: list[str]) -> tuple[tuple[str, tuple[str, ...], frozenset[str]], ...]:
        normalised = dict.fromkeys(n for n in (_normalise(p) for p in phrases) if n)
        return tuple((n, tuple(_tokens(n)), frozenset(_tokens(n))) for n in normalised)

    cands = [
        _Candidate("tool", t.id, t.name, prepare([t.name, t.id, *t.aliases])) for t in library.tools.values()
    ]
    cands += [
        _Candidate("claim", c.id, c.claim, prepare([c.claim, *c.aliases])) for c in library.claims.values()
    ]
    by_length: dict[int, list[str]] = {}
    for word in sorted({w for c in cands for _, _, words in c.phrases for w in words}):
        by_length.setdefault(len(word), []).append(word)
    return _Index(tuple(cands), {n: tuple(ws) for n, ws in by_length.items()})


def _similar_words(word: str, index: _Index) -> dict[str, float]:
    """Library words similar to ``word``; only lengths that could reach WORD_MATCH are compared."""
    n = len(word)
    lowest = math.ceil(n * WORD_MATCH / (2 - WORD_MATCH))
    highest = math.floor(n * (2 - WORD_MATCH) / WORD_MATCH)
    out: dict[str, float] = {}
    for length in range(lowest, highest + 1):
        for other in index.words_by_length.get(length, ()):
            sim = _word_similarity(word, other)
            if sim:
                out[other] = sim
    return out


def _phrase_score(
    query_norm: str,
    query_tokens: tuple[str, ...],
    phrase: tuple[str, tuple[str, ...], frozenset[str]],
    similar: Similar,
    reachable: set[str],
    whole_string: bool,
) -> float:
    p_norm, p_tokens, p_words = phrase
    if p_norm == query_norm:
        return 1.0
    score = _token_score(query_tokens, p_tokens, similar) if not reachable.isdisjoint(p_words) else 0.0
    # Whole-string similarity catches run-together or split words ("guashaa"). It is the costly part and
    # only matters for short names, so: when asked, short texts only, and only when its cheap upper
    # bounds say it could beat the word score and matter (≥ 0.5).
    floor = max(score, 0.5)
    if whole_string and len(query_norm) <= WHOLE_STRING_CHARS and len(p_norm) <= WHOLE_STRING_CHARS:
        matcher = difflib.SequenceMatcher(None, query_norm, p_norm, autojunk=False)
        if matcher.real_quick_ratio() > floor and matcher.quick_ratio() > floor:
            score = max(score, matcher.ratio())
    # The whole phrase inside a longer question ("is gua sha safe?"): a strong hint, a bit below exact.
    if len(p_norm) >= 4 and p_norm in query_norm and re.search(rf"\b{re.escape(p_norm)}\b", query_norm):
        score = max(score, 0.75 + 0.2 * len(p_norm) / max(len(query_norm), 1))
    return min(score, 1.0)


def check(text: str, library: Library) -> CheckResult:
    """Look ``text`` up among tools, treatments and claims; ``ValueError`` for empty or over-long text."""
    if not text or not text.strip():
        raise ValueError("give some text to check, e.g. 'jaw exerciser'")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"text too long to check ({len(text)} characters, at most {MAX_TEXT_CHARS})")
    query_norm = _normalise(text)
    query_tokens = tuple(_tokens(query_norm))

    index = _index(library)
    similar = {q: _similar_words(q, index) for q in set(query_tokens)}
    reachable = {w for words in similar.values() for w in words}

    def score_all(whole_string: bool) -> list[tuple[float, str, str, str]]:  # score, kind, id, name
        scored: list[tuple[float, str, str, str]] = []
        for c in index.candidates:
            best = max(
                (
                    _phrase_score(query_norm, query_tokens, p, similar, reachable, whole_string)
                    for p in c.phrases
                ),
                default=0.0,
            )
            scored.append((best, c.kind, c.id, c.name))
        scored.sort(key=lambda item: (-item[0], item[2]))
        return scored

    # Words first; only an unsure answer to a short text pays for whole-string similarity.
    scored = score_all(whole_string=False)
    if (not scored or scored[0][0] < SURE_SCORE) and len(query_norm) <= WHOLE_STRING_CHARS:
        scored = score_all(whole_string=True)
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
