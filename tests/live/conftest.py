"""Fixtures for the live-coaching tests: one headless Chromium per test session, real faces."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.live.clips import Clip, canvas, render_clip
from tests.support.browser import static_module_page

STATIC_LIVE = Path(__file__).resolve().parents[2] / "facecoach" / "web" / "static" / "live"


@pytest.fixture(scope="module")
def static_page(playwright_instance: Any) -> Iterator[Any]:
    """A page on a fake origin that serves ``facecoach/web/static/live/``."""
    with static_module_page(playwright_instance, "live") as page:
        yield page


# -- a real face doing known smile lifts ----------------------------------------------------------------


@dataclass(frozen=True)
class LandmarkedClip:
    clip: Clip
    # per frame: (timestamp_s, points (478, 3) px or None, blendshapes, crease energy or None)
    frames: list[tuple[float, np.ndarray | None, dict[str, float], float | None]]


@pytest.fixture(scope="session")
def live_face(astronaut: np.ndarray, image_landmarker: Any) -> tuple[np.ndarray, np.ndarray]:
    face = canvas(astronaut)
    found = image_landmarker.detect(face).faces
    assert len(found) == 1
    return face, found[0].points_px


@pytest.fixture(scope="session")
def smile_frames(live_face: tuple[np.ndarray, np.ndarray]) -> Clip:
    """2 smile lifts with 5 s holds at 15 fps, forehead creases painted in the second one (RGB frames)."""
    return render_clip(*live_face, reps=2, creased_rep=1, fps=15.0)


@pytest.fixture(scope="session")
def smile_clip(smile_frames: Clip) -> LandmarkedClip:
    """The same clip landmarked in Python (VIDEO mode), with each frame's crease energy."""
    from facecoach.coaching.wrinkle import forehead_crease_energy
    from facecoach.vision.landmarks import FaceLandmarker

    clip = smile_frames
    frames = []
    with FaceLandmarker(mode="video", max_faces=1) as lm:
        for i, rgb in enumerate(clip.frames):
            ts = i / clip.fps
            faces = lm.detect(rgb, ts).faces
            if faces:
                f = faces[0]
                frames.append((ts, f.points_px, f.blendshapes, forehead_crease_energy(rgb, f.points_px)))
            else:
                frames.append((ts, None, {}, None))
    return LandmarkedClip(clip, frames)


# -- the web app on a fresh database -----------------------------------------------------------------------


@dataclass
class LiveApp:
    app: Any
    db: Any
    settings: Any
    cached: dict[str, str] = field(default_factory=dict)

    def member(self, plan: str = "member", fresh: bool = True) -> str:
        """An account on ``plan``, signed in: the signed session cookie value (``fresh=False`` reuses one
        account per plan: argon2 hashing is deliberately slow)."""
        from facecoach.members.auth import create_user, start_session
        from facecoach.web.security import Signer

        if not fresh and plan in self.cached:
            return self.cached[plan]

        with self.db.session() as s:
            user = create_user(
                s, f"{plan}-{uuid.uuid4().hex[:10]}@example.com", "correct horse battery", plan=plan
            )
            sid = start_session(s, user).id
        cookie = Signer(self.settings.secret_key).sign(sid)
        self.cached.setdefault(plan, cookie)
        return cookie

    def member_id(self, cookie: str) -> int:
        from facecoach.members.auth import session_user
        from facecoach.web.security import Signer

        sid = Signer(self.settings.secret_key).unsign(cookie)
        assert sid is not None
        with self.db.session() as s:
            found = session_user(s, sid)
            assert found is not None
            return found[1].id

    def limits(self, **overrides: Any) -> None:
        """From now on serve an app built with its own settings: these live limits (the rest their
        defaults), the same database and secret."""
        from facecoach.config import LiveSettings
        from facecoach.web.app import create_app

        self.settings = self.settings.model_copy(update={"live": LiveSettings(**overrides)})
        self.app = create_app(self.settings, database=self.db)


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    from facecoach.config import Settings
    from facecoach.members.db import Database
    from facecoach.members.migrate import upgrade
    from facecoach.web.app import create_app

    folder = tmp_path_factory.mktemp("live-db")
    url = f"sqlite:///{folder / 'live.db'}"
    # No REDIS_URL from the environment: these tests count JPEG slots in this process only.
    settings = Settings(
        database_url=url, data_dir=folder, secret_key="live-tests-" + uuid.uuid4().hex, redis_url=""
    )
    db = Database.connect(url)
    upgrade(db)
    app = create_app(settings, database=db)
    yield LiveApp(app, db, settings)
    db.dispose()


@pytest.fixture(scope="module")
def server(live_app: LiveApp) -> Iterator[str]:
    """The app on a real uvicorn server on a free loopback port, in a thread."""
    import uvicorn

    from facecoach.live.protocol import max_message_bytes

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]

    async def current_app(scope: Any, receive: Any, send: Any) -> None:
        await live_app.app(scope, receive, send)  # the app the last live_app.limits() built

    config = uvicorn.Config(
        current_app,
        log_level="warning",
        lifespan="off",
        ws_max_size=max_message_bytes(live_app.settings.live),  # as `facecoach serve` runs it
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)
