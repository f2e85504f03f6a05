"""The ground everything stands on: the pinned model asset and the CLI entry point."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from facecoach.cli import app
from facecoach.vision import model


def test_model_asset_is_the_pinned_file() -> None:
    path = model.model_path()
    assert path.stat().st_size == model.MODEL_BYTES
    assert model._sha256(path) == model.MODEL_SHA256


def test_altered_model_asset_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "face_landmarker.task"
    fake.write_bytes(b"\0" * model.MODEL_BYTES)
    with pytest.raises(model.ModelAssetError, match="SHA-256"):
        model.model_path(fake)  # the model_path setting, passed as an argument


def test_cli_help_lists_commands() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "serve" in result.output
