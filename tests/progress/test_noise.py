"""The noise model: the documented prior until the member's own check-ins say otherwise (pure)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
import yaml

from facecoach.progress.noise import (
    CheckinValues,
    NoisePrior,
    change_between,
    changes,
    estimate_noise,
    load_prior,
    successive_differences,
)
from facecoach.vision.asymmetry import KEYS
from facecoach.yamlfile import load_yaml

T0 = dt.datetime(2026, 1, 5, 9, 0)


def _prior(sd: float = 0.5, df: float = 4.0, gap: float = 21.0) -> NoisePrior:
    return NoisePrior(prior_df=df, max_gap_days=gap, measures={k: {"sd": sd} for k in KEYS})


def _series(values: list[float], every_days: float = 7.0, spread: float = 0.0, frames: int = 12) -> list:
    return [
        CheckinValues(
            T0 + dt.timedelta(days=i * every_days),
            dict.fromkeys(KEYS, v),
            dict.fromkeys(KEYS, spread),
            frames,
        )
        for i, v in enumerate(values)
    ]


def test_the_shipped_prior_is_the_measured_table() -> None:
    prior = load_prior()
    assert set(prior.measures) == set(KEYS)
    # docs/scan.md "Between captures": prior SD rounded up to 0.05 (brow 0.19 → 0.20, widths 2.85 → 2.90).
    assert prior.measures["brow_height_mm"].sd == 0.20
    assert prior.measures["lower_face_width_mm"].sd == 2.90
    assert prior.prior_df == 4


def test_a_prior_without_every_measure_is_refused() -> None:
    raw = load_yaml("prior_df: 4\nmax_gap_days: 21\nmeasures:\n  brow_height_mm: {sd: 0.2}\n")
    with pytest.raises(ValueError, match="exactly"):
        NoisePrior.model_validate(raw)
    with pytest.raises(yaml.YAMLError, match="twice"):
        load_yaml("prior_df: 4\nprior_df: 5\n")


def test_with_one_checkin_the_prior_alone_decides() -> None:
    noise = estimate_noise(_series([1.0]), _prior(0.5))
    for n in noise.values():
        assert n.sd == pytest.approx(0.5) and n.own_sd is None and n.own_weight == 0.0
        assert n.mdc95 == pytest.approx(1.96 * math.sqrt(2) * 0.5)


def test_the_members_own_noise_takes_over_as_check_ins_add_up() -> None:
    """Check-ins of a face that does not change, true between-session SD 0.1: the pooled SD falls from the
    prior's 0.5 toward 0.1, and the weight is the one stated (m / (m + prior_df))."""
    rng = np.random.default_rng(3)
    values = list(0.8 + rng.normal(0, 0.1, 41))
    few = estimate_noise(_series(values[:3]), _prior(0.5))["brow_height_mm"]
    many = estimate_noise(_series(values), _prior(0.5))["brow_height_mm"]
    assert few.own_df == 2 and few.own_weight == pytest.approx(2 / 6)
    assert many.own_df == 40 and many.own_weight == pytest.approx(40 / 44)
    assert 0.5 > few.sd > many.sd
    assert many.own_sd == pytest.approx(0.1, rel=0.3)
    expected = math.sqrt((4 * 0.5**2 + 40 * many.own_sd**2) / 44)
    assert many.sd == pytest.approx(expected)


def test_check_ins_far_apart_do_not_count_as_noise() -> None:
    points = _series([0.0, 3.0], every_days=60.0)
    assert successive_differences(points, "brow_height_mm", 21.0) == []
    assert estimate_noise(points, _prior(0.5))["brow_height_mm"].sd == pytest.approx(0.5)


def test_sd_never_falls_below_the_in_clip_jitter() -> None:
    """Identical values (a member re-sending one check-in) would say 'no noise': the clips' own spread
    over √frames still bounds it from below."""
    noise = estimate_noise(_series([1.0] * 200, spread=1.2, frames=4), _prior(0.05))
    assert noise["brow_height_mm"].sd == pytest.approx(1.2 / 2)


def test_a_change_is_reported_only_beyond_the_mdc() -> None:
    noise = estimate_noise(_series([0.0]), _prior(0.5))
    mdc = noise["brow_height_mm"].mdc95  # 1.386
    small = change_between(dict.fromkeys(KEYS, 0.0), dict.fromkeys(KEYS, mdc * 0.9), noise)
    large = change_between(dict.fromkeys(KEYS, 0.0), dict.fromkeys(KEYS, -mdc * 1.1), noise)
    assert not small["brow_height_mm"].beyond_noise
    assert large["brow_height_mm"].beyond_noise and large["brow_height_mm"].delta < 0
    assert changes(_series([1.5]), noise) == {}
    first_last = changes(_series([1.5, 9.0, 0.2]), noise)["mouth_corner_mm"]
    assert first_last.baseline == 1.5 and first_last.latest == 0.2 and first_last.toward_symmetry
