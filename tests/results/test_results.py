"""Samples and results: label IDs, evaluation, suspected/confirmed, corrections, evidence."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from incident.core import log
from incident.core.clock import utcnow
from incident.core.errors import UserError, ValidationErrors
from incident.core.incidents import get_incident
from incident.core.standards import exceedance_multiple, parameters, resolve_parameter
from incident.core.store.engine import session_scope
from incident.core.store.tables import Result
from incident.results import entry as results
from incident.results.entry import NewSample, ResultInput


def sample(s, code, point="S2", rnd=1, **kw):
    spec = NewSample(
        point=point, round=rnd, sampled_at=kw.pop("at", utcnow() - timedelta(hours=1)), sampler="Li Wei", **kw
    )
    return results.create_sample(s, code, spec, actor="tester")


def lab(sample_code, value, param="nitrobenzene", **kw):
    base = dict(
        sample=sample_code,
        parameter=param,
        value=value,
        unit="mg/L",
        detection_limit="0.0005",
        method="hj648_gc",
    )
    base.update(kw)
    return ResultInput(**base)


def test_exceedance_multiple_matches_the_reporting_convention():
    assert exceedance_multiple(0.595, 0.017) == pytest.approx(34.0)  # "34 times over"
    assert exceedance_multiple(0.017, 0.017) == 0
    assert exceedance_multiple(0.010, 0.017) < 0


def test_standards_class_iii_values_from_the_domain_brief():
    p = parameters()
    expected = {
        "cadmium": 0.005,
        "chromium_vi": 0.05,
        "lead": 0.05,
        "mercury": 0.0001,
        "arsenic": 0.05,
        "cyanide": 0.2,
        "volatile_phenol": 0.005,
        "petroleum": 0.05,
        "ammonia_nitrogen": 1.0,
        "cod": 20,
        "benzene": 0.01,
        "nitrobenzene": 0.017,
    }
    for key, limit in expected.items():
        assert p[key].limit_for("III") == pytest.approx(limit), key
    assert p["cadmium"].limit_for("I") == 0.001 and p["cadmium"].limit_for("V") == 0.01


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Cd", "cadmium"),
        ("镉", "cadmium"),
        ("Cr(VI)", "chromium_vi"),
        ("六价铬", "chromium_vi"),
        ("NH3-N", "ammonia_nitrogen"),
        ("硝基苯", "nitrobenzene"),
    ],
)
def test_parameter_aliases(text, key):
    assert resolve_parameter(text).key == key


def test_unknown_parameter_suggests_close_names():
    with pytest.raises(UserError) as err:
        resolve_parameter("cadmim")
    assert "cadmium" in err.value.fix


def test_sample_gets_a_label_id_and_is_evidence(planned):
    engine, code = planned
    with session_scope(engine) as s:
        a = sample(s, code, parameters=["硝基苯"])
        b = sample(s, code)
        blank = sample(s, code, sample_type="field_blank")
        par = sample(s, code, sample_type="parallel", parallel_of=a.code)
    assert a.code == f"{code}-S2-R1-01"
    assert b.code == f"{code}-S2-R1-02"
    assert blank.code.endswith("B") and par.code.endswith("P")
    label = a.label()
    assert set(label) == {"id", "point", "parameters", "time", "sampler"}
    assert label["parameters"] == "nitrobenzene" and label["sampler"] == "Li Wei"
    with session_scope(engine) as s:
        entries = log.entries(s, log.incident_chain(code))
        assert [e.kind for e in entries].count("sample.logged") == 4
        assert log.verify_chain(entries)[0]


def test_sample_refusals_name_each_field(planned):
    engine, code = planned
    with session_scope(engine) as s, pytest.raises(ValidationErrors) as err:
        results.create_sample(
            s,
            code,
            NewSample(
                point="S9", round=7, sampled_at=utcnow() + timedelta(hours=2), sampler="Li", checker="Li"
            ),
            actor="t",
        )
    wheres = {p.where for p in err.value.problems}
    assert {"point", "round", "checker", "time"} <= wheres


def test_quantitative_result_is_evaluated_with_its_multiple(planned):
    engine, code = planned
    with session_scope(engine) as s:
        smp = sample(s, code)
        v = results.add_result(
            s, code, lab(smp.code, "595", unit="µg/L", detection_limit="0.5"), actor="tester"
        )
    assert v.value_mg_l == pytest.approx(0.595)
    assert v.verdict == "exceeds" and v.multiple == pytest.approx(34.0)
    assert v.status == "final" and v.text == "595 µg/L"


@pytest.mark.parametrize(
    ("fields", "verdict"),
    [
        (dict(value="<0.001", detection_limit=None), "meets"),
        (dict(value="0.001L", detection_limit=None), "meets"),
        (dict(value="ND", detection_limit="0.05"), "undetermined"),  # DL above the 0.017 limit
        (dict(value="0.01"), "meets"),
        (dict(value="0.02", value_high="0.05"), "exceeds"),  # semi-quantitative, low end over
        (dict(value="0.005", value_high="0.01"), "meets"),
        (dict(value="0.01", value_high="0.05"), "undetermined"),
        (dict(value=None, detected="yes"), "undetermined"),
    ],
)
def test_verdicts_for_each_kind_of_result(planned, fields, verdict):
    engine, code = planned
    with session_scope(engine) as s:
        smp = sample(s, code)
        v = results.add_result(s, code, lab(smp.code, **fields), actor="t")
    assert v.verdict == verdict


@pytest.mark.parametrize(
    ("fields", "where", "says"),
    [
        (dict(value="O.5"), "value", "letter O"),
        (dict(value="0,5"), "value", "comma"),
        (dict(value="5e"), "value", "exponent"),
        (dict(value="1..2"), "value", "decimal point"),
        (dict(value=""), "value", "empty"),
        (dict(value="-1"), "value", "negative"),
        (dict(unit=""), "unit", "empty"),
        (dict(unit="mg/kg"), "unit", "soil unit"),
        (dict(unit="ppm"), "unit", "ambiguous"),
        (dict(detection_limit="0,001"), "detection limit", "comma"),
        (dict(detection_limit=None), "detection limit", "needs its detection limit"),
        (dict(value="0.0001"), "value", "below the detection limit"),
        (dict(value="<0.01", detection_limit="0.001"), "detection limit", "says below"),
        (dict(parameter="cadmim"), "parameter", "unknown parameter"),
        (dict(method=""), "method", "empty"),
        (dict(method="my method", principle=""), "principle", "no analytical principle"),
        (dict(method="test_strip"), "instrument", "names its instrument"),
        (dict(instrument="NOPE-1"), "instrument", "no equipment"),
        (dict(value="0.2", value_high="0.1"), "value high", "reversed"),
        (dict(value=None, detected="maybe"), "detected", "neither yes nor no"),
        (dict(sample="NOPE"), "sample", "no sample"),
    ],
)
def test_each_bad_field_is_refused_with_its_name(planned, fields, where, says):
    engine, code = planned
    with session_scope(engine) as s:
        smp = sample(s, code)
        raw = lab(smp.code, fields.pop("value", "0.01"), **fields)
        with pytest.raises(ValidationErrors) as err:
            results.add_result(s, code, raw, actor="t")
    hits = [p for p in err.value.problems if p.where == where and says in p.problem]
    assert hits, [p.render() for p in err.value.problems]
    with session_scope(engine) as s:
        assert s.exec(select(Result)).first() is None


def test_rapid_positive_is_suspected_until_another_principle_confirms(planned):
    engine, code = planned
    with session_scope(engine) as s:
        smp = sample(s, code)
        strip = results.add_result(
            s,
            code,
            ResultInput(
                sample=smp.code,
                parameter="cadmium",
                value="0.02",
                unit="mg/L",
                detection_limit="0.005",
                method="asv_portable",
                instrument="INS-HM-01",
            ),
            actor="t",
        )
        assert strip.status == "suspected" and strip.method_kind == "rapid"
        # a second rapid method on the same (electrochemical) principle does not confirm
        results.add_result(
            s,
            code,
            ResultInput(
                sample=smp.code,
                parameter="cadmium",
                value="0.03",
                unit="mg/L",
                detection_limit="0.005",
                method="ASV (other brand)",
                principle="electrochemical",
                rapid=True,
                instrument="INS-HM-01",
            ),
            actor="t",
        )
        assert results.result_records(s, code, result_ids=[strip.id])[0].status == "suspected"
        # a parallel sample at the same point and round, measured by ICP-MS, confirms
        par = sample(s, code, sample_type="parallel", parallel_of=smp.code)
        icp = results.add_result(
            s,
            code,
            ResultInput(
                sample=par.code,
                parameter="cadmium",
                value="0.021",
                unit="mg/L",
                detection_limit="0.0001",
                method="hj700_icpms",
            ),
            actor="t",
        )
        now = results.result_records(s, code, result_ids=[strip.id])[0]
        assert now.status == "confirmed" and now.confirmed_by == icp.id


def test_rapid_positive_not_confirmed_when_the_lab_does_not_detect(planned):
    engine, code = planned
    with session_scope(engine) as s:
        smp = sample(s, code)
        strip = results.add_result(
            s,
            code,
            ResultInput(
                sample=smp.code,
                parameter="chromium_vi",
                value=None,
                detected="yes",
                method="test_strip",
                instrument="INS-PHO-01",
            ),
            actor="t",
        )
        assert strip.status == "suspected"
        # lab spectrophotometry is the same colorimetric principle: it neither confirms nor refutes
        results.add_result(
            s,
            code,
            ResultInput(sample=smp.code, parameter="chromium_vi", value="<0.004", method="gb7467_dpc"),
            actor="t",
        )
        assert results.result_records(s, code, result_ids=[strip.id])[0].status == "suspected"
        results.add_result(
            s,
            code,
            ResultInput(sample=smp.code, parameter="chromium_vi", value="<0.001", method="hj700_icpms"),
            actor="t",
        )
        assert results.result_records(s, code, result_ids=[strip.id])[0].status == "not_confirmed"


def test_rapid_negative_is_not_suspected(planned):
    engine, code = planned
    with session_scope(engine) as s:
        smp = sample(s, code)
        v = results.add_result(
            s,
            code,
            ResultInput(
                sample=smp.code,
                parameter="cadmium",
                value="<0.005",
                method="asv_portable",
                instrument="INS-HM-01",
            ),
            actor="t",
        )
    assert v.status == "final" and v.method_kind == "rapid"


def test_instrument_description_and_overdue_calibration_flag(planned):
    engine, code = planned
    with session_scope(engine) as s:
        smp = sample(s, code)
        ok = results.add_result(
            s,
            code,
            ResultInput(
                sample=smp.code,
                parameter="cadmium",
                value="0.004",
                detection_limit="0.001",
                method="asv_portable",
                instrument="INS-HM-01",
            ),
            actor="t",
        )
        late = results.add_result(
            s,
            code,
            ResultInput(
                sample=smp.code,
                parameter="cadmium",
                value="0.004",
                detection_limit="0.001",
                method="asv_portable",
                instrument="INS-HM-02",
            ),
            actor="t",
        )
    assert (
        "ASV-3000" in ok.instrument_desc
        and "HM3000-1187" in ok.instrument_desc
        and "valid until" in ok.instrument_desc
    )
    assert ok.qc_flags == []
    assert "OVERDUE" in late.instrument_desc and late.qc_flags == ["instrument_calibration"]


def test_correction_is_a_new_row_and_the_old_stays(planned):
    engine, code = planned
    with session_scope(engine) as s:
        smp = sample(s, code)
        first = results.add_result(s, code, lab(smp.code, "5.95"), actor="t")
        fixed = results.correct_result(
            s, code, first.id, lab(smp.code, "0.595"), reason="decimal point slipped", actor="t"
        )
        assert fixed.corrects_id == first.id and fixed.correction_reason == "decimal point slipped"
        current = results.result_records(s, code)
        assert [v.id for v in current] == [fixed.id]
        history = results.result_records(s, code, include_superseded=True)
        old = next(v for v in history if v.id == first.id)
        assert old.superseded_by == fixed.id and old.text == "5.95 mg/L"
        with pytest.raises(UserError, match="already corrected"):
            results.correct_result(s, code, first.id, lab(smp.code, "0.6"), reason="again", actor="t")
        with pytest.raises(UserError, match="needs a reason"):
            results.correct_result(s, code, fixed.id, lab(smp.code, "0.6"), reason=" ", actor="t")
        entries = log.entries(s, log.incident_chain(code))
        assert log.verify_chain(entries)[0]
        assert "result.corrected" in [e.kind for e in entries]


def test_editing_a_result_behind_the_apps_back_is_detected(planned):
    engine, code = planned
    with session_scope(engine) as s:
        smp = sample(s, code)
        v = results.add_result(s, code, lab(smp.code, "0.595"), actor="t")
    with session_scope(engine) as s:
        row = s.get(Result, v.id)
        entry = next(e for e in log.entries(s, log.incident_chain(code)) if e.seq == row.log_seq)
        import json

        assert json.loads(entry.payload_json)["digest"] == log.evidence_digest(row)
        row.value_mg_l = 0.001  # tampering
        assert json.loads(entry.payload_json)["digest"] != log.evidence_digest(row)
        s.rollback()


def test_round_table_highlights_exceedances_and_suspects(planned):
    engine, code = planned
    with session_scope(engine) as s:
        a = sample(s, code, point="S2")
        b = sample(s, code, point="S3")
        results.add_result(s, code, lab(a.code, "0.595"), actor="t")
        results.add_result(s, code, lab(b.code, "0.010"), actor="t")
        c = sample(s, code, point="S4")
        results.add_result(
            s,
            code,
            ResultInput(
                sample=c.code,
                parameter="nitrobenzene",
                value="0.05",
                detection_limit="0.01",
                method="gcms_portable",
                instrument="INS-GC-01",
            ),
            actor="t",
        )
        table = results.round_table(s, code, 1)
    assert table.points == ["S1", "S2", "S3", "S4"]
    assert table.parameters == ["nitrobenzene"]
    s2, s3, s4 = (table.cells[(p, "nitrobenzene")] for p in ("S2", "S3", "S4"))
    assert s2.exceeds and "(34.0×)" in s2.text
    assert not s3.exceeds
    assert s4.suspected and s4.text.endswith("?")
    assert ("S1", "nitrobenzene") not in table.cells
    with session_scope(engine) as s, pytest.raises(UserError, match="no round 9"):
        results.round_table(s, code, 9)


def test_point_series_with_forecast_overlay(planned):
    import numpy as np

    from incident.plume.forecast_types import IncidentForecast, PointForecast

    engine, code = planned
    with session_scope(engine) as s:
        inc = get_incident(s, code)
        times = [utcnow() - timedelta(hours=2), utcnow() - timedelta(hours=1)]
        for h, (at, val) in enumerate(zip(times, ("0.02", "0.5"), strict=True), start=1):
            smp = sample(s, code, point="S4", rnd=h, at=at)
            results.add_result(s, code, lab(smp.code, val), actor="t")
        fc = IncidentForecast(
            release_start=inc.release_start,
            horizon_h=10,
            substance="nitrobenzene",
            standard_mg_l=0.017,
            detection_mg_l=0.0005,
            points=[PointForecast("W1", "Xishan", "M03", 0, 65, 20000)],
            times_h=np.array([0.0, 1.0, 2.0]),
            curves_mg_l=np.array([[0.0, 0.1, 0.4]]),
        )
        series = results.point_series(s, code, "S4", forecast=fc)
    assert series.hours == pytest.approx([(t - inc.release_start).total_seconds() / 3600 for t in times])
    assert series.values_mg_l == pytest.approx([0.02, 0.5])
    assert series.forecast_label == "W1" and series.forecast_mg_l == [0.0, 0.1, 0.4]
