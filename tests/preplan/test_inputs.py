"""The register files: what they accept, and refusals that name file, line/feature and field (en, zh)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from incident.core.errors import UserError
from incident.core.i18n import set_language
from incident.core.rivers import load_river_file
from incident.preplan import load_inputs
from incident.preplan.inputs import load_intakes, load_sources, parse_intakes, parse_sources
from incident.preplan.places import place_register

DEMO = Path(__file__).resolve().parents[2] / "incident" / "data" / "demo"
RIVER = DEMO / "jade_river.geojson"
SOURCES = DEMO / "jade_risk_sources.geojson"
INTAKES = DEMO / "jade_intakes.geojson"

CSV_HEADER = "id,name,kind,reach,km,substance,max_release_kg,release_duration_h,contact_name,contact_phone\n"


def test_demo_register_loads_and_places():
    inputs = load_inputs(RIVER, SOURCES, INTAKES)
    assert len(inputs.placed.sources) >= 10
    assert {i.model.id for i in inputs.placed.intakes} == {"W1", "W2", "W3"}
    kinds = {s.model.kind for s in inputs.placed.sources}
    assert {"enterprise", "outfall", "bridge", "road_crossing", "pipeline", "tank_farm"} <= kinds
    # interception points given as lon/lat snap back to the km they were drawn at
    i1 = next(p for p in inputs.placed.interception_points if p.model.id == "I1")
    assert i1.position.reach_id == "M03" and i1.position.km == pytest.approx(52.0, abs=0.05)
    # W1 is placed from the river file's receptor
    w1 = next(i for i in inputs.placed.intakes if i.model.id == "W1")
    assert w1.position.reach_id == "M04" and w1.model.reserve_h == 8


def test_csv_rows_of_one_source_merge_into_its_substances():
    text = CSV_HEADER + (
        "S1,Plant,enterprise,M02,24,nitrobenzene,5000,2,Li Wei,0771-1\nS1,,,,,benzene,3000,1,,\n"
        "S2,Depot,tank_farm,M04,60,petroleum,50000,1,,\n"
    )
    reg = parse_sources(text, "src.csv", "csv")
    s1 = reg.risk_sources[0]
    assert [s.substance for s in s1.substances] == ["nitrobenzene", "benzene"]
    assert s1.contact.phone == "0771-1" and s1.place.reach == "M02" and s1.place.km == 24
    assert reg.where["S2"] == "src.csv, line 4"


def _refusal(fn, *args) -> str:
    with pytest.raises(UserError) as info:
        fn(*args)
    return str(info.value)


def test_csv_refusals_name_line_and_field():
    text = CSV_HEADER + (
        "S1,Plant,enterprise,M02,24,nitrobenzene,5000,2,,\n"
        "S1,Other name,,,,benzene,-3,1,,\n"
        "S2,Depot,tank_fram,M04,60,petroleum,abc,,,\n"
        "S3,Bridge,bridge,M04,,petroleum,10,,,\n"
        "S2,Depot,tank_farm,M04,60,petroleum,1,,,\n"
    )
    msg = _refusal(parse_sources, text, "src.csv", "csv")
    assert "src.csv: " in msg and "nothing was imported" in msg
    assert "src.csv, line 3, name: 'Other name' here but 'Plant' at src.csv, line 2" in msg
    assert "src.csv, line 3, max_release_kg: is -3; it must be > 0" in msg
    assert "src.csv, line 4, kind: 'tank_fram' is not one of the allowed values" in msg
    assert "tank_farm" in msg  # the fix lists the choices
    assert "src.csv, line 4, max_release_kg: 'abc' is not a number" in msg
    assert "src.csv, line 5, reach/km/lon/lat:" in msg


def test_refusals_in_chinese():
    set_language("zh")
    text = CSV_HEADER + "S1,Plant,enterprise,M02,24,nitrobenzene,0,2,,\n"
    msg = _refusal(parse_sources, text, "src.csv", "csv")
    assert "src.csv, line 2, max_release_kg: 为 0,须 > 0" in msg
    assert "未导入任何内容" in msg


def test_geojson_refusals_name_line_feature_and_field():
    feats = [
        {
            "type": "Feature",
            "geometry": None,
            "properties": {
                "id": "A",
                "name": "a",
                "kind": "outfall",
                "reach": "M01",
                "km": 3,
                "substances": [
                    {"substance": "cadmium", "max_release_kg": 1},
                    {"substance": "lead", "max_release_kg": 0},
                ],
                "colour": "red",
            },
        },
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[109, 25], [109.1, 25]]},
            "properties": {"id": "B"},
        },
        {"type": "Feature", "geometry": None, "properties": {"id": "A", "name": "b", "kind": "bridge"}},
    ]
    text = '{"type": "FeatureCollection",\n "features": [\n' + ",\n".join(json.dumps(f) for f in feats) + "]}"
    msg = _refusal(parse_sources, text, "s.geojson")
    assert "s.geojson, line 3, feature 1 (id A), substances[2].max_release_kg: is 0; it must be > 0" in msg
    assert "s.geojson, line 3, feature 1 (id A), colour: unknown field" in msg
    assert "s.geojson, line 4, feature 2 (id B), geometry: the geometry must be a Point or null" in msg
    assert "s.geojson, line 5, feature 3 (id A), id: id 'A' is used twice" in msg
    assert "feature 3 (id A), substances: is missing" in msg


def test_intakes_file_refusals():
    text = "role,id,name,kind,reach,km,receptor,population_served,reserve_h,response_h\n" + (
        "intake,W1,Works,,,,W1,1.5,8,\n"
        "interception,G1,Gate,gate,M04,64,,,,\n"
        "pumping,X,Pump,,,,,,,\n"
        "interception,G2,Gate 2,sluice,M04,65,,,,1\n"
    )
    msg = _refusal(parse_intakes, text, "in.csv", "csv")
    assert "in.csv, line 2, population_served: '1.5' is not a whole number" in msg
    assert "in.csv, line 3, response_h: is missing" in msg
    assert "in.csv, line 4, role: role 'pumping' is neither intake nor interception" in msg
    assert "in.csv, line 5, kind: 'sluice' is not one of the allowed values" in msg
    assert "weir_site" in msg


def test_placing_refusals_name_the_entry(tmp_path):
    net = load_river_file(RIVER)
    src = parse_sources(
        CSV_HEADER
        + "S1,Plant,enterprise,M99,24,nitrobenzene,5000,2,,\n"
        + "S2,Plant,enterprise,M02,60,nitrobenzene,5000,2,,\n"
        + "S3,Plant,enterprise,M02,24,unobtainium,5000,2,,\n",
        "src.csv",
        "csv",
    )
    itk = parse_intakes(
        "role,id,name,lon,lat,receptor,reserve_h\nintake,W9,Far,110.5,26.0,,4\nintake,W8,Nowhere,,,ZZ,4\n",
        "in.csv",
        "csv",
    )
    msg = _refusal(place_register, net, src, itk)
    assert "src.csv, line 2, reach: unknown reach 'M99'" in msg
    assert "src.csv, line 3, km: km 60 is not on reach M02 (it runs from km 18.000 to km 38.000)" in msg
    assert "src.csv, line 4, substance: unknown substance 'unobtainium' and no standard_mg_l" in msg
    src_ok = parse_sources(
        CSV_HEADER + "S1,Plant,enterprise,M02,24,nitrobenzene,5000,2,,\n", "src.csv", "csv"
    )
    msg = _refusal(place_register, net, src_ok, itk)
    assert "in.csv, line 2, lon/lat: the point is" in msg and "m from the river (limit 1000 m)" in msg
    assert "in.csv, line 3, receptor: unknown receptor 'ZZ'" in msg


def test_files_by_suffix_and_bad_files(tmp_path):
    bad = tmp_path / "reg.xlsx"
    bad.write_text("x")
    assert "unknown file type '.xlsx'" in _refusal(load_sources, bad)
    broken = tmp_path / "reg.geojson"
    broken.write_text('{"type": "FeatureCollection",\n "features": [\n {"type": }]}')
    assert "reg.geojson, line 3: not valid JSON" in _refusal(load_sources, broken)
    latin = tmp_path / "in.csv"
    latin.write_bytes("role,id,name\nintake,W1,Fábrica\n".encode("latin-1"))
    assert "not UTF-8" in _refusal(load_intakes, latin)
    assert "cannot read the file" in _refusal(load_intakes, tmp_path / "missing.csv")
