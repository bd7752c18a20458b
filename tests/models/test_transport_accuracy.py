"""The solver against analytic solutions in a uniform channel (where those solutions are exact)."""

import numpy as np
import pytest

from models.analytic import finite_pulse, flux_inlet, slug, slug_peak_time
from models.transport import InletSeries, OutputPoint, Release, simulate
from tests.models.conftest import (
    AREA_M2,
    DISCHARGE_M3S,
    DISPERSION_M2S,
    VELOCITY_MS,
    refined_peak,
    uniform_channel,
)

SOURCE_M = 500.0
FINE_DX_M = 3.0  # Pe = 0.75: pointwise errors ≈ 0.2–0.5 % of the peak for these sharp inputs
DISTANCES_M = (1000.0, 2000.0, 4000.0)


@pytest.fixture(scope="module")
def slug_run():
    reaches = uniform_channel(6000.0, n_reaches=3)  # stations straddle reach boundaries
    outputs = [OutputPoint(int((SOURCE_M + d) // 2000), (SOURCE_M + d) % 2000) for d in DISTANCES_M]
    return simulate(reaches, [Release(0, SOURCE_M, mass_kg=20.0)], outputs=outputs, horizon_s=11000.0)


def test_slug_peaks_match_analytic(slug_run):
    for i, distance in enumerate(DISTANCES_M):
        t_peak, c_peak = refined_peak(slug_run.times_s, slug_run.point_conc_mg_l[i])
        t_exact = slug_peak_time(distance, VELOCITY_MS, DISPERSION_M2S)
        c_exact = slug(distance, t_exact, 20.0, AREA_M2, VELOCITY_MS, DISPERSION_M2S)
        assert t_peak == pytest.approx(t_exact, rel=5e-3)
        assert c_peak == pytest.approx(c_exact, rel=5e-3)


def _curve_errors(run):
    errors = []
    for i, distance in enumerate(DISTANCES_M):
        exact = slug(distance, run.times_s, 20.0, AREA_M2, VELOCITY_MS, DISPERSION_M2S)
        errors.append(np.max(np.abs(run.point_conc_mg_l[i] - exact)) / exact.max())
    return np.array(errors)


def test_slug_whole_curve_close_to_analytic_and_second_order(slug_run):
    # On the automatic grid (Pe ≈ 1.5) the worst pointwise error is the dispersive error of the central
    # scheme, left over from the first steps when the slug spans one or two cells; it shrinks with
    # distance and as Δx² (second order).
    coarse = _curve_errors(slug_run)
    assert np.all(coarse < 0.025)
    assert coarse[2] < coarse[0]
    outputs = [OutputPoint(0, SOURCE_M + d) for d in DISTANCES_M]
    dx = slug_run.grid.dx_m
    fine = simulate(
        uniform_channel(),
        [Release(0, SOURCE_M, mass_kg=20.0)],
        outputs=outputs,
        horizon_s=11000.0,
        dx_m=dx / 2,
    )
    assert np.all(coarse / _curve_errors(fine) > 3.0)  # ≈ 4 for second order


def test_slug_mass_balance(slug_run):
    balance = slug_run.mass_balance
    assert balance.released_kg == pytest.approx(20.0)
    assert abs(balance.relative_error) < 1e-9
    assert balance.in_channel_kg + balance.exported_kg == pytest.approx(20.0, rel=1e-9)
    # ∫Q·C dt at each station recovers the mass (domain.md: = M·e^(−k·t̄), here k = 0)
    for i in range(len(DISTANCES_M)):
        passed = DISCHARGE_M3S * np.trapezoid(slug_run.point_conc_mg_l[i], slug_run.times_s) / 1000.0
        assert passed == pytest.approx(20.0, rel=1e-3)


def _moments(times, conc):
    zeroth = np.trapezoid(conc, times)
    mean = np.trapezoid(times * conc, times) / zeroth
    return mean, np.trapezoid((times - mean) ** 2 * conc, times) / zeroth


def test_temporal_variance_grows_as_2dx_over_u_cubed(slug_run):
    means, variances = zip(*(_moments(slug_run.times_s, c) for c in slug_run.point_conc_mg_l), strict=True)
    for i, j in ((0, 1), (1, 2), (0, 2)):
        growth = variances[j] - variances[i]
        expected = 2 * DISPERSION_M2S * (DISTANCES_M[j] - DISTANCES_M[i]) / VELOCITY_MS**3
        assert growth == pytest.approx(expected, rel=0.02)
        assert means[j] - means[i] == pytest.approx((DISTANCES_M[j] - DISTANCES_M[i]) / VELOCITY_MS, rel=2e-3)


def test_slug_with_decay_loses_mass_as_exp_minus_kt():
    decay = 2e-4
    out = [OutputPoint(0, SOURCE_M + 2000.0)]
    run = simulate(
        uniform_channel(),
        [Release(0, SOURCE_M, mass_kg=20.0)],
        outputs=out,
        horizon_s=8000.0,
        decay_per_s=decay,
        dx_m=FINE_DX_M,
    )
    exact = slug(2000.0, run.times_s, 20.0, AREA_M2, VELOCITY_MS, DISPERSION_M2S, decay)
    assert np.max(np.abs(run.point_conc_mg_l[0] - exact)) < 5e-3 * exact.max()
    balance = run.mass_balance
    assert balance.decayed_kg > 0.5 * 20.0
    assert abs(balance.relative_error) < 1e-9
    # passage mass = M·exp(−k·t̄) for a slug whose travel-time spread is small
    passed = DISCHARGE_M3S * np.trapezoid(run.point_conc_mg_l[0], run.times_s) / 1000.0
    assert passed == pytest.approx(20.0 * np.exp(-decay * 2000.0 / VELOCITY_MS), rel=5e-3)


def _inlet(times_h, conc):
    return InletSeries(0, np.asarray(times_h, float) * 3600.0, np.asarray(conc, float))


@pytest.mark.parametrize("decay", [0.0, 1e-4])
def test_continuous_inlet_matches_flux_boundary_solution(decay):
    # headwaters are flux (third-type) boundaries: compare with van Genuchten & Alves's solution for it
    stations = (300.0, 1500.0, 3000.0)
    run = simulate(
        uniform_channel(5000.0),
        inlets=[_inlet([0, 10], [1.0, 1.0])],
        outputs=[OutputPoint(0, x) for x in stations],
        horizon_s=8000.0,
        decay_per_s=decay,
        dx_m=FINE_DX_M,
    )
    for i, x in enumerate(stations):
        exact = flux_inlet(x, run.times_s, 1.0, VELOCITY_MS, DISPERSION_M2S, decay)
        assert np.max(np.abs(run.point_conc_mg_l[i] - exact)) < 5e-3


def test_finite_pulse_with_decay_matches_analytic():
    decay, tau = 1e-4, 900.0
    stations = (800.0, 2500.0)
    run = simulate(
        uniform_channel(5000.0),
        inlets=[_inlet([0, 0.25, 0.25, 10], [2.0, 2.0, 0.0, 0.0])],
        outputs=[OutputPoint(0, x) for x in stations],
        horizon_s=9000.0,
        decay_per_s=decay,
        dx_m=FINE_DX_M,
    )
    for i, x in enumerate(stations):
        exact = finite_pulse(x, run.times_s, 2.0, tau, VELOCITY_MS, DISPERSION_M2S, decay, boundary="flux")
        assert np.max(np.abs(run.point_conc_mg_l[i] - exact)) < 5e-3 * exact.max()


def test_finite_duration_release_matches_superposed_slugs():
    # a 20 kg release spread over 600 s ≈ the time integral of slugs
    rate_kg_s, duration = 20.0 / 600.0, 600.0
    run = simulate(
        uniform_channel(),
        [Release(0, SOURCE_M, start_s=300.0, duration_s=duration, mass_kg=20.0)],
        outputs=[OutputPoint(0, SOURCE_M + 2500.0)],
        horizon_s=9000.0,
        dx_m=FINE_DX_M,
    )
    emit = np.linspace(300.0, 900.0, 2001)
    exact = np.trapezoid(
        slug(2500.0, run.times_s[:, None] - emit[None, :], rate_kg_s, AREA_M2, VELOCITY_MS, DISPERSION_M2S),
        emit,
        axis=1,
    )
    assert np.max(np.abs(run.point_conc_mg_l[0] - exact)) < 5e-3 * exact.max()
    assert run.mass_balance.released_kg == pytest.approx(20.0)


def test_continuous_release_reaches_steady_dilution():
    rate = 0.05  # kg/s into Q = 5 m³/s → 10 mg/L fully mixed downstream
    run = simulate(
        uniform_channel(),
        [Release(0, 1000.0, mass_rate_kg_s=rate)],
        outputs=[OutputPoint(0, 4000.0)],
        horizon_s=30000.0,
    )
    assert run.point_conc_mg_l[0, -1] == pytest.approx(1000.0 * rate / DISCHARGE_M3S, rel=1e-3)
    assert run.mass_balance.released_kg == pytest.approx(rate * run.times_s[-1], rel=1e-9)


def test_reach_cuts_and_release_timing_do_not_change_results():
    release = Release(0, 700.0, start_s=123.4, mass_kg=3.0)
    whole = simulate(
        uniform_channel(6000.0, 1),
        [release],
        outputs=[OutputPoint(0, 3500.0)],
        horizon_s=8000.0,
        dx_m=5.0,
        dt_s=10.0,
    )
    cut = simulate(
        uniform_channel(6000.0, 4),
        [release],
        outputs=[OutputPoint(2, 500.0)],
        horizon_s=8000.0,
        dx_m=5.0,
        dt_s=10.0,
    )
    assert np.allclose(whole.point_conc_mg_l, cut.point_conc_mg_l, rtol=1e-9, atol=1e-12)
    # the arrival centroid honours the sub-step start time
    mean, _ = _moments(whole.times_s, whole.point_conc_mg_l[0])
    assert mean == pytest.approx(123.4 + 2800.0 / VELOCITY_MS + 2 * DISPERSION_M2S / VELOCITY_MS**2, abs=1.0)
