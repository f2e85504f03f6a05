"""A bounded coverage-guided run of the WebSocket decoder fuzzer (atheris/libFuzzer), seeded with real
messages of every kind; a crash (any exception other than ProtocolError) fails it with the input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from facecoach.live.protocol import BLENDSHAPE_NAMES, encode_jpeg, encode_landmarks, encode_no_face
from tests.reliability.support import REPO, child_env, fresh_peak

pytest.importorskip("atheris")


def test_decoder_survives_coverage_guided_fuzzing(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    points = np.random.default_rng(1).uniform(0, 400, (478, 3)).astype(np.float32)
    seeds = {
        "landmarks": b"\x00"
        + encode_landmarks(1, 33.0, (640, 480), points, dict.fromkeys(BLENDSHAPE_NAMES, 0.1), 0.2),
        "no_face": b"\x00" + encode_no_face(2, 66.0, (640, 480)),
        "jpeg": b"\x00" + encode_jpeg(3, 99.0, (64, 48), b"\xff\xd8\xff\xe0" + bytes(200)),
        "control": b"\x02" + b'{"type": "start", "technique": "smile-lift", "mode": "landmarks", "reps": 3}',
    }
    for name, data in seeds.items():
        (corpus / name).write_bytes(data)
    artifacts = tmp_path / "crashes"
    artifacts.mkdir()
    args = [sys.executable, "-m", "tests.fuzz.atheris_protocol", "-runs=100000", "-max_len=8192",
            f"-artifact_prefix={artifacts}/", "-print_final_stats=1", str(corpus)]  # fmt: skip
    run = subprocess.run(
        fresh_peak(args), cwd=REPO, env=child_env(), capture_output=True, text=True, timeout=180
    )
    report = (run.stdout + run.stderr)[-3000:]
    assert run.returncode == 0, report
    assert "Done 100000 runs" in report and list(artifacts.iterdir()) == [], report


PEAK_PROBE = [
    sys.executable,
    "-c",
    "import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)",
]


def test_the_fuzzer_is_not_charged_with_its_parents_memory() -> None:
    """The cause of a flaky out-of-memory report: a child exec'd from a big process inherits its peak RSS
    (KiB), through ``fresh_peak`` it does not."""
    ballast = np.ones(400 * 1024 * 1024 // 8)  # 400 MB resident in this process
    direct = int(subprocess.run(PEAK_PROBE, capture_output=True, text=True, check=True).stdout)
    fresh = int(subprocess.run(fresh_peak(PEAK_PROBE), capture_output=True, text=True, check=True).stdout)
    assert ballast.sum() > 0
    assert direct > 400 * 1024 and fresh < 100 * 1024, (direct, fresh)
