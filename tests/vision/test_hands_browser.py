"""The same Hand Landmarker bundle in the browser: ``@mediapipe/tasks-vision`` in headless Chromium (CPU)
finds the same hand at the same place as Python on a real frame."""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np
import pytest

from facecoach.vision.hand_model import DEFAULT_BUNDLE_PATH
from facecoach.vision.hands import INDEX_TIP, HandTracker
from tests.support.browser import launch
from tests.support.hand_paste import read_frame

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
TASKS_VISION = REPO / "node_modules" / "@mediapipe" / "tasks-vision"
FRAME = 80  # 3.3 s: her hand over her mouth; the palm detector finds it in a single picture (IMAGE mode)

PAGE = """<!doctype html><html><body><img id="im" src="frame.png"><script type="module">
import { FilesetResolver, HandLandmarker } from "./tv/vision_bundle.mjs";
window.result = null;
try {
  const files = await FilesetResolver.forVisionTasks("./tv/wasm");
  const buffer = new Uint8Array(await (await fetch("hand_landmarker.task")).arrayBuffer());
  const landmarker = await HandLandmarker.createFromOptions(files, {
    baseOptions: {modelAssetBuffer: buffer, delegate: "CPU"}, runningMode: "IMAGE", numHands: 2});
  const im = document.getElementById("im"); await im.decode();
  const r = landmarker.detect(im);
  window.result = JSON.stringify({labels: r.handedness.map(h => h[0].categoryName),
    tips: r.landmarks.map(l => [l[INDEX_TIP].x * im.naturalWidth, l[INDEX_TIP].y * im.naturalHeight])});
} catch (e) { window.result = JSON.stringify({error: String(e)}); }
</script></body></html>""".replace("INDEX_TIP", str(INDEX_TIP))


@pytest.fixture
def site(tmp_path: Path, shared_data: Path) -> Iterator[tuple[str, np.ndarray]]:
    rgb = read_frame(shared_data / "woman_expressions_24fps.mp4", FRAME)
    cv2.imwrite(str(tmp_path / "frame.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    (tmp_path / "hand_landmarker.task").write_bytes(DEFAULT_BUNDLE_PATH.read_bytes())
    os.symlink(TASKS_VISION, tmp_path / "tv")
    (tmp_path / "index.html").write_text(PAGE, encoding="utf-8")
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html", rgb
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
    }

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_the_browser_finds_the_same_hand_at_the_same_place(playwright_instance: Any, site: tuple) -> None:
    url, rgb = site
    with HandTracker(mode="image") as tracker:
        python = tracker.detect(rgb).hands
    assert len(python) == 1
    browser = launch(playwright_instance)
    try:
        page = browser.new_page()
        page.goto(url)
        page.wait_for_function("window.result !== null", timeout=120_000)
        result = json.loads(page.evaluate("window.result"))
    finally:
        browser.close()
    assert "error" not in result, result
    assert result["labels"] == [python[0].label]
    assert np.allclose(result["tips"][0], python[0].points_px[INDEX_TIP, :2], atol=2.0), (
        result,
        python[0].points_px[INDEX_TIP],
    )
