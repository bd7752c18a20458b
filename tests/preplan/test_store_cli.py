"""Pre-plans in the store, the log, the CLI, the documents and the demo dashboard."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

from incident.cli import main
from incident.core import log
from incident.core.incidents import get_incident
from incident.core.store.engine import session_scope
from incident.overview import dashboard
from incident.preplan import build_and_store, load_inputs, preplan_rows_near
from incident.preplan.compute import Settings

DEMO = Path(__file__).resolve().parents[2] / "incident" / "data" / "demo"
RIVER, SOURCES, INTAKES = (
    DEMO / "jade_river.geojson",
    DEMO / "jade_risk_sources.geojson",
    DEMO / "jade_intakes.geojson",
)


def test_demo_incident_shows_its_preplan_rows(demo_engine, demo_code):
    with session_scope(demo_engine) as s:
        data = dashboard(s, demo_code)
        inc = get_incident(s, demo_code)
        rows = preplan_rows_near(s, inc)
    # the demo tanker crash is on Qiaotou bridge, registered as S01
    assert {line.source_id for line in data.preplan} == {"S01"}
    assert {(line.intake_id, line.flow) for line in data.preplan} == {
        (w, f) for w in ("W1", "W2", "W3") for f in ("low", "median", "high")
    }
    w1 = next(line for line in data.preplan if line.intake_id == "W1" and line.flow == "median")
    assert 0 < w1.arrival_p10_h < w1.arrival_p50_h < w1.arrival_p90_h < 24
    assert w1.first_interception == "I1" and w1.reserve_h == 8
    assert rows[0]["incident_distance_km"] < 0.1
    # the W1 arrival is that of a 20 t benzene spill 23 km upstream at about 0.8 m/s: a few hours
    assert 2 < w1.arrival_p50_h < 8


def test_no_rows_for_an_incident_far_from_every_source(demo_engine):
    far = SimpleNamespace(source_reach="M12", source_km=235.0, source_lat=23.2, source_lon=109.9)
    with session_scope(demo_engine) as s:
        assert preplan_rows_near(s, far) == []


def test_register_changes_and_rows_are_logged(tmp_path, demo_engine):
    doc = json.loads(SOURCES.read_text(encoding="utf-8"))
    for feat in doc["features"]:
        if feat["properties"]["id"] == "S01":
            feat["properties"]["substances"][1]["max_release_kg"] = 30000
    edited = tmp_path / "sources.geojson"
    edited.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    inc = SimpleNamespace(source_reach="M03", source_km=45.0, source_lat=None, source_lon=None)
    with session_scope(demo_engine) as s:
        before = {r["key"]: r for r in preplan_rows_near(s, inc)}
        report = build_and_store(
            s, load_inputs(RIVER, edited, INTAKES), actor="tester", near=inc, settings=Settings(n_members=200)
        )
        entries = log.entries(s, log.CENTRE_CHAIN)
        ok, _ = log.verify_chain(entries)
        after = {r["key"]: r for r in preplan_rows_near(s, inc)}
    assert ok
    register, rows = entries[-2], entries[-1]
    assert register.kind == "preplan.register" and rows.kind == "preplan.rows"
    changed = json.loads(register.payload_json)["changed"]
    assert [(c["role"], c["id"]) for c in changed] == [("source", "S01")]
    assert changed[0]["before"] != changed[0]["after"]
    payload = json.loads(rows.payload_json)
    assert sorted(payload["computed"]) == sorted(before) == report.computed
    assert {r["key"]: r["before"] for r in payload["replaced"]} == {
        k: r["input_hash"] for k, r in before.items()
    }
    assert all(after[k]["peak_mg_l"] > before[k]["peak_mg_l"] for k in before)


def test_cli_build_show_and_documents(tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 'pp.sqlite'}"
    out = tmp_path / "out"
    args = ["--db", db, "preplan", "build", "--river", str(RIVER), "--sources", str(SOURCES)]
    args += ["--intakes", str(INTAKES), "--flows", "median,high=2.5", "--members", "20", "--out", str(out)]
    assert main([*args, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"] == summary["computed"] > 20 and summary["register_added"] == 21
    assert main([*args, "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["computed"] == 0 and again["unchanged"] == summary["rows"]

    assert main(["--db", db, "preplan", "show", "W2", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["flow"] for r in rows} == {"median", "high"}
    for r in rows:
        assert r["intake_id"] == "W2"
        for key in ("arrival_p10_h", "arrival_p50_h", "arrival_p90_h", "peak_mg_l", "hours_above_standard"):
            assert key in r
        for ip in r["interception_points"]:
            assert "hours_to_act" in ip
    assert main(["--db", db, "preplan", "show", "W2", "--flow", "median"]) == 0
    assert "S01" in capsys.readouterr().out
    assert main(["--db", db, "preplan", "show", "W9"]) == 2
    assert "no pre-plan rows for intake 'W9'" in capsys.readouterr().err

    for lang, word in (("en", "Pre-plan for W2"), ("zh", "应急预案")):
        page = (out / f"preplan_W2_{lang}.html").read_text(encoding="utf-8")
        md = (out / f"preplan_W2_{lang}.md").read_text(encoding="utf-8")
        assert word in page and word in md
        assert page.count("<svg") == 2 and "S01" in page
        # self-contained and offline: nothing fetched from anywhere
        assert not re.search(r"(src|href)=\"https?:|@import|url\(|<script", page)
        assert (out / f"preplan_W2_{lang}_map.svg").exists() and f"preplan_W2_{lang}_chart.svg" in md
    assert (out / "rows.csv").read_text(encoding="utf-8").count("\n") == summary["rows"] + 1


def test_cli_refuses_a_bad_register_with_file_line_field(tmp_path, capsys):
    bad = tmp_path / "sources.csv"
    bad.write_text("id,name,kind,reach,km,substance,max_release_kg\nS1,Plant,factory,M02,24,benzene,10\n")
    code = main(
        ["--db", f"sqlite:///{tmp_path / 'x.sqlite'}", "preplan", "build", "--river", str(RIVER)]
        + ["--sources", str(bad), "--intakes", str(INTAKES), "--out", str(tmp_path / "o")]
    )
    assert code == 2
    assert "sources.csv, line 2, kind: 'factory' is not one of the allowed values" in capsys.readouterr().err
