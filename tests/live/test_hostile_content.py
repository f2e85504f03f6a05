"""Issue 11: instructor text cannot break the live page. A technique name containing ``<!--<script>``
used to end the ``#live-config`` JSON block early (only ``</`` was escaped; ``<!--`` followed by
``<script>`` puts the HTML parser in the "double escaped" state, so the block swallowed the page's own
script). Embedded JSON is now serialised with ``<``, ``>``, ``&`` (and ``'``) escaped.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from facecoach.config import PACKAGE_DIR
from facecoach.web.security import SESSION_COOKIE
from tests.live.conftest import LiveApp
from tests.live.test_page import CONFIG, _config, _get
from tests.support.browser import launch

HOSTILE = "Smile <!--<script> lift </script><script>window.__owned=1</script> & 'quotes'"
TEMPLATES = PACKAGE_DIR / "web" / "templates"


@pytest.fixture
def hostile_name(live_app: LiveApp) -> Iterator[str]:
    """The instructor renames smile-lift (through the library store, the admin's own path)."""
    ctx = live_app.app.state.ctx
    with live_app.db.session() as s:
        data = ctx.library.current(s).techniques["smile-lift"].model_dump(mode="json")
        data["name"] = HOSTILE
        ctx.library.save(s, "technique", data, None)
    yield HOSTILE
    with live_app.db.session() as s:
        ctx.library.revert(s, "technique", "smile-lift")


def test_the_config_block_holds_no_markup_characters(live_app: LiveApp, hostile_name: str) -> None:
    page = _get(live_app, "/live?technique=smile-lift", live_app.member(fresh=False)).text
    block = CONFIG.search(page)
    assert block is not None
    assert not set("<>&") & set(block.group(1)), block.group(1)[:200]
    assert _config(page)["steps"][0]["name"] == hostile_name  # the JSON still reads back exactly
    assert page.count("<script") == page.count("</script>")


def test_every_template_embeds_json_through_tojson() -> None:
    """No template puts JSON in a script element with ``|safe`` (which skips the escaping)."""
    blocks = []
    for path in TEMPLATES.rglob("*.html"):
        for m in re.finditer(r"<script[^>]*application/json[^>]*>(.*?)</script>", path.read_text(), re.S):
            blocks.append((path.name, m.group(1)))
    assert blocks, "the live page's config block was not found"
    for name, body in blocks:
        assert "|tojson" in body.replace(" ", "") and "|safe" not in body.replace(" ", ""), (name, body)


def test_the_live_page_still_works_in_a_browser(
    playwright_instance: Any,
    server: str,
    live_app: LiveApp,
    hostile_name: str,
) -> None:
    """In Chromium: the page reads its config, gets ready, shows the name as text, runs no injected
    script. Before: JSON.parse failed on the cut-off block and the page never got ready."""
    browser = launch(playwright_instance)
    try:
        context = browser.new_context()
        cookie = live_app.member(fresh=False)
        context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": server}])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{server}/live?technique=smile-lift&mode=jpeg")
        deadline = time.monotonic() + 20
        while page.get_attribute("#live", "data-state") != "ready":
            assert time.monotonic() < deadline, f"the page never got ready: {errors}"
            time.sleep(0.1)
        config = page.evaluate("() => JSON.parse(document.getElementById('live-config').textContent)")
        assert config["steps"][0]["name"] == hostile_name
        assert page.evaluate("() => window.__owned === undefined")
        assert hostile_name in page.inner_text("#live")  # shown as text, where the page lists its steps
        assert not errors, errors
        shots = Path(__file__).resolve().parents[2] / "test-artifacts" / "live"
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / "hostile-name.png"), full_page=True)
    finally:
        browser.close()


def test_the_summary_json_of_the_page_is_data_not_markup(live_app: LiveApp, hostile_name: str) -> None:
    """The config carries the name once, as JSON data; the list of steps carries it HTML-escaped."""
    page = _get(live_app, "/live?technique=smile-lift", live_app.member(fresh=False)).text
    assert "window.__owned=1</script>" not in page
    assert json.loads(CONFIG.search(page).group(1))["steps"][0]["name"] == hostile_name  # type: ignore[union-attr]
