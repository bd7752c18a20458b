import numpy as np
import pytest

from models.hydraulics import (
    dispersion_spread,
    hydraulic_radius,
    manning_velocity,
    shear_velocity,
    velocity_from_discharge,
)
from models.metrics import breakthrough_metrics


def test_geometry_and_velocity():
    assert velocity_from_discharge(300.0, 100.0, 3.0) == pytest.approx(1.0)
    assert hydraulic_radius(100.0, 2.0) == pytest.approx(200.0 / 104.0)
    assert manning_velocity(0.03, 100.0, 2.0, 1e-4) == pytest.approx((200 / 104) ** (2 / 3) * 0.01 / 0.03)
    assert shear_velocity(2.0, 1e-4) == pytest.approx(np.sqrt(9.81 * 2.0 * 1e-4))


def test_dispersion_spread_values_by_hand():
    # W = 100 m, H = 2 m, U = 1 m/s, S = 1e-4: u* = √(9.81·(200/104)·1e-4) = 0.043434
    spread = dispersion_spread(100.0, 2.0, 1.0, 1e-4)
    u_star = 0.0434344
    assert spread.shear_velocity_ms == pytest.approx(u_star, rel=1e-5)
    assert spread.fischer_m2s == pytest.approx(0.011 * 1e4 / (2 * u_star), rel=1e-5)
    assert spread.kashefipour_falconer_m2s == pytest.approx(10.612 * 2 / u_star, rel=1e-5)
    assert spread.seo_cheong_m2s == pytest.approx(
        2 * u_star * 5.915 * 50**0.62 * (1 / u_star) ** 1.428, rel=1e-5
    )
    eps = 0.145 + (1 / u_star) * 50**1.38 / 3520
    assert spread.deng_m2s == pytest.approx(
        2 * u_star * 0.15 / (8 * eps) * 50 ** (5 / 3) / u_star**2, rel=1e-5
    )
    values = [spread.fischer_m2s, spread.seo_cheong_m2s, spread.deng_m2s, spread.kashefipour_falconer_m2s]
    assert spread.min_m2s == min(values) and spread.max_m2s == max(values)
    assert spread.min_m2s < spread.geometric_mean_m2s < spread.max_m2s
    assert spread.default_method == "seo_cheong" and spread.default_m2s == spread.seo_cheong_m2s


def test_dispersion_spread_broadcasts_and_refuses_nonsense():
    spread = dispersion_spread(np.array([20.0, 200.0]), 2.0, 0.8, 3e-4)
    assert spread.fischer_m2s.shape == (2,) and np.all(spread.max_m2s >= spread.min_m2s)
    with pytest.raises(ValueError, match="depth_m"):
        dispersion_spread(20.0, 0.0, 1.0, 1e-4)


def test_metrics_on_a_triangle():
    # background 1, rises to 11 at t = 100, back to 1 at t = 200, sampled every 10 s
    t = np.arange(0.0, 301.0, 10.0)
    conc = 1.0 + np.clip(10.0 - np.abs(t - 100.0) / 10.0, 0.0, None)
    m = breakthrough_metrics(t, conc, detection_mg_l=0.5, standard_mg_l=6.0, background_mg_l=1.0)
    assert m.reached
    assert m.leading_edge_s == pytest.approx(5.0)
    assert m.trailing_edge_s == pytest.approx(195.0)
    assert (m.peak_s, m.peak_mg_l) == (100.0, 11.0)
    assert m.exceeds_standard
    assert m.exceedance_start_s == pytest.approx(50.0) and m.exceedance_end_s == pytest.approx(150.0)
    assert m.max_exceedance_multiple == pytest.approx((11.0 - 6.0) / 6.0)


def test_metrics_not_reached_and_still_exceeding():
    t = np.linspace(0, 100, 11)
    quiet = breakthrough_metrics(
        t, np.full(11, 0.2), detection_mg_l=0.5, standard_mg_l=1.0, background_mg_l=0.2
    )
    assert not quiet.reached and quiet.leading_edge_s is None and quiet.peak_s is None
    assert not quiet.exceeds_standard and quiet.max_exceedance_multiple is None
    rising = breakthrough_metrics(t, t / 10.0, detection_mg_l=1.0, standard_mg_l=5.0)
    assert rising.leading_edge_s == pytest.approx(10.0) and rising.trailing_edge_s is None
    assert rising.exceedance_start_s == pytest.approx(50.0) and rising.exceedance_end_s is None
    with pytest.raises(ValueError, match="detection_mg_l"):
        breakthrough_metrics(t, t, detection_mg_l=0.0)
