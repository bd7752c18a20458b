"""The incident layer: ensemble bands, calibration from logged results (with accept/reject), tracing,
and the CLI commands."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from sqlmodel import select

from incident.cli import main
from incident.core.clock import fmt_local, parse_local, utcnow
from incident.core.errors import UserError, ValidationErrors
from incident.core.incidents import get_incident
from incident.core.store.engine import session_scope
from incident.core.store.tables import LogEntry, ModelCalibration, PlanRevision, Result, Sample, SamplingPoint
from incident.demo.seed import DEMO_RIVER
from incident.plume import forecast_incident
from incident.plume import uncertainty as usvc
from incident.plume.forecast import request_for_incident, run_forecast

TRUE_MASS_FACTOR, TRUE_SHIFT_MIN, TRUE_FU = 0.7, 40.0, 1.1
POINTS = ("W1", "AS2", "B1", "W2")
DL = 0.0005


def _add_results(session, code: str, rng: np.random.Generator, *, left_out: bool = True) -> dict:
    """Plan points at four receptors and 5 noisy results each from a full-solver truth (mass 0.7×,
    release 40 min late, velocity 1.1×), plus records that must be left out (unless left_out=False)."""
    inc = get_incident(session, code)
    req = request_for_incident(session, code, horizon_h=48)
    truth_req = replace(
        req,
        start=req.start + timedelta(minutes=TRUE_SHIFT_MIN),
        spills=[replace(req.spills[0], mass_kg=req.spills[0].mass_kg * TRUE_MASS_FACTOR)],
        velocity_factor=TRUE_FU,
    )
    truth = run_forecast(truth_req)
    rev = PlanRevision(incident_id=inc.id, revision=1, created_at=utcnow(), created_by="t", reason="test")
    session.add(rev)
    session.flush()
    now = utcnow()
    n = 0

    def result(point_id, at, value, *, detected=True, qc=None, sample_type="normal", corrects=None):
        nonlocal n
        n += 1
        sample = Sample(
            code=f"S-{n}",
            incident_id=inc.id,
            point_id=point_id,
            sampled_at=at,
            sampler="t",
            created_at=now,
            sample_type=sample_type,
        )
        session.add(sample)
        session.flush()
        row = Result(
            sample_id=sample.id,
            incident_id=inc.id,
            parameter="nitrobenzene",
            value_mg_l=value,
            detection_limit_mg_l=DL,
            detected=detected,
            qc_flag=qc,
            entered_at=now,
            entered_by="t",
            corrects_id=corrects,
        )
        session.add(row)
        session.flush()
        return row

    for label in POINTS:
        pf = truth.point(label)
        sp = SamplingPoint(
            revision_id=rev.id,
            number=label,
            role="receptor",
            reach_id=pf.reach_id,
            km=pf.km,
            lat=0.0,
            lon=0.0,
            distance_from_source_m=pf.distance_from_source_m,
        )
        session.add(sp)
        session.flush()
        curve = truth.curves_mg_l[truth.points.index(pf)]
        above = np.flatnonzero(curve > 0.05 * curve.max())
        for h in np.linspace(truth.times_h[above[0]] - 1.0, truth.times_h[above[-1]], 5):
            value = float(np.interp(h, truth.times_h, curve) * np.exp(0.1 * rng.standard_normal()))
            at = truth.release_start + timedelta(hours=float(h))
            if value < DL:
                result(sp.id, at, None, detected=False)
            else:
                result(sp.id, at, value)
        if not left_out:
            continue
        # left out: a QC-flagged outlier, a blank, and a value corrected by a later entry
        mid = truth.release_start + timedelta(hours=float(truth.times_h[int(np.argmax(curve))]))
        result(sp.id, mid, 50.0, qc="holding time exceeded")
        result(sp.id, mid, 40.0, sample_type="field_blank")
        wrong = result(sp.id, mid, 30.0)
        result(sp.id, mid, float(curve.max()), corrects=wrong.id)
    return {"truth": truth, "recorded_start": req.start, "mass": req.spills[0].mass_kg}


@pytest.fixture
def with_results(demo_engine, demo_code):
    with session_scope(demo_engine) as s:
        info = _add_results(s, demo_code, np.random.default_rng(21))
    return demo_engine, demo_code, info


def test_observations_leave_out_qc_blanks_and_superseded(with_results):
    engine, code, _ = with_results
    with session_scope(engine) as s:
        obs = usvc.incident_observations(s, code)
    assert len(obs.rows) == 4 * 6  # 5 samples + the correction at each point
    assert obs.skipped == {"QC-flagged": 4, "blank": 4, "superseded by a correction": 4}
    assert all(o.value_mg_l != 30.0 and o.value_mg_l != 50.0 for o in obs.rows)


def test_calibration_recovers_the_truth_and_is_logged(with_results):
    engine, code, info = with_results
    with session_scope(engine) as s:
        report = usvc.calibrate_incident(s, code, actor="analyst", horizon_h=48)
    est = report.fit.estimates
    assert est["mass_kg"] == pytest.approx(info["mass"] * TRUE_MASS_FACTOR, rel=0.10)
    true_start = info["recorded_start"] + timedelta(minutes=TRUE_SHIFT_MIN)
    assert abs((report.estimated_start - true_start).total_seconds()) <= 1800
    assert est["velocity_factor"] == pytest.approx(TRUE_FU, rel=0.05)
    assert report.fit.rms_log < report.fit.rms_log_prior
    # after the fit, the forecast peak at W2 is close to the truth's, the prior's is not
    truth_peak = info["truth"].point("W2").peak_mg_l
    after_err = abs(report.after.point("W2").peak_mg_l / truth_peak - 1)
    before_err = abs(report.before.point("W2").peak_mg_l / truth_peak - 1)
    assert after_err < 0.1 and after_err < before_err / 2
    with session_scope(engine) as s:
        row = s.get(ModelCalibration, report.calibration_id)
        assert row.decision == "pending" and row.created_by == "analyst"
        assert json.loads(row.fit_json)["n_observations"] == 24
        kinds = [
            e.kind
            for e in s.exec(
                select(LogEntry).where(LogEntry.kind.like("calibration.%")).order_by(LogEntry.seq)
            )
        ]
    assert kinds == ["calibration.run"]


def test_accept_then_forecast_uses_it_and_decisions_are_final(with_results):
    engine, code, info = with_results
    with session_scope(engine) as s:
        first = usvc.calibrate_incident(s, code, actor="analyst", reforecast=False)
        second = usvc.calibrate_incident(s, code, actor="analyst", reforecast=False)
    with session_scope(engine) as s:
        usvc.decide(s, code, second.calibration_id, accept=False, actor="lead", reason="too few points")
        usvc.decide(s, code, first.calibration_id, accept=True, actor="lead")
    with session_scope(engine) as s:
        with pytest.raises(UserError, match="already accepted"):
            usvc.decide(s, code, first.calibration_id, accept=False, actor="lead")
        with pytest.raises(UserError, match="no calibration #999"):
            usvc.decide(s, code, 999, accept=True, actor="lead")
        req, cal = usvc.request_with_calibration(s, code, horizon_h=48)
        assert cal.id == first.calibration_id
        assert req.spills[0].mass_kg == pytest.approx(first.fit.estimates["mass_kg"])
        fc = forecast_incident(s, code, horizon_h=48)
        entries = [
            (e.kind, e.actor)
            for e in s.exec(
                select(LogEntry).where(LogEntry.kind.like("calibration.%")).order_by(LogEntry.seq)
            )
        ]
    assert ("calibration.rejected", "lead") in entries and ("calibration.accepted", "lead") in entries
    assert any("accepted calibration" in w for w in fc.warnings)
    truth = info["truth"]
    # the calibrated forecast's times are after the *estimated* release start; compare clock times
    got = fc.at(fc.point("W2").leading_edge_h)
    want = truth.at(truth.point("W2").leading_edge_h)
    assert abs((got - want).total_seconds()) < 1800


def test_no_results_is_a_clear_refusal(demo_engine, demo_code):
    with session_scope(demo_engine) as s, pytest.raises(UserError, match="no results usable"):
        usvc.calibrate_incident(s, demo_code, actor="t")


def test_ensemble_bands_on_the_incident_forecast(demo_engine, demo_code):
    with session_scope(demo_engine) as s:
        req = request_for_incident(s, demo_code, horizon_h=72)
    fc = run_forecast(req)
    result, setup = usvc.run_request_ensemble(req, n_members=400, seed=3)
    usvc.apply_bands(fc, result, setup)
    w2 = fc.point("W2")
    lo, mid, hi = w2.leading_edge_band_h
    assert lo < mid < hi and lo < w2.leading_edge_h < hi  # the central forecast sits inside the band
    assert w2.peak_band_mg_l[0] < w2.peak_mg_l < w2.peak_band_mg_l[2]
    assert fc.point("AS1").leading_edge_band_h == (float("inf"),) * 3  # upstream of the spill
    with pytest.raises(UserError, match="ensemble size"):
        usvc.run_request_ensemble(req, n_members=0)


# ---------------------------------------------------------------- tracing from a file


def _trace_csv(tmp_path, *, bad: str | None = None) -> str:
    """Stations W1, AS2, W2 (receptors) and an upstream automatic station AS1 (non-detects), sampled
    hourly around a spill at M03 km 45 (the demo's Qiaotou bridge) started 2026-05-01 08:00."""
    from incident.core.clock import parse_local
    from incident.core.rivers import load_river_file
    from incident.plume.forecast import ForecastPointSpec, ForecastRequest, Spill, receptor_points

    net = load_river_file(DEMO_RIVER)
    start = parse_local("2026-05-01 08:00")
    req = ForecastRequest(
        network=net,
        start=start,
        horizon_h=36,
        spills=[Spill("M03", net.offset_for_km("M03", 45.0), mass_kg=5000.0, duration_h=0.0)],
        points=[p for p in receptor_points(net) if p.label in ("AS1", "W1", "AS2", "W2")]
        + [ForecastPointSpec("X9", "bank sample", "M05", 5000.0)],
        detection_mg_l=0.0005,
    )
    fc = run_forecast(req)
    lines = ["station,reach,km,time,value_mg_l,detection_limit_mg_l"]
    for p in fc.points:
        curve = fc.curves_mg_l[fc.points.index(p)]
        for h in np.arange(0.0, 36.0, 1.5):
            value = float(np.interp(h, fc.times_h, curve))
            text = "ND" if value < 0.0005 else f"{value:.5f}"
            reach, km = ("M05", f"{p.km:.3f}") if p.label == "X9" else ("", "")
            lines.append(
                f"{p.label},{reach},{km},{fmt_local(start + timedelta(hours=float(h)))},{text},0.0005"
            )
    if bad:
        lines[3] = bad
    path = tmp_path / "obs.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_trace_file_ranks_the_true_reach_first(tmp_path):
    rep = usvc.trace_file(_trace_csv(tmp_path), DEMO_RIVER)
    best = rep.candidates[0]
    assert best.reach_id == "M03" and rep.reaches[0][0] == "M03"
    assert abs(best.km - 45.0) <= 3.0
    assert abs((best.release - parse_local("2026-05-01 08:00")).total_seconds()) <= 3600


def test_trace_file_errors_name_the_line(tmp_path):
    with pytest.raises(ValidationErrors) as err:
        usvc.trace_file(_trace_csv(tmp_path, bad="W1,,,2026-05-01 09:00,O.5,0.0005"), DEMO_RIVER)
    assert "line 4: value_mg_l" in str(err.value) and "'O.5'" in str(err.value)
    with pytest.raises(ValidationErrors, match="not a receptor"):
        usvc.trace_file(_trace_csv(tmp_path, bad="Nowhere,,,2026-05-01 09:00,0.1,0.0005"), DEMO_RIVER)


# ---------------------------------------------------------------- CLI


def test_cli_calibrate_accept_and_forecast_with_ensemble(with_results, capsys):
    engine, code, _ = with_results
    url = str(engine.url)
    assert main(["--db", url, "recalibrate", code, "--json", "--horizon", "48"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["decision"] == "pending" and out["fit"]["n_observations"] == 24
    assert {"point", "arrival_before_h", "arrival_after_h"} <= set(out["points"][0])
    assert main(["--db", url, "recalibrate", code, "--accept", str(out["id"])]) == 0
    assert "accepted" in capsys.readouterr().out
    assert main(["--db", url, "recalibrate", code, "--reject", str(out["id"])]) == 2
    assert "already accepted" in capsys.readouterr().err
    assert main(["--db", url, "forecast", code, "--ensemble", "300", "--seed", "4", "--json"]) == 0
    fc = json.loads(capsys.readouterr().out)
    assert fc["ensemble"]["members"] == 300
    w2 = next(b for b in fc["ensemble"]["bands"] if b["point"] == "W2")
    assert w2["arrival_p10_h"] < w2["arrival_p50_h"] < w2["arrival_p90_h"]
    assert any("accepted calibration" in w for w in fc["warnings"])


def test_cli_trace_table(tmp_path, capsys):
    assert main(["trace", _trace_csv(tmp_path), "--river", str(DEMO_RIVER), "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "most likely reaches" in out and "M03" in out.split("best candidates:")[1].splitlines()[3]
