"""The one hand model used everywhere: MediaPipe Hand Landmarker, built from a pinned wheel (Apache-2.0).

MediaPipe publishes no ``hand_landmarker.task`` on a package registry, but the PyPI wheel
``mediapipe==0.10.21`` carries the hand solution's two TFLite models. ``scripts/build_hand_model.py``
(run by ``make install``) downloads that wheel without installing it, checks both models' SHA-256 and
zips them, stored uncompressed and 64-byte aligned with fixed timestamps, as ``hand_detector.tflite`` +
``hand_landmarks_detector.tflite`` — the layout the Tasks API (Python ``mediapipe==1.2.3`` and
``@mediapipe/tasks-vision`` in the browser) loads as a Hand Landmarker bundle. The bytes are
deterministic, so the bundle itself is pinned too.

Nothing is downloaded at run time. Before use the bundle's size and SHA-256 are checked, and so are its
members' names, sizes and SHA-256: anything else is refused, as for the face model
(:mod:`facecoach.vision.model`).
"""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from facecoach.config import REPO_DIR

#: The wheel the models come from (any platform's wheel carries the same model bytes).
WHEEL_REQUIREMENT = "mediapipe==0.10.21"


@dataclass(frozen=True)
class PinnedMember:
    """One TFLite model: where it sits in the wheel, its name in the bundle, its size and SHA-256."""

    wheel_path: str
    bundle_name: str
    size: int
    sha256: str


#: In bundle order (the palm detector first, as in MediaPipe's own bundles).
MEMBERS = (
    PinnedMember(
        "mediapipe/modules/palm_detection/palm_detection_full.tflite",
        "hand_detector.tflite",
        2_339_846,
        "1b14e9422c6ad006cde6581a46c8b90dd573c07ab7f3934b5589e7cea3f89a54",
    ),
    PinnedMember(
        "mediapipe/modules/hand_landmark/hand_landmark_full.tflite",
        "hand_landmarks_detector.tflite",
        5_478_917,
        "11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3",
    ),
)

#: The deterministic bundle written by :func:`build_bundle` from the two members above.
BUNDLE_SHA256 = "53fe5919c3703dd08129465ae2dcdcb39a957bca9dd17a6b4c7f8e511ee7c465"
BUNDLE_BYTES = 7_819_189
BUNDLE_NAME = "hand_landmarker.task"
#: Where ``make install`` writes the bundle (``var/`` is the project's generated-data folder).
DEFAULT_BUNDLE_PATH = REPO_DIR / "var" / "models" / BUNDLE_NAME

# Fixed zip metadata, so the same two models always give the same bundle bytes.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_ZIP_MODE = 0o100644 << 16  # a regular file, rw-r--r--
_ALIGN = 64  # bytes; each member's data starts on this boundary
_LOCAL_HEADER_BYTES = 30  # fixed part of a zip local file header


class HandModelError(RuntimeError):
    """The Hand Landmarker bundle (or the wheel it is built from) is missing or is not the pinned file."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_member(member: PinnedMember, data: bytes, where: str) -> None:
    """Refuse a model whose size or SHA-256 is not the pinned one (``where`` names it in the error)."""
    if len(data) != member.size:
        raise HandModelError(f"{where} has {len(data)} bytes, expected {member.size}")
    digest = sha256_hex(data)
    if digest != member.sha256:
        raise HandModelError(f"{where} has SHA-256 {digest}, expected {member.sha256}")


def build_bundle(models: dict[str, bytes]) -> bytes:
    """The ``hand_landmarker.task`` bytes from the two models, keyed by their bundle names.

    Each model is checked first. Members are stored (not deflated: the Tasks API maps them in place)
    with a fixed date and mode, so the output is byte-for-byte reproducible.
    """
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as bundle:
        for member in MEMBERS:
            data = models.get(member.bundle_name)
            if data is None:
                raise HandModelError(f"{member.bundle_name} is missing")
            check_member(member, data, member.bundle_name)
            info = zipfile.ZipInfo(member.bundle_name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3
            info.external_attr = _ZIP_MODE
            info.extra = _alignment_extra(out.tell(), member.bundle_name)
            bundle.writestr(info, data)
    return out.getvalue()


def _alignment_extra(header_offset: int, name: str) -> bytes:
    """A zip extra field that pads a member's data to start on a :data:`_ALIGN`-byte boundary.

    TFLite reads its tensors in place only from aligned memory; unaligned, it copies them and logs a
    warning. The padding uses the extra-field id of Android's zipalign (0xD935), which readers skip.
    """
    data_offset = header_offset + _LOCAL_HEADER_BYTES + len(name.encode()) + 4
    pad = -data_offset % _ALIGN
    return struct.pack("<HH", 0xD935, pad) + bytes(pad)


def models_from_wheel(wheel: Path) -> dict[str, bytes]:
    """The two pinned models read out of a mediapipe wheel, checked, keyed by their bundle names."""
    try:
        with zipfile.ZipFile(wheel) as whl:
            models = {}
            for member in MEMBERS:
                try:
                    data = whl.read(member.wheel_path)
                except KeyError:
                    raise HandModelError(f"{wheel.name} has no {member.wheel_path}") from None
                check_member(member, data, f"{member.wheel_path} in {wheel.name}")
                models[member.bundle_name] = data
            return models
    except zipfile.BadZipFile as exc:
        raise HandModelError(f"{wheel} is not a wheel (zip): {exc}") from None


def verify_bundle(data: bytes, where: str = BUNDLE_NAME) -> None:
    """Refuse anything but the pinned bundle: members first (the clearer message), then the whole file."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as bundle:
            names = [info.filename for info in bundle.infolist()]
            expected = [m.bundle_name for m in MEMBERS]
            if names != expected:
                raise HandModelError(f"{where} holds {names}, expected exactly {expected}")
            for member in MEMBERS:
                check_member(member, bundle.read(member.bundle_name), f"{member.bundle_name} in {where}")
    except zipfile.BadZipFile as exc:
        raise HandModelError(f"{where} is not a model bundle (zip): {exc}") from None
    if len(data) != BUNDLE_BYTES or sha256_hex(data) != BUNDLE_SHA256:
        raise HandModelError(
            f"{where} has {len(data)} bytes and SHA-256 {sha256_hex(data)}, expected {BUNDLE_BYTES} "
            f"bytes and {BUNDLE_SHA256} (rebuild it with `make install`)"
        )


def hand_model_bytes(path: Path | None = None) -> bytes:
    """The verified bundle's bytes (MediaPipe loads them from a buffer; the web app can serve them).

    ``path``: the bundle to read, else :data:`DEFAULT_BUNDLE_PATH`. Raises :class:`HandModelError` if the
    file is absent or is not the pinned bundle. Verified once per path and file state (size, mtime).
    """
    path = path or DEFAULT_BUNDLE_PATH
    try:
        stat = path.stat()
    except OSError:
        stat = None
    return _verified_bytes(path, (stat.st_size, stat.st_mtime_ns) if stat else None)


@lru_cache(maxsize=4)
def _verified_bytes(path: Path, state: tuple[int, int] | None) -> bytes:
    if state is None or not path.is_file():
        raise HandModelError(
            f"the Hand Landmarker bundle is not at {path}: run `make install` "
            f"(scripts/build_hand_model.py builds it from the {WHEEL_REQUIREMENT} wheel)"
        )
    data = path.read_bytes()
    verify_bundle(data, str(path))
    return data
