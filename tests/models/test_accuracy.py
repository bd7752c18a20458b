"""The grid chosen by accuracy: every forecast number within 1 % of a converged grid, and an honest estimate."""

import numpy as np
import pytest

from models.accuracy import METRICS, Tolerance, simulate_to_accuracy
from models.fastplume import curve_metrics
from models.network import ReachSpec
from models.transport import OutputPoint, Release, simulate

DETECTION, STANDARD = 2e-4, 0.02  # the detection level lies ~4 decades below the peaks


def _network() -> list[ReachSpec]:
    # a 120 km main stem with a tributary, strong dispersion as the formulas give for big rivers
    return [
        ReachSpec("upper", 30000.0, 2, 60.0, 90.0, 150.0),
        ReachSpec("trib", 20000.0, 2, 25.0, 30.0, 90.0),
        ReachSpec("middle", 40000.0, 3, 85.0, 120.0, 220.0),
        ReachSpec("lower", 50000.0, None, 85.0, 140.0, 260.0),
    ]


OUTPUTS = [
    OutputPoint(0, 12000.0, "near"),
    OutputPoint(2, 5000.0, "below confluence"),
    OutputPoint(3, 10000.0, "intake"),
    OutputPoint(3, 48000.0, "far"),
]
RUN = {"horizon_s": 60 * 3600.0, "decay_per_s": 0.1 / 86400}


def _metrics(result):
    m = curve_metrics(
        result.times_s,
        result.point_conc_mg_l,
        detection_mg_l=DETECTION,
        standard_mg_l=STANDARD,
        log_interp=True,
    )
    return {name: getattr(m, name) for name in METRICS}


@pytest.fixture(scope="module")
def runs():
    releases = [Release(0, 2000.0, start_s=1800.0, duration_s=1800.0, mass_kg=3000.0)]
    result, estimate = simulate_to_accuracy(
        _network(), releases, outputs=OUTPUTS, detection_mg_l=DETECTION, standard_mg_l=STANDARD, **RUN
    )
    fine_dx, fine_dt = estimate.grids[-1][0] / 4, estimate.grids[-1][1] / 4
    converged = simulate(_network(), releases, outputs=OUTPUTS, dx_m=fine_dx, dt_s=fine_dt, **RUN)
    return result, estimate, converged


def test_every_number_is_within_one_percent_of_a_converged_grid(runs):
    result, estimate, converged = runs
    assert estimate.converged and estimate.fraction <= 1.0
    got, ref = _metrics(result), _metrics(converged)
    assert np.all(np.isfinite(ref["leading_edge_s"]))  # every point sees the plume
    travel = ref["peak_s"] - 1800.0
    tol_s = np.maximum(0.01 * travel, 300.0)
    assert got["peak_mg_l"] == pytest.approx(ref["peak_mg_l"], rel=0.01)
    for name in METRICS[1:]:
        finite = np.isfinite(ref[name])
        assert np.array_equal(finite, np.isfinite(got[name])), name
        assert np.all(np.abs(got[name] - ref[name])[finite] <= tol_s[finite]), name


def test_the_error_estimate_is_honest(runs):
    # the estimate is within a factor of ~2 of the actual error wherever that error is not negligible
    result, estimate, converged = runs
    got, ref = _metrics(result), _metrics(converged)
    actual = np.abs(got["leading_edge_s"] - ref["leading_edge_s"])
    big = actual > 0.1 * estimate.time_tolerance_s
    assert np.any(big)
    ratio = estimate.leading_edge_s[big] / actual[big]
    assert np.all((ratio > 0.4) & (ratio < 2.5))
    assert "peak ±" in estimate.worst()


def test_courant_above_one_where_accuracy_holds(runs):
    result, estimate, _ = runs
    assert result.grid.max_courant > 1.0
    assert result.grid.dx_m == pytest.approx(estimate.grids[-1][0], rel=0.01)


def test_the_stability_grid_alone_misses_the_edges(runs):
    # what the automatic (Pe 1.5, Cr 1) grid gives is off by more than the tolerance somewhere
    _, _, converged = runs
    releases = [Release(0, 2000.0, start_s=1800.0, duration_s=1800.0, mass_kg=3000.0)]
    auto = simulate(_network(), releases, outputs=OUTPUTS, **RUN)
    got, ref = _metrics(auto), _metrics(converged)
    tol_s = np.maximum(0.01 * (ref["peak_s"] - 1800.0), 300.0)
    worst = max(np.nanmax(np.abs(got[n] - ref[n]) / tol_s) for n in METRICS[1:])
    assert worst > 1.0


def test_a_tighter_tolerance_gives_a_finer_grid():
    releases = [Release(0, 2000.0, mass_kg=3000.0)]
    kwargs = {"outputs": OUTPUTS[:2], "detection_mg_l": DETECTION, **RUN, "horizon_s": 12 * 3600.0}
    _, loose = simulate_to_accuracy(_network(), releases, **kwargs)
    _, tight = simulate_to_accuracy(_network(), releases, tolerance=Tolerance(0.002, 0.002, 60.0), **kwargs)
    assert tight.grids[-1][0] < loose.grids[-1][0]


def test_fixed_grids_are_refused():
    with pytest.raises(ValueError, match="chooses dx_m"):
        simulate_to_accuracy(_network(), [], horizon_s=3600.0, detection_mg_l=1e-3, dx_m=100.0)


def test_a_release_still_going_at_the_horizon_converges_on_its_plateau():
    """A continuous release (mass rate until the horizon) fills the river below it with a plateau. Its
    level is a forecast number and is compared between grids; the time of its largest value is not (on
    a plateau it is wherever rounding puts it: one grid saw "no peak yet", the other a peak, which read
    as an infinite error and refined the grid to its cell limit, 12 s for a demo scenario)."""
    rate_kg_s = 0.17  # the fully mixed plateau: rate / Q, 0.17 kg/s in 85 m³/s = 2 mg/L
    network = [
        ReachSpec("upper", 30000.0, 1, 85.0, 120.0, 150.0),
        ReachSpec("middle", 40000.0, 2, 85.0, 120.0, 220.0),
        ReachSpec("lower", 50000.0, None, 85.0, 140.0, 260.0),
    ]
    releases = [Release(1, 2000.0, start_s=0.0, duration_s=0.0, mass_rate_kg_s=rate_kg_s)]
    outputs = [
        OutputPoint(1, 20000.0, "below"),
        OutputPoint(2, 5000.0, "far below"),
        OutputPoint(0, 100.0, "above"),
    ]
    result, estimate = simulate_to_accuracy(
        network,
        releases,
        outputs=outputs,
        detection_mg_l=DETECTION,
        standard_mg_l=STANDARD,
        horizon_s=30 * 3600.0,
    )
    assert estimate.converged and np.isfinite(estimate.fraction) and len(estimate.grids) <= 3
    plateau = 1000.0 * rate_kg_s / 85.0
    assert result.point_conc_mg_l[0, -1] == pytest.approx(plateau, rel=0.01)
    assert result.point_conc_mg_l[1, -1] == pytest.approx(plateau, rel=0.01)
    assert np.isnan(estimate.peak_s[:2]).all()  # no peak time on the plateau
    assert np.isfinite(estimate.peak_rel[:2]).all() and (estimate.peak_rel[:2] <= 0.01).all()
