"""The forgiving look-up: everyday wording and typos find the right tool or claim."""

from __future__ import annotations

import pytest

from facecoach.knowledge import Library, check, load_library
from facecoach.knowledge.lookup import NOT_FOUND


@pytest.fixture(scope="module")
def lib() -> Library:
    return load_library()


@pytest.mark.parametrize(
    ("text", "match", "category"),
    [
        ("jaw exerciser", "jawline-exerciser", "harmful"),
        ("Jawline Exerciser!", "jawline-exerciser", "harmful"),
        ("jaw excerciser", "jawline-exerciser", "harmful"),
        ("gua sha", "gua-sha", "massage"),
        ("guasha", "gua-sha", "massage"),
        ("gua shaa", "gua-sha", "massage"),
        ("is gua sha good for me?", "gua-sha", "massage"),
        ("jade rolller", "jade-roller", "massage"),
        ("microcurrent facial", "microcurrent", "passive"),
        ("microcurent", "microcurrent", "passive"),
        ("EMS face mask", "ems", "passive"),
        ("face gym", "face-gym-salon", "massage"),
        ("radio frequency", "radiofrequency", "passive"),
        ("ice roller", "ice-roller", "passive"),
        ("hyaluronic acid", "hyaluronic-acid", "passive"),
        ("face tape", "face-taping", "passive"),
        ("face slimmer", "face-slimmer-spring", "harmful"),
    ],
)
def test_tools_are_found(lib: Library, text: str, match: str, category: str) -> None:
    result = check(text, lib)
    assert result.match == match, result.closest
    assert result.kind == "tool" and result.category == category
    assert result.verdict == lib.tools[match].verdict
    assert result.why and result.score >= 0.62
    assert match not in {c.id for c in result.closest}


@pytest.mark.parametrize(
    ("text", "match", "verdict"),
    [
        ("does exercising the face give you more wrinkles", "exercise-causes-wrinkles", "partly"),
        ("face exercises cause wrinkles", "exercise-causes-wrinkles", "partly"),
        ("a salon face workout exercises your face", "salon-face-workout-is-exercise", "false"),
        ("does gua sha remove toxins?", "gua-sha-removes-toxins", "false"),
        ("jaw exercisers give a chiselled jawline", "jaw-exerciser-chiselled-jaw", "false"),
        ("can microcurrent replace exercise", "microcurrent-replaces-exercise", "false"),
        ("double chin", "spot-reduce-face-fat", "false"),
    ],
)
def test_claims_are_found(lib: Library, text: str, match: str, verdict: str) -> None:
    result = check(text, lib)
    assert result.match == match, result.closest
    assert result.kind == "claim" and result.category is None
    assert result.verdict == verdict
    assert result.why == lib.claims[match].explanation


@pytest.mark.parametrize("text", ["banana smoothie", "xyz", "quantum tunnelling", "???", "12345"])
def test_unknown_text_gets_the_closest_entries(lib: Library, text: str) -> None:
    result = check(text, lib)
    assert result.match is None and result.kind is None and result.category is None
    assert result.verdict == NOT_FOUND
    assert len(result.closest) >= 3
    scores = [c.score for c in result.closest]
    assert scores == sorted(scores, reverse=True) and scores[0] < 0.62
    known = set(lib.tools) | set(lib.claims)
    assert all(c.id in known for c in result.closest)


@pytest.mark.parametrize("text", ["", "   ", "x" * 501])
def test_empty_or_huge_text_is_refused(lib: Library, text: str) -> None:
    with pytest.raises(ValueError):
        check(text, lib)


def test_every_name_and_alias_finds_its_own_entry(lib: Library) -> None:
    """Aliases are the look-up's vocabulary: none may be claimed by another entry."""
    phrases = [(tool.id, p) for tool in lib.tools.values() for p in (tool.name, *tool.aliases)]
    phrases += [(claim.id, p) for claim in lib.claims.values() for p in (claim.claim, *claim.aliases)]
    found = [(ident, p, check(p, lib).match) for ident, p in phrases]
    assert [f for f in found if f[0] != f[2]] == []
