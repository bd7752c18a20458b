"""Recalibration from noisy samples of a full-solver synthetic truth."""

from __future__ import annotations

import numpy as np
import pytest

from models import fastplume as fp
from models.calibrate import Observation, Prior, calibrate, residuals
from models.transport import Release
from tests.plume.conftest import network, noisy_samples, scaled, truth_curves

POINTS = [(1, 5000.0), (2, 6000.0), (3, 5000.0), (3, 20000.0)]
SOURCE = (0, 3000.0)
TRUE_MASS, TRUE_START, DURATION = 3000.0, 2 * 3600.0, 1800.0
TRUE_FU, TRUE_FD = 1.15, 1.5


@pytest.fixture(scope="module")
def truth():
    reaches = scaled(network(), TRUE_FU, np.array([r.dispersion_m2s for r in network()]) * TRUE_FD)
    rel = Release(*SOURCE, start_s=TRUE_START, duration_s=DURATION, mass_kg=TRUE_MASS)
    return truth_curves(reaches, rel, POINTS, horizon_s=36 * 3600.0)


@pytest.fixture(scope="module")
def routes():
    return fp.route(network(), *SOURCE, POINTS)


# a poor first report: twice the mass, an hour early, default velocity and dispersion
PRIOR = Prior(mass_kg=6000.0, start_s=3600.0, duration_s=DURATION)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_recovers_mass_and_release_time(truth, routes, seed):
    times, curves = truth
    obs = noisy_samples(times, curves, np.random.default_rng(seed), per_point=5)  # 20 samples, 10 % noise
    cal = calibrate(routes, obs, PRIOR)
    assert cal.success
    assert cal.estimates["mass_kg"] == pytest.approx(TRUE_MASS, rel=0.10)
    assert abs(cal.estimates["start_s"] - TRUE_START) <= 1800.0
    assert cal.estimates["velocity_factor"] == pytest.approx(TRUE_FU, rel=0.05)
    assert cal.rms_log < 0.2 < cal.rms_log_prior  # ~10 % noise after, far worse before
    lo, hi = cal.intervals_95["mass_kg"]
    assert lo < cal.estimates["mass_kg"] < hi
    assert cal.standard_errors["start_s"] < 1800.0
    assert [pf.point for pf in cal.per_point] == [0, 1, 2, 3]
    assert all(pf.rms_residual_ln < 0.3 for pf in cal.per_point)


def test_non_detects_are_censored(truth, routes):
    """Non-detects before the plume arrives cost nothing; a model above the DL there is penalised."""
    times, curves = truth
    obs = noisy_samples(times, curves, np.random.default_rng(4), per_point=5)
    early = [Observation(600.0 * k, j, 0.0, 0.002, censored=True) for j in range(4) for k in range(1, 4)]
    cal = calibrate(routes, obs + early, PRIOR)
    assert cal.n_censored >= len(early)
    assert cal.censored_violations == 0
    assert cal.estimates["mass_kg"] == pytest.approx(TRUE_MASS, rel=0.10)
    r = residuals(
        np.array([0.001, 0.004]), np.array([np.nan, np.nan]), np.array([0.002, 0.002]), np.array([True, True])
    )
    assert r[0] == 0.0 and r[1] == pytest.approx(np.log(0.005 / 0.003))


def test_fixed_parameters_stay_at_the_prior(truth, routes):
    times, curves = truth
    obs = noisy_samples(times, curves, np.random.default_rng(5), per_point=5)
    cal = calibrate(routes, obs, PRIOR, fit=("mass_kg", "start_s"))
    assert cal.estimates["velocity_factor"] == 1.0 and cal.estimates["dispersion_factor"] == 1.0
    assert cal.standard_errors["velocity_factor"] == 0.0


def test_too_few_observations_warn(routes):
    obs = [Observation(10 * 3600.0, 1, 0.5, 0.002)]
    cal = calibrate(routes, obs, PRIOR)
    assert any("uncertainty is undefined" in w for w in cal.warnings)
    assert np.isinf(cal.standard_errors["mass_kg"])


def test_refuses_bad_observations(routes):
    with pytest.raises(ValueError, match="no observations"):
        calibrate(routes, [], PRIOR)
    with pytest.raises(ValueError, match="observation 0: detection limit"):
        calibrate(routes, [Observation(1.0, 0, 0.1, 0.0)], PRIOR)
    with pytest.raises(ValueError, match="cannot fit"):
        calibrate(routes, [Observation(1.0, 0, 0.1, 0.01)], PRIOR, fit=("colour",))
