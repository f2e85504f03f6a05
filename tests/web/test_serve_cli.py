"""`facecoach serve` refuses a setting it cannot honour with one line, before it listens."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _serve(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "FACECOACH_REDIS_URL")}
    clean.update(DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}", **env)
    return subprocess.run(
        [sys.executable, "-m", "facecoach.cli", "serve", "--port", "0"],
        capture_output=True,
        text=True,
        env=clean,
        timeout=120,
    )


def test_redis_queue_without_redis_url_is_refused_in_one_line(tmp_path: Path) -> None:
    result = _serve(tmp_path, FACECOACH_JOB_QUEUE="redis")
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("facecoach:")]
    assert errors == ["facecoach: the audit queue cannot start: the Redis job queue needs REDIS_URL"]
    assert "Traceback" not in result.stderr
    assert "facecoach on http" not in result.stdout
