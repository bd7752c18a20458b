"""Dispersion estimators against the shipped field tracer data (bench/bench_dispersion.py prints the table)."""

import sys
from pathlib import Path

import numpy as np
import pytest

from models import dispersion as dm

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import bench_dispersion as bench  # noqa: E402


@pytest.fixture(scope="module")
def data():
    return bench.load()


def test_disley_formula_by_hand():
    w, h, u, us = 50.0, 1.2, 0.6, 0.07
    froude = u / np.sqrt(9.81 * h)
    by_hand = 3.563 * froude**-0.4117 * (w / h) ** 0.6776 * (u / us) ** 1.0132 * h * us
    assert dm.disley(w, h, u, us) == pytest.approx(by_hand, rel=1e-12)
    assert dm.estimate(w, h, u, us, method="disley") == pytest.approx(by_hand, rel=1e-12)
    # the default: Disley with its mean log error on the field data removed
    assert dm.estimate(w, h, u, us) == pytest.approx(by_hand * 10**dm.BIAS_LOG10, rel=1e-12)


def test_named_formulas_stay_selectable_and_bad_input_is_refused():
    values = {name: float(dm.estimate(30.0, 1.0, 0.5, 0.06, method=name)) for name in dm.FORMULAS}
    assert set(values) >= {"disley", "seo_cheong", "deng", "fischer", "kashefipour_falconer"}
    assert len(set(values.values())) == len(values)
    with pytest.raises(ValueError, match="unknown dispersion method"):
        dm.estimate(30.0, 1.0, 0.5, 0.06, method="guess")
    with pytest.raises(ValueError, match="depth_m"):
        dm.estimate(30.0, -1.0, 0.5, 0.06)


def test_the_default_is_the_best_on_rivers_it_was_not_fitted_to(data):
    """Leave-one-out: the default's bias is refitted without the river left out."""
    cv_default = bench.band_scores(bench.residuals_formula(data, "disley"))[0]
    default = bench.scores(cv_default)
    for name in ("disley", "seo_cheong", "deng", "fischer", "kashefipour_falconer"):
        other = bench.scores(bench.residuals_formula(data, name))
        assert default[0] >= other[0], name
        if name != "disley":  # the refitted bias costs a little RMSE against Disley itself (0.357 vs 0.349)
            assert default[1] < other[1], name
    assert default[0] > 0.65  # within ×2 for two measurements in three


def test_band_constants_reproduce_from_the_data_and_hold_90_percent_in_cross_validation(data):
    res = bench.residuals_formula(data, "disley")
    bias, half = dm.centre_and_half_width(res)
    assert (bias, half) == pytest.approx((dm.BIAS_LOG10, dm.BAND_HALF_LOG10), abs=1e-4)
    low, high = dm.band(100.0)
    assert low == pytest.approx(100.0 / 10**half) and high == pytest.approx(100.0 * 10**half)
    assert high / 100.0 <= 4.0 + 1e-6 and 100.0 / low <= 4.0 + 1e-6
    _, coverage, _, side_max = bench.band_scores(res)
    assert coverage >= 0.90 and side_max <= 4.0 + 1e-9
    _, river_coverage, _, _ = bench.band_scores(res, groups=data["river"])
    assert river_coverage >= 0.90


def test_conformal_half_width_by_hand():
    r = np.array([-0.3, -0.1, 0.0, 0.1, 0.3])  # mean 0; |r| sorted 0, .1, .1, .3, .3
    # ⌈(5+1)·0.5⌉ = 3rd smallest = 0.1; at 0.9 all five are needed: 0.3; the cap wins below it
    assert dm.centre_and_half_width(r, level=0.5) == pytest.approx((0.0, 0.1))
    assert dm.centre_and_half_width(r, level=0.9) == pytest.approx((0.0, 0.3))
    assert dm.centre_and_half_width(r, level=0.9, max_side=10**0.2) == pytest.approx((0.0, 0.2))
    assert dm.centre_and_half_width(r + 1.0)[0] == pytest.approx(1.0)


def test_recalibrated_constants_reproduce_from_the_data(data):
    x, y = bench._x(data), bench._target(data)
    coef = dm.fit_loglinear(x, y, dm.RECALIBRATED_RIDGE)
    assert coef == pytest.approx(dm.RECALIBRATED_COEFFICIENTS, abs=1e-3)
