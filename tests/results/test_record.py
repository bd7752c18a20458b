"""One result record: the results screen, `incident results --json`, the dashboard, the report data
and the exported report agree on each result's status, exceedance multiple and latest correction.

Four results on the demo incident (GB 3838-2002 limits: cadmium 0.005, nitrobenzene 0.017 mg/L):
- a rapid cadmium positive at S3 that nothing has confirmed (suspected);
- a rapid cadmium positive at S2, confirmed on the same sample by ICP-MS (a different principle);
- a nitrobenzene result at S4 typed as 5.8 and corrected to 0.58 (only the correction counts);
- a nitrobenzene result at S2 whose parallel differs by more than the RPD limit (QC-flagged).
"""

from __future__ import annotations

import json
import re

import pytest

from incident.cli import main
from incident.core.store.engine import session_scope
from incident.overview import dashboard
from incident.reports import draft_report, export_report
from incident.reports.data import gather
from incident.results import ResultInput, add_result, correct_result, result_records, round_table
from tests.results.test_results import lab, sample

CD, NB = 0.005, 0.017  # mg/L, GB 3838-2002 class III / Table 3


def rapid_cd(sample_code: str, value: str) -> ResultInput:
    return ResultInput(
        sample=sample_code,
        parameter="cadmium",
        value=value,
        detection_limit="0.001",
        method="asv_portable",
        instrument="INS-HM-01",
    )


@pytest.fixture
def four(planned):
    """(engine, code, ids) with the four results described above."""
    engine, code = planned
    with session_scope(engine) as s:
        s3 = sample(s, code, point="S3")
        suspected = add_result(s, code, rapid_cd(s3.code, "0.02"), actor="t")
        s2 = sample(s, code, point="S2")
        confirmed = add_result(s, code, rapid_cd(s2.code, "0.03"), actor="t")
        icp = ResultInput(
            sample=s2.code, parameter="cadmium", value="0.031", detection_limit="0.0001", method="hj700_icpms"
        )
        lab_cd = add_result(s, code, icp, actor="t")
        s4 = sample(s, code, point="S4")
        typo = add_result(s, code, lab(s4.code, "5.8"), actor="t")
        corrected = correct_result(s, code, typo.id, lab(s4.code, "0.58"), reason="decimal point", actor="t")
        s2b = sample(s, code, point="S2")
        flagged = add_result(s, code, lab(s2b.code, "0.10"), actor="t")
        par = sample(s, code, point="S2", sample_type="parallel", parallel_of=s2b.code)
        add_result(s, code, lab(par.code, "0.20"), actor="t")
    ids = {
        "suspected": suspected.id,
        "confirmed": confirmed.id,
        "lab": lab_cd.id,
        "typo": typo.id,
        "corrected": corrected.id,
        "flagged": flagged.id,
    }
    return engine, code, ids


def test_the_record_states_status_multiple_correction_and_flags(four):
    engine, code, ids = four
    with session_scope(engine) as s:
        recs = {r.id: r for r in result_records(s, code)}
        history = {r.id: r for r in result_records(s, code, include_superseded=True)}
    assert recs[ids["suspected"]].status == "suspected"
    assert recs[ids["suspected"]].multiple == pytest.approx((0.02 - CD) / CD)  # 3.0
    assert recs[ids["confirmed"]].status == "confirmed"
    assert recs[ids["confirmed"]].confirmed_by == ids["lab"]
    assert recs[ids["confirmed"]].multiple == pytest.approx((0.03 - CD) / CD)  # 5.0
    # the latest correction wins: the typo is not current, the correction is, and says so
    assert ids["typo"] not in recs and history[ids["typo"]].superseded_by == ids["corrected"]
    assert recs[ids["corrected"]].corrected and recs[ids["corrected"]].corrects_id == ids["typo"]
    assert recs[ids["corrected"]].multiple == pytest.approx((0.58 - NB) / NB)  # 33.1
    assert history[ids["typo"]].multiple == pytest.approx((5.8 - NB) / NB)
    # RPD |0.10 − 0.20| / 0.15 = 67 % > 30 % for a trace organic
    assert recs[ids["flagged"]].qc_flags == ["rpd_exceeded"] and recs[ids["flagged"]].flagged
    assert not recs[ids["confirmed"]].flagged


def test_screen_cli_dashboard_report_and_export_agree(four, capsys, tmp_path):
    engine, code, ids = four
    with session_scope(engine) as s:
        recs = {r.id: r for r in result_records(s, code)}
        table = round_table(s, code, 1)
        board = dashboard(s, code)
        from incident.core.incidents import get_incident

        data = gather(s, get_incident(s, code))
        info = draft_report(s, code, "monitoring", actor="writer")
        out = export_report(s, code, info.id, tmp_path / "report.md", actor="writer")
    wanted = {i: (recs[i].status, recs[i].multiple, recs[i].qc_flags) for i in recs}

    # the results screen's data: every cell carries the records it shows
    screen = {r.id: (r.status, r.multiple, r.qc_flags) for c in table.cells.values() for r in c.records}
    assert screen == {i: w for i, w in wanted.items() if i in screen}
    assert set(screen) >= {ids["suspected"], ids["confirmed"], ids["corrected"], ids["flagged"]}
    assert table.cells[("S3", "cadmium")].text.endswith("?")  # suspected
    assert table.cells[("S4", "nitrobenzene")].text == "0.58 mg/L (33.1×)"

    # incident results CODE --round 1 --json
    assert main(["--db", str(engine.url), "results", code, "--round", "1", "--json"]) == 0
    cli = {
        r["id"]: (r["status"], r["multiple"], r["qc"])
        for cell in json.loads(capsys.readouterr().out)["cells"]
        for r in cell["results"]
    }
    for i, (status, multiple, qc) in wanted.items():
        if i in cli:
            assert cli[i] == (status, None if multiple is None else round(multiple, 2), ", ".join(qc))
    assert ids["typo"] not in cli and cli[ids["confirmed"]][0] == "confirmed"

    # the dashboard counts the current exceedances: 2 cadmium rapid (3.0×, 5.0×), ICP-MS (5.2×),
    # the corrected 33.1× and the flagged 4.9× (QC flags do not remove a result from the count)
    assert board.exceedances == 5

    # the report data: the same record, placed on the river
    rows = {r.id: r for r in data.results + data.qc_results}
    for i, (status, multiple, qc) in wanted.items():
        assert (rows[i].status, rows[i].multiple, rows[i].qc_flags) == (status, multiple, qc)
    assert ids["typo"] not in rows and rows[ids["corrected"]].corrected

    # the exported report: one data-table row per sample, with the same status and multiple
    text = out.read_text(encoding="utf-8")

    def row_of(result_id: int) -> str:
        r = rows[result_id]
        found = [
            line
            for line in text.splitlines()
            if f"| {r.sample} |" in line.replace("\\", "") and r.parameter_name in line
        ]
        assert found, r.sample
        return " ".join(found)

    assert re.search(r"\*rapid; suspected\*", row_of(ids["suspected"]))
    assert "rapid; confirmed" in row_of(ids["confirmed"])  # was "suspected" before the one record
    assert "3.0 times over" in row_of(ids["suspected"]) and "5.0 times over" in row_of(ids["confirmed"])
    assert "33.1 times over" in row_of(ids["corrected"]) and "corrected" in row_of(ids["corrected"])
    assert "5.8" not in row_of(ids["corrected"])
    assert "QC: parallel RPD over its limit" in row_of(ids["flagged"])
