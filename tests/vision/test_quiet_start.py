"""MediaPipe's start-up log is held back at the file-descriptor level; everything else gets through."""

from __future__ import annotations

import os

import pytest

from facecoach.vision.landmarks import FaceLandmarker, native_stderr_captured


def test_start_up_noise_is_dropped_and_other_lines_kept(capfd: pytest.CaptureFixture[str]) -> None:
    with native_stderr_captured():
        os.write(2, b"W0000 00:00:1.0 1 face_landmarker_graph.cc:181] Sets FaceBlendshapesGraph\n")
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        os.write(2, b"another thread's real message\n")
    err = capfd.readouterr().err
    assert err == "another thread's real message\n"


def test_everything_is_given_back_when_creation_fails(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RuntimeError), native_stderr_captured():
        os.write(2, b"W0000 the graph could not be built\n")
        raise RuntimeError("boom")
    assert "the graph could not be built" in capfd.readouterr().err


def test_creating_a_landmarker_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    with FaceLandmarker(mode="video", max_faces=1):
        pass
    assert capfd.readouterr().err == ""
