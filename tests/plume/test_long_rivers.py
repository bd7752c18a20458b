"""Rivers days long: horizon by need keeps far intakes in the forecast (issue 15)."""

from __future__ import annotations

from pathlib import Path

import pytest

from incident.plume.forecast import load_scenario, run_forecast

EXAMPLES = Path(__file__).resolve().parents[2] / "incident" / "data" / "examples"


@pytest.fixture(scope="module")
def songhua():
    return run_forecast(load_scenario(EXAMPLES / "songhua_like.toml"))


def test_songhua_like_river_is_long_and_its_far_intake_is_days_away(songhua):
    req = load_scenario(EXAMPLES / "songhua_like.toml")
    assert req.network.total_length_km >= 400
    assert req.horizon_h is None  # no fixed horizon: by need
    intake = songhua.point("I2")
    assert intake.kind == "drinking_water_intake"
    assert 9 * 24 <= intake.peak_h <= 12 * 24  # peak ~10 days after the spill
    assert intake.leading_edge_h is not None and intake.leading_edge_h < intake.peak_h
    assert intake.peak_mg_l > req.standard_mg_l  # the intake must close
    # the run went on until the plume had passed every point (beyond the old fixed 72 h)
    assert intake.trailing_edge_h is not None and songhua.horizon_h > intake.trailing_edge_h > 72


def test_songhua_forecast_states_its_mass_budget_and_error(songhua):
    mb = songhua.mass_balance
    head = next(b for b in mb["boundaries"] if b["kind"] == "headwater")
    assert head["out_kg"] == 0.0  # a spill at km 0 of the headwater loses nothing upstream
    assert mb["exported_kg"] + mb["decayed_kg"] + mb["in_channel_kg"] == pytest.approx(
        mb["released_kg"], rel=1e-9
    )
    est = songhua.grid["error_estimate"]
    assert est["converged"] and est["fraction_of_tolerance"] <= 1.0
    assert songhua.grid["max_courant"] > 1.0  # accuracy allowed Courant above 1


def test_uvas_example_matches_reference_within_2_percent():
    from tests.models.test_uvas_reference import SITES, _peaks, _reference

    fc = run_forecast(load_scenario(EXAMPLES / "uvas_creek.toml"))
    times, ref = _reference()
    ref_peak, _ = _peaks(times, [ref[s] for s in SITES])
    got = [fc.point(s).peak_mg_l for s in SITES]
    assert got == pytest.approx(list(ref_peak), rel=0.02)
