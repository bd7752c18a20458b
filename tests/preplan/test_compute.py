"""Pre-plan numbers against the analytic slug in a uniform channel (within 1 %).

C(x, t) = 1000·M/(A·√(4πDt))·exp(−(x − Ut)²/(4Dt)) mg/L for M kg released at once (domain.md §5).
Arrival is the first time C reaches the detection threshold (1 % of the standard).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.optimize import brentq, minimize_scalar
from scipy.stats import norm

from incident.preplan import build_preplan, load_inputs
from incident.preplan.compute import Release, Settings, Unit, run_unit
from models.network import ReachSpec

U, Q, D, STANDARD = 0.5, 100.0, 50.0, 0.05  # m/s, m³/s, m²/s, mg/L
X = 40_000.0  # source to intake, m
MASS = 2000.0  # kg


def slug(t: float, *, mass: float, u: float, d: float, area: float, x: float = X) -> float:
    return (
        1000.0 * mass / (area * math.sqrt(4 * math.pi * d * t)) * math.exp(-((x - u * t) ** 2) / (4 * d * t))
    )


def analytic(mass: float, u: float, d: float, area: float) -> dict[str, float]:
    """Arrival (detection crossing), peak and hours above the standard, in hours / mg/L."""

    def c(t: float) -> float:
        return slug(t, mass=mass, u=u, d=d, area=area)

    best = minimize_scalar(
        lambda t: -c(t), bounds=(0.2 * X / u, 2 * X / u), method="bounded", options={"xatol": 1e-3}
    )
    t_peak, peak = best.x, -best.fun
    detect = 0.01 * STANDARD
    arrival = brentq(lambda t: c(t) - detect, 1.0, t_peak, xtol=1e-6)
    rise = brentq(lambda t: c(t) - STANDARD, 1.0, t_peak, xtol=1e-6)
    fall = brentq(lambda t: c(t) - STANDARD, t_peak, 20 * X / u, xtol=1e-6)
    return {"arrival_h": arrival / 3600, "peak_mg_l": peak, "above_h": (fall - rise) / 3600}


def _unit(settings: Settings, d_low: float, d_high: float) -> Unit:
    spec = ReachSpec("uniform", 100_000.0, None, Q, Q / U, D)
    release = Release(MASS, 0.0, STANDARD, 0.0)
    return Unit(
        key="S|median",
        specs=(spec,),
        dispersion_low_m2s=(d_low,),
        dispersion_high_m2s=(d_high,),
        source=(0, 5_000.0),
        standard=release,
        credible=release,
        points=(("intake:W", 0, 5_000.0 + X),),
        settings=settings,
    )


def test_uniform_channel_without_spread_matches_the_slug():
    res = run_unit(_unit(Settings(n_members=5, velocity_sigma_ln=0.0), D, D))["intake:W"].credible
    exact = analytic(MASS, U, D, Q / U)
    for got in (res.arrival_p10_h, res.arrival_p50_h, res.arrival_p90_h):
        assert got == pytest.approx(exact["arrival_h"], rel=0.01)
    assert res.peak_mg_l == pytest.approx(exact["peak_mg_l"], rel=0.01)
    assert res.hours_above_standard == pytest.approx(exact["above_h"], rel=0.01)
    assert res.reach_probability == 1.0


def test_velocity_spread_gives_the_arrival_at_the_velocity_quantiles():
    """With D fixed, arrival falls as the velocity factor rises: the arrival's P10 is the arrival at
    the factor's P90 (log-normal, σ_ln = 0.15), and so on."""
    sigma = 0.15
    res = run_unit(_unit(Settings(n_members=4000, velocity_sigma_ln=sigma), D, D))["intake:W"].credible
    for got, p in ((res.arrival_p10_h, 0.9), (res.arrival_p50_h, 0.5), (res.arrival_p90_h, 0.1)):
        fu = math.exp(sigma * norm.ppf(p))
        exact = analytic(MASS, U * fu, D, Q / (U * fu))["arrival_h"]
        assert got == pytest.approx(exact, rel=0.01)
    assert res.arrival_p10_h < res.arrival_p50_h < res.arrival_p90_h


def _uniform_files(tmp_path):
    river = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[110.0, 25.0], [110.0, 24.1]]},
                "properties": {
                    "id": "R1",
                    "downstream": None,
                    "discharge_m3s": Q,
                    "width_m": 100.0,
                    "depth_m": 2.0,
                    "velocity_ms": U,
                    "dispersion_m2s": D,
                    "length_m": 100_000.0,
                },
            }
        ],
    }
    sources = "id,name,kind,reach,km,substance,max_release_kg,standard_mg_l\nS1,Bridge,bridge,R1,5,tracer,2000,0.05\n"
    intakes = "role,id,name,reach,km,reserve_h\nintake,W1,Works,R1,45,6\n"
    (tmp_path / "river.geojson").write_text(json.dumps(river))
    (tmp_path / "sources.csv").write_text(sources)
    (tmp_path / "intakes.csv").write_text(intakes)
    return load_inputs(tmp_path / "river.geojson", tmp_path / "sources.csv", tmp_path / "intakes.csv")


@pytest.mark.parametrize("flow,factor", [("low", 0.5), ("median", 1.0), ("high", 2.0)])
def test_pipeline_arrivals_in_a_uniform_channel_match_the_analytic_solution(tmp_path, flow, factor):
    """Files → flow scenario → ensemble → row. A given velocity and dispersion scale with the flow
    (U·f^0.34, D·f^0.6, Q·f); the ensemble spreads D ×/÷ 1.5 (log-uniform), and the leading edge
    comes earlier with more dispersion, so the arrival's P10 is the arrival at D's 90th percentile."""
    inputs = _uniform_files(tmp_path)
    report = build_preplan(
        inputs, flows=flow, workers=1, settings=Settings(n_members=2000, velocity_sigma_ln=0.0)
    )
    (row,) = report.rows
    assert row["distance_km"] == pytest.approx(40.0)
    u, q, d = U * factor**0.34, Q * factor, D * factor**0.6
    for key, quantile in (("arrival_p10_h", 0.9), ("arrival_p50_h", 0.5), ("arrival_p90_h", 0.1)):
        d_q = (d / 1.5) ** (1 - quantile) * (d * 1.5) ** quantile
        assert row[key] == pytest.approx(analytic(MASS, u, d_q, q / u)["arrival_h"], rel=0.01), key
    median = analytic(MASS, u, d, q / u)
    assert row["peak_mg_l"] == pytest.approx(median["peak_mg_l"], rel=0.01)
    assert row["hours_above_standard"] == pytest.approx(median["above_h"], rel=0.01)


def test_units_give_the_same_numbers_for_any_subset_of_points():
    """A unit recomputed for one point only (the incremental case) gives that point's numbers."""
    spec = ReachSpec("uniform", 100_000.0, None, Q, Q / U, D)
    release = Release(MASS, 0.5, STANDARD, 0.1)
    pts = (("a", 0, 20_000.0), ("b", 0, 45_000.0), ("c", 0, 90_000.0))

    def unit(points):
        return Unit(
            "k", (spec,), (D / 2,), (D * 2,), (0, 1000.0), release, release, points, Settings(n_members=50)
        )

    both = run_unit(unit(pts))
    alone = run_unit(unit(pts[1:2]))
    assert alone["b"] == both["b"]
    assert np.isfinite(both["c"].credible.arrival_p50_h)
