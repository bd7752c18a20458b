"""Synthetic observations agree with the truth model within the stated noise."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest
from sqlmodel import select

from incident.core.clock import as_utc
from incident.core.errors import UserError
from incident.core.networks import load_network
from incident.core.store.engine import session_scope
from incident.core.store.tables import DrillObservation, Result
from incident.drills.exercise import (
    draw_measurement,
    lognormal_sigma,
    require_exercise,
    result_fields,
    take_sample,
    tick,
    truth_concentration,
)
from incident.drills.scenario import LabMethod
from incident.plume.forecast import ForecastRequest, Spill, run_forecast

from .conftest import propose


def test_draws_have_the_truth_as_geometric_mean_and_the_stated_cv():
    rng = np.random.default_rng(7)
    truth, cv = 0.042, 0.25
    x = np.array([draw_measurement(truth, cv, rng) for _ in range(20000)])
    gm = math.exp(np.mean(np.log(x)))
    assert gm == pytest.approx(truth, rel=0.01)
    assert np.std(np.log(x)) == pytest.approx(lognormal_sigma(cv), rel=0.03)
    assert np.std(x) / np.mean(x) == pytest.approx(cv, rel=0.05)
    assert draw_measurement(0.0, cv, rng) == 0.0


def test_detection_limit_and_rapid_styles():
    value = LabMethod("asv_portable", 0.0005, 15, 0.25, instrument="INS-HM-01")
    assert result_fields(0.0001, value, "cadmium", "X")["value"] == "<0.0005"
    got = result_fields(0.01234, value, "cadmium", "X")
    assert got["value"] == "0.01234" and got["detection_limit"] == "0.0005" and got["rapid"] is True
    ranged = LabMethod("photometer_portable", 0.005, 10, 0.3, "range", [0.005, 0.01, 0.02, 0.05])
    r = result_fields(0.013, ranged, "cadmium", "X")
    assert (r["value"], r["value_high"]) == ("0.01", "0.02")
    assert result_fields(0.003, ranged, "cadmium", "X")["value"] == "<0.005"
    assert result_fields(0.2, ranged, "cadmium", "X")["detected"] == "yes"  # over the top of the scale
    strip = LabMethod("test_strip", 0.01, 5, 0.3, "qualitative")
    assert result_fields(0.02, strip, "cadmium", "X")["detected"] == "yes"
    assert result_fields(0.005, strip, "cadmium", "X")["detected"] == "no"


def _independent_truth(session, code: str, reach: str, offset_m: float, at) -> float:
    """The truth concentration computed here from the scenario, without the drill's cache."""
    from incident.plume.forecast import ForecastPointSpec, standard_for

    inc, sc = require_exercise(session, code)
    net = load_network(session, inc.river_network_id)
    start = as_utc(inc.alert_at) + timedelta(minutes=sc.truth.offset_min)
    fc = run_forecast(
        ForecastRequest(
            network=net,
            start=start,
            horizon_h=sc.horizon_h,
            spills=[Spill("M03", net.offset_for_km("M03", 50.0), mass_kg=900, duration_h=3)],
            points=[ForecastPointSpec("p", "p", reach, offset_m)],
            substance="cadmium",
            standard_mg_l=standard_for("cadmium")[0],
            background_mg_l=0.0002,
            velocity_factor=1.1,
            profile_every_h=0,
        )
    )
    return float(np.interp((at - start).total_seconds() / 3600, fc.times_h, fc.curves_mg_l[0]))


