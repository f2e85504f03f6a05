"""The few face-scan figures the planner uses, read from the JSON ``facecoach scan --json`` prints.

Our own small model (extra keys ignored) so the planner does not depend on the vision code. Signed
values are LEFT minus RIGHT, the person's own sides, in millimetres: ``brow_height_mm > 0`` the left brow
sits higher; ``mouth_corner_mm > 0`` the left corner sits higher; ``lower_face_width_mm > 0`` the left lower
face is wider ("bulkier").
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from facecoach.planning.assessment import describe_validation_error


class ScanError(ValueError):
    """A scan file the planner cannot use: the message names the field and the reason."""


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Asymmetry(_Loose):
    brow_height_mm: float | None = None
    eye_opening_mm: float | None = None
    mouth_corner_mm: float | None = None
    lower_face_width_mm: float | None = None
    midline_deviation_deg: float | None = None

    @field_validator("*", mode="after")
    @classmethod
    def _finite_and_plausible(cls, v: float | None) -> float | None:
        """An asymmetry beyond 45 mm (or 45°) is a measurement failure, not a face."""
        if v is not None and (not math.isfinite(v) or abs(v) > 45):
            raise ValueError("must be a finite number of millimetres (|value| ≤ 45)")
        return v


class ScanSummary(_Loose):
    asymmetry: Asymmetry
    noise_mm: dict[str, float | None] | None = None
    notes: list[str] = []

    def noise(self, field: str) -> float:
        """The measurement noise of one asymmetry figure in mm (0 when the scan did not estimate it)."""
        if not self.noise_mm:
            return 0.0
        value = self.noise_mm.get(field)
        if value is None:
            value = self.noise_mm.get(field.removesuffix("_mm").removesuffix("_deg"))
        return float(value) if value is not None and math.isfinite(value) and value > 0 else 0.0


def parse_scan(data: Any, source: str = "scan") -> ScanSummary:
    if isinstance(data, ScanSummary):
        return data
    if not isinstance(data, dict):
        raise ScanError(f"{source}: must be the JSON object `facecoach scan --json` prints")
    try:
        return ScanSummary.model_validate(data)
    except ValidationError as exc:
        raise ScanError(f"{source}: {describe_validation_error(exc)}") from None


def load_scan(path: Path | str) -> ScanSummary:
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ScanError(f"{p}: cannot read the scan file ({exc.__class__.__name__})") from None
    except json.JSONDecodeError as exc:
        raise ScanError(f"{p}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:  # hostile nesting ([[[[…]]]]) overflows the JSON decoder's stack
        raise ScanError(f"{p}: not a valid scan (nested too deeply)") from None
    return parse_scan(data, source=str(p))
