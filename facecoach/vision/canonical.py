"""MediaPipe's canonical face model, read from the verified Face Landmarker asset itself.

The ``face_landmarker.task`` bundle carries ``geometry_pipeline_metadata_landmarks.binarypb``: the
canonical 468-vertex face mesh (centimetres, exactly left-right symmetric) and the weighted landmark
basis MediaPipe uses for its own Procrustes head-pose fit. Reading it from the pinned asset (rather than
a copy in the repository) keeps one source of truth shared with the browser.

The protobuf is decoded with a tiny wire-format reader (no generated classes are shipped with the wheel):
``FaceGeometryPipelineMetadata{1: Mesh3d canonical_mesh, 2: repeated WeightedLandmarkRef basis}``,
``Mesh3d{3: repeated float vertex_buffer}`` with 5 floats per vertex (x, y, z, u, v),
``WeightedLandmarkRef{1: uint32 landmark_id, 2: float weight}``.

Coordinates are converted to the *face frame* used across facecoach: +x toward the person's left,
+y down (toward the chin), +z away from the camera (into the head). MediaPipe's canonical model has
+y up and +z out of the face, so y and z flip (a proper rotation, 180° about x).
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from facecoach.vision.model import model_path

METADATA_NAME = "geometry_pipeline_metadata_landmarks.binarypb"
N_MESH = 468

# The iris points are not in the canonical mesh; each iris is its centre then four contour points.
# Mirror partners were checked on real photos (a mirrored image's iris contour maps this way).
IRIS_MIRROR = {468: 473, 469: 476, 470: 475, 471: 474, 472: 477}


@dataclass(frozen=True)
class CanonicalFace:
    """``vertices`` (468, 3) cm in the face frame; ``basis_ids``/``basis_weights``: Procrustes basis;
    ``mirror`` (478,) index of each landmark's left-right partner (itself on the midline)."""

    vertices: NDArray[np.float64]
    basis_ids: NDArray[np.int64]
    basis_weights: NDArray[np.float64]
    mirror: NDArray[np.int64]


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[i]
        i += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, i


def _fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        field, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 1:
            value, i = buf[i : i + 8], i + 8
        elif wire == 2:
            n, i = _varint(buf, i)
            value, i = buf[i : i + n], i + n
        elif wire == 5:
            value, i = buf[i : i + 4], i + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield field, wire, value


def _parse(buf: bytes) -> tuple[NDArray[np.float64], list[tuple[int, float]]]:
    floats: list[float] = []
    basis: list[tuple[int, float]] = []
    for field, _, value in _fields(buf):
        if field == 1 and isinstance(value, bytes):
            for sub, wire, item in _fields(value):
                if sub != 3 or not isinstance(item, bytes):
                    continue
                if wire == 5:
                    floats.append(struct.unpack("<f", item)[0])
                else:  # packed encoding
                    floats.extend(np.frombuffer(item, "<f4").tolist())
        elif field == 2 and isinstance(value, bytes):
            ref = {f: v for f, _, v in _fields(value)}
            weight = ref.get(2, b"\0\0\0\0")
            basis.append(
                (int(ref.get(1, 0)), struct.unpack("<f", weight)[0] if isinstance(weight, bytes) else 0.0)
            )  # type: ignore[arg-type]
    vertex = np.asarray(floats, dtype=np.float64).reshape(-1, 5)[:, :3]
    return vertex, basis


@lru_cache(maxsize=1)
def canonical_face() -> CanonicalFace:
    """The canonical face, its Procrustes basis and the left-right landmark pairing (cached)."""
    with zipfile.ZipFile(model_path()) as bundle:
        raw = bundle.read(METADATA_NAME)
    vertex, basis = _parse(raw)
    if vertex.shape != (N_MESH, 3) or not basis:
        raise ValueError(f"unexpected canonical face metadata: {vertex.shape}, {len(basis)} basis points")
    vertices = vertex * np.array([1.0, -1.0, -1.0])
    mirrored = vertices * np.array([-1.0, 1.0, 1.0])
    dist = np.linalg.norm(vertices[None, :, :] - mirrored[:, None, :], axis=2)
    mirror = np.concatenate([np.argmin(dist, axis=1), np.arange(N_MESH, N_MESH + 10)])
    for a, b in IRIS_MIRROR.items():
        mirror[a], mirror[b] = b, a
    ids = np.array([b[0] for b in basis], dtype=np.int64)
    weights = np.array([b[1] for b in basis], dtype=np.float64)
    return CanonicalFace(vertices, ids, weights, mirror.astype(np.int64))
