"""Plausibility (issue 16): a result is checked against the stored forecast and the point's history;
a flagged result is marked everywhere, kept out of exceedance counts and released reports until a
person confirms it (with a reason, logged) or corrects it.

Demo incident: 8000 kg of nitrobenzene over 0.5 h at km 45 of the Jade River; S4 is the Xishan
intake (W1), 20 km down; S1 the upstream control. The stored 24 h forecast puts the leading edge at
W1 a few hours after the release and the peak under 2 mg/L; the mass allows 8000 kg / (350 m³/s ·
0.5 h) = 12.7 mg/L fully mixed.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from incident.cli import main
from incident.core import log
from incident.core.errors import UserError
from incident.core.incidents import get_incident
from incident.core.store.engine import session_scope
from incident.overview import dashboard
from incident.plume import forecast_incident, store_forecast
from incident.reports import draft_report, edit_report, release_report, review_report
from incident.reports.data import gather
from incident.results import add_result, confirm_result, correct_result, result_records
from tests.results.test_results import lab, sample


@pytest.fixture
def forecast(planned):
    """(engine, code, stored forecast, release start)."""
    engine, code = planned
    with session_scope(engine) as s:
        stored = store_forecast(s, code, forecast_incident(s, code, horizon_h=24), actor="planner")
        release = get_incident(s, code).release_start
    return engine, code, stored, release


def test_the_unit_slip_at_the_intake_is_flagged_kept_out_and_blocks_release(forecast, capsys):
    engine, code, stored, release = forecast
    w1 = stored.point("W1")
    earliest = min(w1.leading_edge_h, w1.jobson_leading_h) * 0.8
    assert 1.0 < earliest  # the sample below is taken before the plume can be there
    assert 20 > 10 * w1.peak_mg_l  # and its value is far above the forecast peak
    with session_scope(engine) as s:
        slip = sample(s, code, point="S4", at=release + timedelta(hours=1.0))
        s2 = sample(s, code, point="S2", at=release + timedelta(hours=2.0))
        good = add_result(s, code, lab(s2.code, "0.5"), actor="t")
    # `incident result add` shows the flag and its reasons
    argv = [
        "--db",
        str(engine.url),
        "--user",
        "Li Wei",
        "result",
        "add",
        slip.code,
        "--param",
        "nitrobenzene",
    ]
    assert main([*argv, "--value", "20", "--dl", "0.0005", "--method", "hj648_gc", "--json"]) == 0
    added = json.loads(capsys.readouterr().out)
    assert added["held"] and added["flagged"]
    kinds = {h["kind"]: h["reason"] for h in added["plausibility"]}
    assert set(kinds) == {"before_arrival", "above_forecast"}  # 20 < 2×12.7 mg/L: the mass allows it
    assert f"forecast #{stored.id}" in kinds["before_arrival"]
    assert f"{20 / w1.peak_mg_l:.0f}× the forecast peak" in kinds["above_forecast"]
    held_id = added["id"]
    # `incident results CODE --json` carries the same flag in the cell
    assert main(["--db", str(engine.url), "results", code, "--round", "1", "--json"]) == 0
    cells = {c["point"]: c for c in json.loads(capsys.readouterr().out)["cells"]}
    assert cells["S4"]["qc_flag"] and cells["S4"]["text"].endswith("!")
    assert cells["S4"]["results"][0]["held"] and not cells["S2"]["results"][0]["held"]
    assert {h["kind"] for h in cells["S4"]["results"][0]["plausibility"]} == set(kinds)
    with session_scope(engine) as s:
        # out of the exceedance counts and the conclusions; marked in the data table
        assert dashboard(s, code).exceedances == 1  # S2 only
        data = gather(s, get_incident(s, code))
        assert [r.id for r in data.exceedances] == [good.id] and [r.id for r in data.held] == [held_id]
        rid = draft_report(s, code, "monitoring", actor="writer").id
        review_report(s, code, rid, reviewer="checker")
        with pytest.raises(UserError) as refused:
            release_report(s, code, rid, by="chief")
        assert f"result #{held_id}" in refused.value.problem and slip.code in refused.value.problem
        with pytest.raises(UserError):
            confirm_result(s, code, held_id, reason="  ", actor="chief")
    with session_scope(engine) as s:
        rec = confirm_result(s, code, held_id, reason="re-measured by the lab: 20 mg/L stands", actor="chief")
        assert not rec.held and rec.holds[0].cleared_by == "chief"
        entries = [e for e in log.entries(s, log.incident_chain(code)) if e.kind == "result.confirmed"]
        assert len(entries) == 2 and "20 mg/L stands" in entries[0].summary
        assert dashboard(s, code).exceedances == 2
        edit_report(s, code, rid, actor="writer")  # re-render with the confirmed result
        review_report(s, code, rid, reviewer="checker")
        assert release_report(s, code, rid, by="chief").state == "released"


def test_a_100x_jump_is_flagged_and_its_correction_is_not(forecast):
    engine, code, _stored, release = forecast
    with session_scope(engine) as s:
        first = sample(s, code, point="S3", at=release + timedelta(hours=30))
        add_result(s, code, lab(first.code, "0.05"), actor="t")
        second = sample(s, code, point="S3", rnd=2, at=release + timedelta(hours=32))
        jump = add_result(s, code, lab(second.code, "5.0"), actor="t")
        assert [h.kind for h in jump.holds] == ["unit_jump"] and "100×" in jump.holds[0].reason
        fixed = correct_result(
            s, code, jump.id, lab(second.code, "0.05"), reason="µg/L read as mg/L", actor="t"
        )
        assert not fixed.held and not fixed.flagged
        current = {r.id for r in result_records(s, code)}
        assert jump.id not in current and fixed.id in current
        # a 50× rise is a plume arriving, not a slip
        third = sample(s, code, point="S3", rnd=3, at=release + timedelta(hours=34))
        assert not add_result(s, code, lab(third.code, "2.5"), actor="t").held


def test_upstream_control_above_background_and_non_detects(forecast):
    engine, code, _stored, release = forecast
    with session_scope(engine) as s:
        up = sample(s, code, point="S1", at=release + timedelta(hours=2))
        nd = add_result(s, code, lab(up.code, "<0.0005"), actor="t")
        assert not nd.holds  # a non-detect is never implausible
        up2 = sample(s, code, point="S1", rnd=2, at=release + timedelta(hours=4))
        hit = add_result(s, code, lab(up2.code, "0.01"), actor="t")
        assert [h.kind for h in hit.holds] == ["upstream_above_background"]
        assert "20×" in hit.holds[0].reason  # 0.01 against the detection limit 0.0005


def test_the_jump_check_reads_the_same_neighbours_as_the_whole_history(forecast):
    """The unit-jump check reads only the nearest result before and after (two indexed look-ups,
    issue 19). Here a point's history has ties in time, a non-detect, a field blank, a corrected
    result, another parameter and another point; at every time around it the two look-ups return what
    sorting the whole history (the check as it was) returns."""
    import random

    from sqlmodel import col, select

    from incident.core.store.tables import Result, Sample, result_is_current
    from incident.results import plausibility

    engine, code, _stored, release = forecast
    rng = random.Random(5)
    with session_scope(engine) as s:
        hours = [30, 31, 31, 33, 35, 35, 36]
        for i, h in enumerate(hours):
            smp = sample(s, code, point="S3", rnd=1 + i % 3, at=release + timedelta(hours=h))
            rec = add_result(s, code, lab(smp.code, f"{rng.choice([0.02, 0.05, 0.08])}"), actor="t")
            if i == 3:
                correct_result(s, code, rec.id, lab(smp.code, "0.06"), reason="re-read", actor="t")
            if i == 4:
                add_result(s, code, lab(smp.code, "0.3", param="aniline"), actor="t")
        nd = sample(s, code, point="S3", rnd=2, at=release + timedelta(hours=32))
        add_result(s, code, lab(nd.code, "<0.0005"), actor="t")
        blank = sample(
            s, code, point="S3", rnd=2, at=release + timedelta(hours=34), sample_type="field_blank"
        )
        add_result(s, code, lab(blank.code, "0.04"), actor="t")
        other = sample(s, code, point="S4", rnd=2, at=release + timedelta(hours=33))
        add_result(s, code, lab(other.code, "0.9"), actor="t")
        checked = 0
        for smp in s.exec(select(Sample).where(col(Sample.sampled_at) > release)).all():
            for row in s.exec(select(Result).where(Result.sample_id == smp.id, result_is_current())).all():
                history = [
                    (r, x)
                    for r, x in s.exec(
                        select(Result, Sample)
                        .join(Sample, col(Result.sample_id) == Sample.id)
                        .where(
                            Result.incident_id == row.incident_id,
                            Result.parameter == row.parameter,
                            Sample.point_id == smp.point_id,
                            Sample.sample_type != "field_blank",
                            col(Result.detected).is_(True),
                            col(Result.value_mg_l).is_not(None),
                            Result.id != row.id,
                            Result.id != (row.corrects_id or -1),
                            result_is_current(),
                        )
                        .order_by(col(Result.id))
                    )
                ]
                history.sort(key=lambda rs: rs[1].sampled_at)
                before = [r for r, x in history if x.sampled_at <= smp.sampled_at]
                after = [r for r, x in history if x.sampled_at > smp.sampled_at]
                want = [
                    r.value_mg_l for r in ([before[-1]] if before else []) + ([after[0]] if after else [])
                ]
                assert plausibility._neighbour_values(s, row, smp) == want, (smp.code, row.parameter)
                checked += bool(want)
        assert checked >= 8
