"""Vision fixtures: the real face photos, one scan-ready landmarker and the baseline scans per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from facecoach.vision.landmarks import FaceLandmarker
from facecoach.vision.scan import MAX_FACES, ScanResult
from facecoach.vision.scan_photo import scan_image

PHOTO_FILES = ("surprise_f1.jpg", "happy_f15.jpg", "smile_man.jpg")


@pytest.fixture(scope="session")
def photos(shared_data: Path, astronaut: np.ndarray) -> dict[str, np.ndarray]:
    """Real single-face photos: the shared ones and skimage's astronaut (RGB uint8)."""
    out = {"astronaut": astronaut}
    for name in PHOTO_FILES:
        out[name.removesuffix(".jpg")] = np.asarray(Image.open(shared_data / name).convert("RGB"))
    return out


@pytest.fixture(scope="session")
def scan_landmarker() -> Iterator[FaceLandmarker]:
    with FaceLandmarker(mode="image", max_faces=MAX_FACES) as lm:
        yield lm


@pytest.fixture(scope="session")
def base_scans(photos: dict[str, np.ndarray], scan_landmarker: FaceLandmarker) -> dict[str, ScanResult]:
    return {name: scan_image(rgb, scan_landmarker, require_neutral=False) for name, rgb in photos.items()}


def rotate(rgb: np.ndarray, degrees: float) -> np.ndarray:
    """Turn a picture about its centre (positive: counter-clockwise on screen), same size."""
    h, w = rgb.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return np.ascontiguousarray(
        cv2.warpAffine(rgb, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    )


def rescale(rgb: np.ndarray, factor: float) -> np.ndarray:
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    return np.ascontiguousarray(cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=interp))


def shift(rgb: np.ndarray, dx: float, dy: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return np.ascontiguousarray(cv2.warpAffine(rgb, m, (w, h), borderMode=cv2.BORDER_REFLECT))
