"""Rows for the demo register: only the rows whose inputs changed are recomputed; local and Dask
runs give identical rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from incident.preplan import build_preplan, load_inputs, write_tables
from incident.preplan.compute import Settings

DEMO = Path(__file__).resolve().parents[2] / "incident" / "data" / "demo"
RIVER = DEMO / "jade_river.geojson"
FAST = Settings(n_members=16)


def _edit_register(tmp_path: Path, name: str, edit) -> Path:
    doc = json.loads((DEMO / name).read_text(encoding="utf-8"))
    for feat in doc["features"]:
        edit(feat["properties"])
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def demo_build():
    inputs = load_inputs(RIVER, DEMO / "jade_risk_sources.geojson", DEMO / "jade_intakes.geojson")
    return inputs, build_preplan(inputs, flows="low,median", workers=1, settings=FAST)


def test_demo_rows_cover_sources_downstream_intakes_and_flows(demo_build):
    inputs, report = demo_build
    keys = {r["key"] for r in report.rows}
    assert "S01|W1|low" in keys and "S01|W3|median" in keys
    assert not any(k.startswith("S11|W1|") for k in keys)  # W1 is upstream of S11
    assert not any(k.startswith("S08|W1|") for k in keys)  # S08 is on the tributary, below W1's branch
    assert len(report.computed) == len(report.rows) and report.reused == []
    row = next(r for r in report.rows if r["key"] == "S01|W2|median")
    assert row["arrival_p10_h"] <= row["arrival_p50_h"] <= row["arrival_p90_h"]
    assert [ip["id"] for ip in row["interception_points"]] == ["I1", "I2", "I4"]  # in flow order
    low = next(r for r in report.rows if r["key"] == "S01|W2|low")
    assert low["arrival_p50_h"] > row["arrival_p50_h"]  # low flow is slower
    # the standard release (1 t) arrives later and peaks lower than the maximum credible one (20 t)
    assert row["standard_release"]["peak_mg_l"] < row["peak_mg_l"]
    gate = row["interception_points"][1]
    assert gate["hours_to_act"] == pytest.approx(gate["arrival_p10_h"] - gate["response_h"], abs=1e-3)


def test_changing_one_source_recomputes_only_its_rows(tmp_path, demo_build):
    inputs, first = demo_build
    previous = {r["key"]: r for r in first.rows}

    def bigger_spill(props):
        if props["id"] == "S05":
            props["substances"][0]["max_release_kg"] = 90000

    changed = load_inputs(
        RIVER,
        _edit_register(tmp_path, "jade_risk_sources.geojson", bigger_spill),
        DEMO / "jade_intakes.geojson",
    )
    again = build_preplan(changed, flows="low,median", workers=1, settings=FAST, previous=previous)
    s05 = sorted(k for k in previous if k.startswith("S05|"))
    assert s05 and again.computed == s05
    assert len(again.reused) == len(previous) - len(s05)
    rows = {r["key"]: r for r in again.rows}
    assert all(rows[k] == previous[k] for k in again.reused)
    assert all(rows[k]["input_hash"] != previous[k]["input_hash"] for k in s05)
    assert rows["S05|W2|median"]["peak_mg_l"] > previous["S05|W2|median"]["peak_mg_l"]
    # the recomputed rows equal a fresh build of the changed register
    fresh = {r["key"]: r for r in build_preplan(changed, flows="low,median", workers=1, settings=FAST).rows}
    assert rows == fresh


def test_a_contact_or_a_name_recomputes_nothing(tmp_path, demo_build):
    _, first = demo_build
    previous = {r["key"]: r for r in first.rows}

    def new_phone(props):
        if props["id"] == "S02":
            props["contact"]["phone"] = "0771-9999999"
            props["name"] = "Shiban Chemical Works (renamed)"

    changed = load_inputs(
        RIVER, _edit_register(tmp_path, "jade_risk_sources.geojson", new_phone), DEMO / "jade_intakes.geojson"
    )
    again = build_preplan(changed, flows="low,median", workers=1, settings=FAST, previous=previous)
    assert again.computed == [] and again.units == 0
    assert {r["source_name"] for r in again.rows if r["source_id"] == "S02"} == {
        "Shiban Chemical Works (renamed)"
    }


def test_an_interception_point_recomputes_the_rows_it_lies_between(tmp_path, demo_build):
    _, first = demo_build
    previous = {r["key"]: r for r in first.rows}

    def slower_weir(props):
        if props["id"] == "I4":
            props["response_h"] = 12

    changed = load_inputs(
        RIVER,
        DEMO / "jade_risk_sources.geojson",
        _edit_register(tmp_path, "jade_intakes.geojson", slower_weir),
    )
    again = build_preplan(changed, flows="low,median", workers=1, settings=FAST, previous=previous)
    expected = sorted(
        k for k, r in previous.items() if any(ip["id"] == "I4" for ip in r["interception_points"])
    )
    assert expected and again.computed == expected
    row = next(r for r in again.rows if r["key"] == expected[0])
    i4 = next(ip for ip in row["interception_points"] if ip["id"] == "I4")
    assert i4["hours_to_act"] == pytest.approx(i4["arrival_p10_h"] - 12, abs=1e-3)


def test_local_pool_and_dask_give_identical_rows(demo_build):
    from distributed import Client, LocalCluster

    inputs, _ = demo_build
    local = build_preplan(inputs, flows="median", workers=2, settings=FAST)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            on_dask = build_preplan(inputs, flows="median", scheduler=client, settings=FAST)
    assert local.rows == on_dask.rows
    assert len(local.rows) > 20


def test_tables_are_written(tmp_path, demo_build):
    _, report = demo_build
    json_path, csv_path = write_tables(report.rows, tmp_path / "out")
    assert json.loads(json_path.read_text(encoding="utf-8")) == report.rows
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(report.rows) + 1 and lines[0].startswith("source_id,source_name")
