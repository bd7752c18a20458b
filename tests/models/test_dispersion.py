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
    assert dm.estimate(w, h, u, us) == pytest.approx(by_hand, rel=1e-12)  # the default


def test_named_formulas_stay_selectable_and_bad_input_is_refused():
    values = {name: float(dm.estimate(30.0, 1.0, 0.5, 0.06, method=name)) for name in dm.FORMULAS}
    assert set(values) >= {"disley", "seo_cheong", "deng", "fischer", "kashefipour_falconer"}
    assert len(set(values.values())) == len(values)
    with pytest.raises(ValueError, match="unknown dispersion method"):
        dm.estimate(30.0, 1.0, 0.5, 0.06, method="guess")
    with pytest.raises(ValueError, match="depth_m"):
        dm.estimate(30.0, -1.0, 0.5, 0.06)


def test_the_default_is_the_best_published_formula_on_field_data(data):
    default = bench.scores(bench.residuals_formula(data, dm.DEFAULT_METHOD))
    for name in ("seo_cheong", "deng", "fischer", "kashefipour_falconer"):
        other = bench.scores(bench.residuals_formula(data, name))
        assert default[0] >= other[0] and default[1] < other[1], name
    assert default[0] > 0.6  # within ×2 for more than 60 % of the measurements


def test_band_constants_are_the_p5_p95_of_the_defaults_errors(data):
    res = bench.residuals_formula(data, dm.DEFAULT_METHOD)
    assert np.percentile(res, [5, 95]) == pytest.approx(dm.BAND_LOG10, abs=1e-4)
    low, high = dm.band(100.0)
    assert low < 100.0 < high and high / 100.0 <= 4.0
    inside = np.mean((res >= dm.BAND_LOG10[0]) & (res <= dm.BAND_LOG10[1]))
    assert inside == pytest.approx(0.9, abs=0.03)  # in-sample; the bench prints the leave-one-out figure


def test_recalibrated_constants_reproduce_from_the_data(data):
    x, y = bench._x(data), bench._target(data)
    coef = dm.fit_loglinear(x, y, dm.RECALIBRATED_RIDGE)
    assert coef == pytest.approx(dm.RECALIBRATED_COEFFICIENTS, abs=1e-3)
