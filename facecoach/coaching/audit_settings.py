"""The audit's frame-loop settings (``coaching/data/audit.yaml``, validated on load): the analysis rate,
the still-face gate and the hands' probe gate. Speed only: they decide which frames the models see, not
how a segment or a fault is judged."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from facecoach.vision.still_gate import GateSettings
from facecoach.yamlfile import load_yaml

DATA_FILE = Path(__file__).resolve().parent / "data" / "audit.yaml"


class StillGateSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool
    grid: int = Field(ge=4, le=64)
    threshold: float = Field(ge=0, le=64)  # grey levels
    margin: float = Field(ge=0, le=1)  # × the face's width
    max_reuse: int = Field(ge=0, le=10)  # frames in a row

    def gate(self) -> GateSettings | None:
        """The gate's settings, or None when it is off."""
        if not self.enabled or self.max_reuse == 0:
            return None
        return GateSettings(self.grid, self.threshold, self.margin, self.max_reuse)


class HandProbeGateSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool
    margin: float = Field(ge=0, le=3)  # × the face's width
    max_wait_s: float = Field(ge=0, le=10)


class AuditSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    analysis_fps: float = Field(gt=0, le=60)
    exact_rate: bool
    still_gate: StillGateSettings
    hand_probe_gate: HandProbeGateSettings
    second_hand_probe_s: float = Field(ge=0, le=5)  # s of video

    def hand_gate(self) -> GateSettings | None:
        """The pixel check that lets the hands put a probe off (None when off)."""
        g, h = self.still_gate, self.hand_probe_gate
        if not h.enabled or h.max_wait_s <= 0:
            return None
        return GateSettings(g.grid, g.threshold, h.margin, 0)


@lru_cache(maxsize=1)
def load_audit_settings() -> AuditSettings:
    """``coaching/data/audit.yaml``, validated."""
    return AuditSettings.model_validate(load_yaml(DATA_FILE.read_text("utf-8")))
