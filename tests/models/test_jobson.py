import numpy as np
import pytest

from models.jobson import JobsonReach, peak_velocity_ms, route_travel_time

EXAMPLE = {"discharge_m3s": 1068.0, "mean_annual_discharge_m3s": 730.0, "drainage_area_m2": 48_000e6}


def test_worked_example_no_slope():
    result = route_travel_time([JobsonReach(104.8e3, **EXAMPLE)], mass_kg=1000.0)
    assert result.peak_velocity_ms == pytest.approx(1.01, abs=0.005)
    assert result.peak_time_s / 3600 == pytest.approx(28.8, abs=0.05)
    assert result.unit_peak_conc == pytest.approx(71.9, abs=0.05)
    assert result.leading_edge_s / 3600 == pytest.approx(25.6, abs=0.05)
    assert result.td10_s / 3600 == pytest.approx(7.7, abs=0.05)
    assert result.passage_end_s / 3600 == pytest.approx(33.4, abs=0.05)
    assert result.peak_conc_mg_l == pytest.approx(71.9 * 1000.0 / (1000.0 * 1068.0), rel=1e-3)
    assert result.max_probable_peak_time_s < result.peak_time_s


def test_leading_edge_ratio_applied_once_per_route():
    one = route_travel_time([JobsonReach(104.8e3, **EXAMPLE)])
    split = route_travel_time([JobsonReach(104.8e3 / 4, **EXAMPLE) for _ in range(4)])
    assert split.peak_time_s == pytest.approx(one.peak_time_s)
    assert split.leading_edge_s == pytest.approx(0.890 * split.peak_time_s)
    assert split.leading_edge_s == pytest.approx(one.leading_edge_s)


def test_slope_formula_and_variants():
    with_slope = peak_velocity_ms(**EXAMPLE, slope=2e-4)
    assert 0.094 < with_slope < 3.0
    assert peak_velocity_ms(**EXAMPLE, slope=2e-4, maximum_probable=True) > with_slope
    assert peak_velocity_ms(**EXAMPLE, maximum_probable=True) > peak_velocity_ms(**EXAMPLE)
    flat = route_travel_time([JobsonReach(1e4, **EXAMPLE, slope=2e-4)], use_slope=False)
    assert flat.peak_time_s == pytest.approx(route_travel_time([JobsonReach(1e4, **EXAMPLE)]).peak_time_s)
    with pytest.raises(ValueError, match="drainage_area_m2"):
        peak_velocity_ms(1.0, 1.0, -5.0)


def test_velocity_error_from_jobsons_envelope():
    """σ_ln = ln(Vmp/Vp)/2.326, with Vmp from the same terms as Vp (slope formulas)."""
    from models.jobson import velocity_sigma_ln

    terms = (1.01 - 0.094) / 0.0143
    by_hand = np.log((0.25 + 0.020 * terms) / 1.01) / 2.326
    assert float(velocity_sigma_ln(1.01)) == pytest.approx(by_hand, rel=1e-12)
    assert float(velocity_sigma_ln(1.01)) == pytest.approx(0.179, abs=0.001)
    assert (
        velocity_sigma_ln(0.3) > velocity_sigma_ln(1.0) > velocity_sigma_ln(3.0)
    )  # slow rivers: larger error
    with pytest.raises(ValueError):
        velocity_sigma_ln(0.0)
