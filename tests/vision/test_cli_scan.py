"""``facecoach scan`` end to end: in a real subprocess where file-descriptor-level output matters (MediaPipe
logs from C++ straight to fd 2), in process with Typer's runner elsewhere (an import costs seconds)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from facecoach.cli import app

RUN = [sys.executable, "-c", "from facecoach.cli import main; main()", "scan"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RUN, *args], capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def photo_json(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, object], Path]:
    out = tmp_path_factory.mktemp("annot") / "scan.png"
    proc = _run(str(shared_data / "smile_man.jpg"), "--json", "--annotate", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return json.loads(proc.stdout), out


def test_json_is_one_document_with_the_issue_keys(photo_json: tuple[dict[str, object], Path]) -> None:
    data, _ = photo_json
    assert set(data) >= {"head_pose", "mm_per_px", "frames_used", "asymmetry", "noise_mm", "notes"}
    asym = data["asymmetry"]
    assert isinstance(asym, dict)
    assert {
        "brow_height_mm",
        "eye_opening_mm",
        "mouth_corner_mm",
        "lower_face_width_mm",
        "midline_deviation_deg",
    } <= set(asym)
    assert data["noise_mm"] is None and data["frames_used"] == 1


def test_annotate_writes_a_larger_picture(
    photo_json: tuple[dict[str, object], Path], shared_data: Path
) -> None:
    _, out = photo_json
    with Image.open(out) as im:
        assert im.format == "PNG"
        assert im.width >= 900  # enlarged for legible labels
        drawn = np.asarray(im.convert("RGB"))
    orig = np.asarray(
        Image.open(shared_data / "smile_man.jpg").convert("RGB").resize((drawn.shape[1], drawn.shape[0]))
    )
    assert (
        np.mean(np.abs(drawn.astype(int) - orig.astype(int)).sum(axis=2) > 60) > 0.005
    )  # something was drawn


def test_readable_summary(shared_data: Path, tmp_path: Path, astronaut: np.ndarray) -> None:
    photo = tmp_path / "astronaut.png"
    Image.fromarray(astronaut).save(photo)
    result = CliRunner().invoke(app, ["scan", str(photo)])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Face scan" in out and "brow" in out and "lower face" in out and "mm" in out
    assert "trace of a smile" in out  # her slight smile: measured, with a note
    refused = CliRunner().invoke(app, ["scan", str(shared_data / "surprise_f1.jpg")])
    assert refused.exit_code == 2 and "scan refused (expression)" in refused.stderr
    assert "raised brows" in refused.stderr


def test_refusal_is_one_stderr_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "face.jpg"
    bad.write_bytes(b"not an image at all")
    result = CliRunner().invoke(app, ["scan", str(bad), "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "unreadable" in lines[0]


def test_no_face_refusal(tmp_path: Path) -> None:
    blank = tmp_path / "blank.png"
    Image.new("RGB", (320, 240), (128, 128, 128)).save(blank)
    proc = _run(str(blank), "--annotate", str(tmp_path / "out.png"))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "no_face" in proc.stderr
    assert not (tmp_path / "out.png").exists()


def test_damaged_video_refusal_is_one_line(tmp_path: Path, shared_data: Path) -> None:
    """FFmpeg's own complaints about the file must not reach stderr beside ours."""
    cut = tmp_path / "cut.mp4"
    cut.write_bytes((shared_data / "woman_expressions_24fps.mp4").read_bytes()[:4000])
    proc = _run(str(cut))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "unreadable" in proc.stderr


@pytest.mark.parametrize("target", ["out.xyz", "missing-folder/out.png"])
def test_bad_annotation_target_is_a_refusal(tmp_path: Path, shared_data: Path, target: str) -> None:
    result = CliRunner().invoke(
        app, ["scan", str(shared_data / "happy_f15.jpg"), "--json", "--annotate", str(tmp_path / target)]
    )
    assert result.exit_code == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert "--annotate must name" in result.stderr or "cannot write" in result.stderr
