"""Every page, as a visitor, a free member, a member and the instructor, at 1280×900 and 390×844, checked
in Debian's Chromium with axe-core (from node_modules, injected by the test; nothing from a CDN): no
violation of impact "serious" or "critical". Plus what axe does not judge: the focus ring's contrast, the
skip link, and a distinct title for each library view. Screenshots: ``test-artifacts/ux/a11y-*.png``.

/live is here as it loads (today's routine, one exercise); its running views (camera, cues, stroke map)
and the end summary are checked by tests/live/test_page_browser.py. Not here: /docs (Swagger UI's own
markup)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.browser import launch
from tests.web.ux_site import REPO, WIDTHS, UxSite, log_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
PAGES = {
    "visitor": [
        "/",
        "/library",
        "/library?kind=massage&region=jaw",
        "/library/smile-lift",
        "/library/jaw-release",
        "/muscles",
        "/checker?q=jaw+exerciser",
        "/membership",
        "/signup?plan=member",
        "/login",
        "/reset",
        "/no-such-page",
        "/routine",
    ],
    "free": ["/routine", "/progress", "/membership", "/account"],
    "member": [
        "/",
        "/routine",
        "/progress",
        "/audit",
        "/audit/1",
        "/audit/2",
        "/account",
        "/assessment",
        "/assessment/scan",
        "/live",
        "/live?technique=smile-lift",
    ],
    "instructor": [
        "/admin",
        "/admin/members",
        "/admin/library",
        "/admin/outbox",
        "/admin/techniques/smile-lift",
        "/audit",
        "/progress",
    ],
}
BLOCKING = ("serious", "critical")


@pytest.fixture(scope="module")
def browser(playwright_instance: Any) -> Iterator[Any]:
    b = launch(playwright_instance)
    yield b
    b.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it stands (WCAG 2.x A and AA rules and best practices)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # The site's CSP allows no inline script, so axe's source is evaluated by the test (DevTools),
        # not added as a <script> element.
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate(
        "async () => JSON.stringify((await axe.run(document, {resultTypes: ['violations']})).violations)"
    )
    return list(json.loads(result))


def _describe(violations: list[dict[str, Any]]) -> list[str]:
    return [
        f"{v['impact']} {v['id']}: {v['help']} — {[n['target'] for n in v['nodes'][:4]]}"
        for v in violations
        if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("role", list(PAGES))
def test_no_serious_accessibility_violations(browser: Any, ux_site: UxSite, role: str, width: str) -> None:
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h})
    page = context.new_page()
    try:
        if role != "visitor":
            log_in(page, ux_site.base, role)
        found: dict[str, list[str]] = {}
        for path in PAGES[role]:
            page.goto(ux_site.base + path)
            page.wait_for_load_state("load")
            shot(page, f"a11y-{role}-{width}-{path.strip('/').replace('/', '_').replace('?', '_') or 'home'}")
            problems = _describe(axe_violations(page))
            if problems:
                found[path] = problems
        assert found == {}, json.dumps(found, indent=1)
    finally:
        context.close()


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _rgb(css: str) -> tuple[int, int, int]:
    parts = css[css.index("(") + 1 : css.index(")")].replace(",", " ").split()
    return int(float(parts[0])), int(float(parts[1])), int(float(parts[2]))


def test_focus_ring_skip_link_and_titles(browser: Any, ux_site: UxSite) -> None:
    """Keyboard: the first Tab reaches "Skip to the content", which moves focus to the main region; every
    focused control's ring is ≥ 3:1 against the page behind it (WCAG 2.4.11/1.4.11)."""
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(ux_site.base + "/library")
    page.keyboard.press("Tab")
    first = page.evaluate("() => [document.activeElement.textContent, document.activeElement.hash]")
    assert first == ["Skip to the content", "#main"]
    shot(page, "a11y-skip-link")
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    backgrounds = {
        "page": _rgb(page.evaluate("() => getComputedStyle(document.body).backgroundColor")),
        "card": (255, 255, 255),
    }
    for selector in ("#kind", "a.brand", ".technique-card h3 a", "#library-filters button"):
        page.focus(selector)
        style = page.evaluate(
            "(s) => { const c = getComputedStyle(document.querySelector(s));"
            " return [c.outlineStyle, c.outlineWidth, c.outlineColor]; }",
            selector,
        )
        assert style[0] == "solid" and float(style[1].removesuffix("px")) >= 2, (selector, style)
        ring = _rgb(style[2])
        for name, behind in backgrounds.items():
            assert contrast(ring, behind) >= 3.0, (selector, name, contrast(ring, behind))
    shot(page, "a11y-focus")
    # Each filtered view of the library has its own title.
    titles = set()
    for query in ("", "?kind=massage", "?kind=exercise", "?kind=massage&region=jaw", "?tool=gua_sha"):
        page.goto(ux_site.base + "/library" + query)
        titles.add(page.title())
    assert len(titles) == 5, titles
    assert "Massages for the jaw · Library · facecoach" in titles
