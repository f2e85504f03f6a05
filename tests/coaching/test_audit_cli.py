"""``facecoach audit`` end to end on a small mp4 of a warped real face, and its refusals."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from facecoach.cli import app
from facecoach.coaching.audit import AuditResult, audit_video
from facecoach.config import InputLimits
from tests.coaching.synth import FaceWarper, render, rep_script

FPS = 30.0


@pytest.fixture(scope="module")
def smile_video(tmp_path_factory: pytest.TempPathFactory, warpers: Callable[[str], FaceWarper]) -> Path:
    """Two 5 s smile holds (smile-lift's own hold), the person's left corner only in the second."""
    warper = warpers("astronaut")
    script = rep_script("smile", 1, 5.4, rest_s=1.0)
    script.segments.extend(rep_script("smile_left_only", 1, 5.4, rest_first_s=0.0, rest_s=1.0).segments)
    path = tmp_path_factory.mktemp("audit") / "smile.mp4"
    h, w = warper.image.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), FPS, (w, h))
    for _t, rgb in render(warper, script, FPS):
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def invoke(args: list[str]) -> tuple[int, str, str]:
    res = CliRunner().invoke(app, args, env={"COLUMNS": "160"})
    return res.exit_code, res.stdout, res.stderr


def test_audit_json_is_exactly_the_contract(smile_video: Path, tmp_path: Path) -> None:
    out = tmp_path / "annotated.mp4"
    code, stdout, stderr = invoke(
        ["audit", str(smile_video), "--technique", "smile-lift", "--json", "--annotate", str(out)]
    )
    assert code == 0, stderr
    data = json.loads(stdout)
    assert set(data) == {
        "technique",
        "fps",
        "duration_s",
        "calibration",
        "reps",
        "holds",
        "faults",
        "hands",
        "strokes",
        "massage",
    }
    assert data["hands"] == [] and data["strokes"] == [] and data["massage"] is None  # no hand in this clip
    AuditResult.model_validate(data)
    assert data["technique"] == "smile-lift"
    assert data["fps"] == pytest.approx(FPS, abs=0.1)
    assert data["duration_s"] == pytest.approx(2.0 + 2 * (0.8 + 5.4 + 1.0), abs=0.1)
    assert data["calibration"]["start_s"] == 0.0 and 1.4 <= data["calibration"]["end_s"] <= 2.0
    assert data["reps"] == 2
    assert [h["completed"] for h in data["holds"]] == [True, True]
    assert abs(data["holds"][0]["start_s"] - 2.4) < 0.5
    assert abs(data["holds"][1]["start_s"] - (2.0 + 7.2 + 0.4)) < 0.5
    assert all(set(h) == {"start_s", "end_s", "seconds", "completed"} for h in data["holds"])
    # the one-sided second rep is the only fault: the right side lags
    assert [(f["kind"], f["side"]) for f in data["faults"]] == [("asymmetry", "right")]
    fault = data["faults"][0]
    assert set(fault) == {"kind", "side", "start_s", "end_s", "cue"}
    assert abs(fault["start_s"] - 9.6) < 0.5 and fault["end_s"] > fault["start_s"]
    # the annotated video has every frame, at the same size and rate
    cap = cv2.VideoCapture(str(out))
    assert cap.isOpened()
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == round(data["duration_s"] * FPS)
    assert int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) == 512
    cap.release()


def test_audit_timeline_text_and_progress(smile_video: Path) -> None:
    seen: list[tuple[int, int]] = []
    result = audit_video(
        smile_video,
        "smile-lift",
        limits=InputLimits(),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert result.reps == 2
    for hold in result.holds:  # the held time is the time between start and release (no gaps here)
        assert hold.seconds == pytest.approx(hold.end_s - hold.start_s, abs=0.25)
        assert hold.seconds >= 5.0
    assert seen and seen[-1][1] > 0 and seen[-1][0] <= seen[-1][1]
    code, stdout, _ = invoke(["audit", str(smile_video), "--technique", "smile-lift"])
    assert code == 0
    assert "reps: 2" in stdout and "asymmetry (right)" in stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--technique", "no-such-thing"], "unknown technique"),
    ],
)
def test_refusals_for_the_technique(smile_video: Path, args: list[str], message: str) -> None:
    code, stdout, stderr = invoke(["audit", str(smile_video), *args, "--json"])
    assert code == 2 and stdout == ""
    assert message in stderr and len(stderr.strip().splitlines()) == 1


def test_a_massage_is_audited_from_its_strokes(smile_video: Path) -> None:
    """A massage is no longer refused: it is judged from its strokes (none here: no hand in the clip)."""
    code, stdout, stderr = invoke(["audit", str(smile_video), "--technique", "jaw-release", "--json"])
    assert code == 0, stderr
    data = json.loads(stdout)
    assert data["technique"] == "jaw-release" and data["strokes"] == [] and data["hands"] == []
    assert data["massage"]["completed"] is False and data["massage"]["per_side"]["right"] == 0
    assert [f["kind"] for f in data["faults"]] == ["side_skipped", "side_skipped"]


def test_refusals_for_the_video(tmp_path: Path, shared_data: Path) -> None:
    bad = tmp_path / "not-a-video.mp4"
    bad.write_text("hello")
    for path, message in [
        (tmp_path / "missing.mp4", "missing.mp4"),
        (bad, "not a JPEG, PNG or WebP image nor an MP4"),
        (shared_data / "happy_f15.jpg", "picture"),
        (shared_data / "cartoon_no_face.mp4", "no usable face"),
    ]:
        code, stdout, stderr = invoke(["audit", str(path), "--technique", "smile-lift", "--json"])
        assert code == 2 and stdout == "", path
        assert message in stderr and len(stderr.strip().splitlines()) == 1, stderr


def test_two_trackers_find_what_one_finds(smile_video: Path) -> None:
    """The audit alternates frames between two landmarkers on two threads: same reps, holds, faults."""
    one = audit_video(smile_video, "smile-lift", limits=InputLimits(), parallel=False)
    two = audit_video(smile_video, "smile-lift", limits=InputLimits(), parallel=True)
    assert one.reps == two.reps == 2
    assert [h.completed for h in one.holds] == [h.completed for h in two.holds]
    for a, b in zip(one.holds, two.holds, strict=True):
        assert abs(a.start_s - b.start_s) <= 0.2 and abs(a.end_s - b.end_s) <= 0.2
    assert [(f.kind, f.side) for f in one.faults] == [(f.kind, f.side) for f in two.faults]


@pytest.fixture(scope="module")
def tutorial_video(tmp_path_factory: pytest.TempPathFactory, warpers: Callable[[str], FaceWarper]) -> Path:
    """A portrait video (the face on a tall canvas) at 15 fps: rest, a brow raise with forehead
    creases, rest, two one-sided smiles, rest — then the face leaves the frame, and two people come in."""
    from tests.coaching.synth import Script, Segment

    warper = warpers("happy_f15.jpg")
    script = Script(
        [
            Segment(2.0),
            *rep_script("brows_up", 2, 3.0, rest_first_s=0.0, rest_s=1.5, creases_in_hold=1.0).segments,
            Segment(2.0),
            *rep_script("smile_left_only", 2, 5.4, rest_first_s=0.0, rest_s=1.5).segments,
        ]
    )
    h, w = warper.image.shape[:2]
    tall = (w, h + 200)
    path = tmp_path_factory.mktemp("audit") / "tutorial.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 15.0, tall)

    def put(rgb: np.ndarray) -> None:
        canvas = np.full((tall[1], tall[0], 3), 60, np.uint8)
        canvas[100 : 100 + h] = rgb
        writer.write(cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))

    for _t, rgb in render(warper, script, 15.0):
        put(rgb)
    blank = np.full((h, w, 3), 60, np.uint8)
    for _ in range(30):  # 2 s without a face
        put(blank)
    group = cv2.imread(str(Path(__file__).parents[2].parent / "shared" / "data" / "group_five.jpg"))
    assert group is not None
    # two of its five people, cropped so that their faces are large enough to be found
    crowd = np.full((h, w, 3), 60, np.uint8)
    crowd[: round(w * 270 / 380)] = cv2.resize(group[250:520, 480:860], (w, round(w * 270 / 380)))[..., ::-1]
    for _ in range(30):  # 2 s of several people
        put(crowd)
    writer.release()
    return path


SEGMENT_KEYS = {
    "start_s",
    "end_s",
    "kind",
    "technique",
    "confidence",
    "reps",
    "holds",
    "faults",
    "trains_overused",
}


def test_any_audit_json_is_the_contract(tutorial_video: Path) -> None:
    code, stdout, stderr = invoke(["audit", str(tutorial_video), "--json"])
    assert code == 0, stderr
    data = json.loads(stdout)
    assert {"verdict", "segments", "calibration", "hands"} <= set(data)
    assert set(data["verdict"]) >= {"level", "reasons"} and data["verdict"]["level"] == "unsafe"
    assert data["hands"] == []
    assert data["calibration"]["neutral"] is True and data["calibration"]["start_s"] == 0.0
    for seg in data["segments"]:
        assert set(seg) >= SEGMENT_KEYS
        assert seg["kind"] in {"rest", "exercise", "massage", "unrecognised"}
        for fault in seg["faults"]:
            assert set(fault) == {"kind", "side", "start_s", "end_s", "cue"}
    moves = [s for s in data["segments"] if s["action"]]
    assert [s["action"] for s in moves] == ["brows_up", "smile"]
    assert moves[0]["trains_overused"] == ["frontalis"] and moves[0]["technique"] is None
    assert moves[1]["technique"] == "smile-lift"
    assert any(f["kind"] == "asymmetry" and f["side"] == "right" for f in moves[1]["faults"])
    # the face leaving and two people coming in are segments of their own, not errors
    views = [s["view"] for s in data["segments"]]
    assert "no_face" in views and "several_faces" in views
    last_face = max(s["end_s"] for s in data["segments"] if s["view"] == "face")
    crowd = next(s for s in data["segments"] if s["view"] == "several_faces")
    assert crowd["start_s"] >= last_face - 0.01 and data["segments"][-1]["end_s"] == data["duration_s"]
    # the text report says the verdict in one sentence
    code, stdout, _ = invoke(["audit", str(tutorial_video)])
    assert code == 0 and "Safe to follow: no, because" in stdout and "frontalis" in stdout


def test_technique_audit_reports_the_neutral_check(smile_video: Path) -> None:
    result = audit_video(smile_video, "smile-lift", limits=InputLimits())
    cal = result.calibration
    assert cal.neutral and cal.reasons == [] and cal.waited_s == 0.0 and cal.rereferenced == []


def test_annotate_needs_a_technique(smile_video: Path, tmp_path: Path) -> None:
    code, stdout, stderr = invoke(["audit", str(smile_video), "--annotate", str(tmp_path / "a.mp4")])
    assert code == 2 and stdout == "" and "--technique" in stderr
