"""Between-session noise of every scan measure, and which changes are real.

Pure functions. A check-in's value moves between sessions even when the face does not (pose, light,
distance, a not-quite-identical neutral face): that movement's SD, ``sd``, sets the minimal detectable
change MDC95 = 1.96 · √2 · sd, the smallest difference between two check-ins that is real with 95 %
confidence. A change is reported only beyond it.

**Where sd comes from.** The documented prior (``noise_prior.yaml``, measured by bench/bench_retest.py on
real faces) until the member's own check-ins say otherwise. The member's own estimate uses successive
differences of check-ins taken at most ``max_gap_days`` apart: Var(x₂ − x₁) = 2 sd² when nothing
changed, so s² = Σ d² / (2m) over m differences (the mean squared successive difference). A slow real
change adds a little to each difference, so it can only make the estimate larger — reporting fewer
changes, never more. The two are pooled as a scaled-inverse-χ² prior with ``prior_df`` pseudo-differences
would be: sd² = (ν₀ sd₀² + m s²) / (ν₀ + m), the prior's weight falling as the member's evidence grows,
and never below the check-ins' own in-clip jitter (spread² / frames).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field, model_validator

from facecoach.vision.asymmetry import KEYS
from facecoach.yamlfile import load_yaml

#: Two-sided 95 % normal quantile.
Z95 = 1.96


class _MeasurePrior(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    sd: float = Field(gt=0, le=20)


class NoisePrior(BaseModel):
    """The documented prior (``noise_prior.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    prior_df: float = Field(gt=0, le=100)
    max_gap_days: float = Field(gt=0, le=365)
    measures: dict[str, _MeasurePrior]

    @model_validator(mode="after")
    def _all_measures(self) -> NoisePrior:
        if set(self.measures) != set(KEYS):
            raise ValueError(f"noise_prior.yaml must give exactly {sorted(KEYS)}")
        return self


@lru_cache(maxsize=1)
def load_prior() -> NoisePrior:
    """The validated prior (cached; a malformed file raises ``ValueError`` on first use)."""
    text = resources.files("facecoach.progress").joinpath("noise_prior.yaml").read_text("utf-8")
    return NoisePrior.model_validate(load_yaml(text))


@dataclass(frozen=True)
class CheckinValues:
    """One check-in as the noise model sees it: when, the value of each measure (mm or °), and the
    in-clip spread (SD over the clip's frames, same units) with the number of frames behind the value."""

    when: dt.datetime
    values: Mapping[str, float]
    spread: Mapping[str, float]
    frames: int = 1


@dataclass(frozen=True)
class MeasureNoise:
    """The between-session SD of one measure and how it was reached."""

    key: str
    sd: float
    prior_sd: float
    own_sd: float | None  # from the member's successive check-ins, None before the first usable pair
    own_df: int  # successive differences behind own_sd
    prior_df: float

    @property
    def mdc95(self) -> float:
        """Smallest real difference between two check-ins (95 % confidence), in the measure's unit."""
        return Z95 * math.sqrt(2.0) * self.sd

    @property
    def own_weight(self) -> float:
        """Share of the member's own data in the pooled variance (0 = the prior alone)."""
        return self.own_df / (self.own_df + self.prior_df)


def successive_differences(points: Sequence[CheckinValues], key: str, max_gap_days: float) -> list[float]:
    """Differences of consecutive check-ins (in time order) at most ``max_gap_days`` apart."""
    ordered = sorted(points, key=lambda p: p.when)
    out = []
    for a, b in itertools.pairwise(ordered):
        gap = (b.when - a.when).total_seconds() / 86400.0
        if gap <= max_gap_days and key in a.values and key in b.values:
            out.append(float(b.values[key]) - float(a.values[key]))
    return out


def _in_clip_floor(points: Sequence[CheckinValues], key: str) -> float:
    """RMS standard error of the check-ins' own means (spread / √frames): sd can never be below it."""
    terms = [p.spread[key] ** 2 / max(p.frames, 1) for p in points if key in p.spread]
    return math.sqrt(sum(terms) / len(terms)) if terms else 0.0


def estimate_noise(
    points: Sequence[CheckinValues], prior: NoisePrior | None = None
) -> dict[str, MeasureNoise]:
    """Each measure's between-session noise, pooled from the prior and the member's check-ins."""
    prior = prior or load_prior()
    out = {}
    for key in KEYS:
        sd0 = prior.measures[key].sd
        diffs = successive_differences(points, key, prior.max_gap_days)
        m = len(diffs)
        own = math.sqrt(sum(d * d for d in diffs) / (2 * m)) if m else None
        var = (prior.prior_df * sd0**2 + m * (own or 0.0) ** 2) / (prior.prior_df + m)
        sd = max(math.sqrt(var), _in_clip_floor(points, key))
        out[key] = MeasureNoise(key, sd, sd0, own, m, prior.prior_df)
    return out


@dataclass(frozen=True)
class Change:
    """The change of one measure from the first check-in to the latest, and whether it is beyond noise."""

    key: str
    baseline: float
    latest: float
    mdc95: float

    @property
    def delta(self) -> float:
        return self.latest - self.baseline

    @property
    def beyond_noise(self) -> bool:
        return abs(self.delta) > self.mdc95

    @property
    def toward_symmetry(self) -> bool:
        """The asymmetry got smaller in size (closer to zero)."""
        return abs(self.latest) < abs(self.baseline)


def change_between(
    before: Mapping[str, float], after: Mapping[str, float], noise: Mapping[str, MeasureNoise]
) -> dict[str, Change]:
    """Per measure: ``before`` → ``after`` with the MDC95 it must exceed to be called a change."""
    return {
        key: Change(key, float(before[key]), float(after[key]), noise[key].mdc95)
        for key in KEYS
        if key in before and key in after
    }


def changes(points: Sequence[CheckinValues], noise: Mapping[str, MeasureNoise]) -> dict[str, Change]:
    """First check-in → latest check-in, per measure (empty with fewer than two check-ins)."""
    if len(points) < 2:
        return {}
    ordered = sorted(points, key=lambda p: p.when)
    return change_between(ordered[0].values, ordered[-1].values, noise)