def test_observations_at_a_point_agree_with_the_truth_within_the_noise(demo_engine, drill, wall):
    points = propose(demo_engine, drill)
    intake = next(p for p in points if p.receptor_id == "W1")
    wall.advance(minutes=40)  # T+6:40 on the ×10 clock
    with session_scope(demo_engine) as s:
        inc, sc = require_exercise(s, drill)
        at = as_utc(inc.alert_at) + timedelta(hours=6)  # near the peak at the Xishan intake
        net = load_network(s, inc.river_network_id)
        truth = truth_concentration(
            net, inc, sc, intake.reach_id, net.offset_for_km(intake.reach_id, intake.km), at
        )
        assert truth == pytest.approx(
            _independent_truth(s, drill, intake.reach_id, net.offset_for_km(intake.reach_id, intake.km), at),
            rel=1e-9,
        )
        assert truth > 50 * sc.method("asv_portable").detection_limit_mg_l  # well above the detection limit
        n = 150
        for _ in range(n):
            take_sample(s, drill, point=intake.number, sampler="Zhang Wei", actor="Zhang Wei", at=at)
        rows = s.exec(select(DrillObservation).where(DrillObservation.incident_id == inc.id)).all()
    measured = np.array([r.measured_mg_l for r in rows])
    assert len(measured) == n and all(r.truth_mg_l == pytest.approx(truth) for r in rows)
    cv = 0.25  # the scenario's asv_portable cv
    sigma = lognormal_sigma(cv)
    log_ratio = np.log(measured / truth)
    # geometric mean within 3 standard errors of the truth (±6 % here)
    assert abs(np.mean(log_ratio)) < 3 * sigma / math.sqrt(n)
    # spread matches the stated CV
    assert np.std(log_ratio, ddof=1) == pytest.approx(sigma, rel=0.2)
    assert np.std(measured, ddof=1) / np.mean(measured) == pytest.approx(cv, rel=0.25)
    assert len(set(measured.round(12))) == n  # every sample its own draw


def test_results_arrive_after_the_turnaround_as_real_evidence(demo_engine, drill, wall):
    points = propose(demo_engine, drill)
    upstream = next(p for p in points if p.role == "upstream_control")
    wall.advance(minutes=3)  # T+30
    with session_scope(demo_engine) as s:
        lab = take_sample(s, drill, point=upstream.number, sampler="Li", actor="Li", method="hj700_icpms")
        field = take_sample(
            s, drill, point=upstream.number, sampler="Li", actor="Li", method="photometer_portable"
        )
    assert lab.available_ex_at - lab.sampled_ex_at == timedelta(minutes=150)
    wall.advance(minutes=1.5)  # T+45: the photometer (10 min) is back, the lab (150 min) is not
    with session_scope(demo_engine) as s:
        got = tick(s, drill, actor="controller")
        assert [r.sample for r in got.results] == [field.sample]
        assert got.results[0].result_text.startswith("<0.005")  # upstream of the spill: not detected
        assert s.exec(select(Result)).all()  # a Result row exists
    wall.advance(minutes=14)  # T+185: the lab (sampled T+30, 150 min) has answered
    with session_scope(demo_engine) as s:
        got = tick(s, drill, actor="controller")
        assert [r.sample for r in got.results] == [lab.sample]
        from incident.core import log

        ok, _why = log.verify_chain(log.entries(s, log.incident_chain(drill)))
        assert ok
        kinds = [e.kind for e in log.entries(s, log.incident_chain(drill))]
        assert kinds.count("result.logged") == 2 and kinds.count("sample.logged") == 2
        assert tick(s, drill, actor="controller").results == []  # delivered once


def test_rapid_positive_is_suspected(demo_engine, drill, wall):
    points = propose(demo_engine, drill)
    intake = next(p for p in points if p.receptor_id == "W1")
    wall.advance(minutes=36)  # T+6:00
    with session_scope(demo_engine) as s:
        take_sample(s, drill, point=intake.number, sampler="Li", actor="Li", method="photometer_portable")
    wall.advance(minutes=2)
    with session_scope(demo_engine) as s:
        got = tick(s, drill, actor="controller")
        assert got.results and "suspected" in got.results[0].result_text
        row = s.exec(select(Result)).one()
        assert (
            row.method_kind == "rapid"
            and row.status == "suspected"
            and row.kind
            in (
                "semi_quantitative",
                "qualitative",
            )
        )


def test_sampling_refuses_unknown_method_and_future_times(demo_engine, drill, wall):
    points = propose(demo_engine, drill)
    with session_scope(demo_engine) as s:
        with pytest.raises(UserError, match="no method 'gc'"):
            take_sample(s, drill, point=points[0].number, sampler="Li", actor="Li", method="gc")
        inc, _ = require_exercise(s, drill)
        with pytest.raises(UserError, match="in the future"):
            take_sample(
                s,
                drill,
                point=points[0].number,
                sampler="Li",
                actor="Li",
                at=as_utc(inc.alert_at) + timedelta(hours=3),
            )
