"""River GeoJSON: the demo validates; every kind of bad file is refused clearly and whole."""

from __future__ import annotations

import copy
import json

import pytest
from geopy.distance import geodesic

from incident.core.errors import UserError, ValidationErrors
from incident.core.rivers import load_river_file, parse_river
from incident.demo.seed import DEMO_RIVER


def _line(lat0, lon0, lat1, lon1):
    return {
        "type": "LineString",
        "coordinates": [[lon0, lat0], [(lon0 + lon1) / 2, (lat0 + lat1) / 2], [lon1, lat1]],
    }


def small_river() -> dict:
    """A main stem of 3 reaches flowing south, a tributary joining at R2, one intake."""
    reach = {"discharge_m3s": 100.0, "width_m": 50.0, "depth_m": 2.0}
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"id": "R1", "downstream": "R2", **reach},
                "geometry": _line(24.3, 109.0, 24.2, 109.0),
            },
            {
                "type": "Feature",
                "properties": {"id": "R2", "downstream": "R3", **reach},
                "geometry": _line(24.2, 109.0, 24.1, 109.0),
            },
            {
                "type": "Feature",
                "properties": {"id": "R3", "downstream": None, **reach},
                "geometry": _line(24.1, 109.0, 24.0, 109.0),
            },
            {
                "type": "Feature",
                "properties": {"id": "T1", "downstream": "R2", **reach},
                "geometry": _line(24.2, 109.1, 24.2, 109.0),
            },
            {
                "type": "Feature",
                "properties": {"id": "W1", "name": "Intake", "kind": "drinking_water_intake"},
                "geometry": {"type": "Point", "coordinates": [109.0003, 24.05]},
            },
        ],
    }


def _parse(doc) -> object:
    return parse_river(json.dumps(doc), source="river.geojson")


def _refusal(doc) -> str:
    with pytest.raises(UserError) as err:
        _parse(doc)
    return str(err.value)


def test_demo_river_is_valid_and_measured():
    net = load_river_file(DEMO_RIVER)
    assert len(net.reaches) >= 10
    assert net.main_stem_km >= 200
    intakes = [r for r in net.receptors if r.kind == "drinking_water_intake"]
    assert len(intakes) >= 2
    assert any(r.kind == "boundary_section" for r in net.receptors)
    assert any(r.branch != "main" for r in net.reaches), "needs a tributary"
    assert max(r.discharge_m3s for r in net.reaches) >= 1000
    # every reach comes before its downstream reach
    order = [r.reach_id for r in net.reaches]
    for r in net.reaches:
        if r.downstream:
            assert order.index(r.reach_id) < order.index(r.downstream)


def test_chainage_is_geodesic_and_snapping_reports_distance_off():
    net = _parse(small_river())
    r1 = net.reach("R1")
    expected = geodesic((24.3, 109.0), (24.2, 109.0)).meters
    assert r1.length_m == pytest.approx(expected, rel=1e-9)
    assert net.reach("R2").km_start == pytest.approx(expected / 1000, rel=1e-9)
    # a point 0.001° of longitude east of R2's middle: ~101 m off the river at 24.15°N
    snap = net.snap(24.15, 109.001)
    assert snap.reach_id == "R2"
    assert snap.distance_off_m == pytest.approx(geodesic((24.15, 109.0), (24.15, 109.001)).meters, rel=0.01)
    assert snap.km == pytest.approx(
        net.reach("R2").km_start + geodesic((24.2, 109.0), (24.15, 109.0)).km, abs=0.01
    )
    intake = net.receptors[0]
    assert intake.reach_id == "R3" and intake.distance_off_m < 50


def test_flow_distance_downstream_only():
    net = _parse(small_river())
    d = net.distance_downstream_m("T1", 0.0, "R3", 0.0)
    assert d == pytest.approx(net.reach("T1").length_m + net.reach("R2").length_m)
    assert net.distance_downstream_m("R3", 0.0, "R1", 0.0) is None
    assert net.distance_downstream_m("T1", 0.0, "R1", 100.0) is None


def test_surveyed_length_overrides_geometry():
    doc = small_river()
    doc["features"][0]["properties"]["length_m"] = 12345.0
    net = _parse(doc)
    assert net.reach("R1").length_m == 12345.0
    assert net.reach("R2").km_start == pytest.approx(12.345)


@pytest.mark.parametrize(
    "mutate, expect",
    [
        (
            lambda d: d["features"][1]["properties"].pop("discharge_m3s"),
            ["feature 1 (id R2)", "discharge_m3s: is missing"],
        ),
        (
            lambda d: d["features"][2]["properties"].update(width_m=-5),
            ["feature 2 (id R3)", "width_m: is -5", "must be > 0"],
        ),
        (
            lambda d: d["features"][0]["properties"].update(depth_m="O.5"),
            ["feature 0 (id R1)", "not a number", "O.5"],
        ),
        (lambda d: d["features"][2]["properties"].update(downstream="R1"), ["loop", "R1 → R2 → R3 → R1"]),
        (
            lambda d: d["features"][3]["properties"].update(downstream=None),
            ["2 outlets", "feature 3 (id T1)", "disconnected"],
        ),
        (
            lambda d: d["features"][3]["properties"].update(downstream="R9"),
            ["feature 3 (id T1)", "'R9' does not exist"],
        ),
        (
            lambda d: d["features"][4]["geometry"].update(coordinates=[109.2, 24.05]),
            ["feature 4 (id W1)", "km from the nearest reach"],
        ),
        (lambda d: d["features"][4]["geometry"].update(coordinates=[24.05, 109.0003]), ["feature 4 (id W1)"]),
        (lambda d: d["features"][3]["properties"].update(id="R1"), ["duplicate id 'R1'"]),
        (
            lambda d: d["features"][4]["properties"].update(kind="pond"),
            ["feature 4 (id W1)", "kind: 'pond' is not one of the allowed values"],
        ),
        (
            lambda d: d["features"][0].update(geometry={"type": "Polygon", "coordinates": []}),
            ["feature 0 (id R1)", "Polygon"],
        ),
        (
            lambda d: d["features"][1]["geometry"].update(coordinates=[[109.5, 24.2], [109.5, 24.1]]),
            ["feature 0 (id R1)", "disconnected"],
        ),
        (
            lambda d: d["features"][1]["geometry"].update(coordinates=[[109.0, 24.2], [109.0, 24.2]]),
            ["feature 1 (id R2)", "0.00 m long", "distinct positions"],
        ),
        (
            lambda d: d["features"][1]["geometry"].update(coordinates=[[109.0, 24.2], [float("nan"), 24.1]]),
            ["feature 1 (id R2)", "geometry.coordinates[2][1]: must be a finite number"],
        ),
        (
            lambda d: d["features"][1]["properties"].update(length_m=float("inf")),
            ["feature 1 (id R2)", "length_m: must be a finite number"],
        ),
    ],
    ids=[
        "missing",
        "negative",
        "letter-O",
        "loop",
        "two-outlets",
        "unknown-downstream",
        "receptor-far",
        "receptor-swapped",
        "duplicate",
        "bad-kind",
        "polygon",
        "gap",
        "zero-length",
        "nan-coordinate",
        "infinite-length",
    ],
)
def test_bad_files_are_refused_with_feature_and_fix(mutate, expect):
    doc = copy.deepcopy(small_river())
    mutate(doc)
    message = _refusal(doc)
    for fragment in expect:
        assert fragment in message, message
    assert "fix:" in message


def test_swapped_coordinates_get_a_hint():
    doc = small_river()
    doc["features"][4]["geometry"]["coordinates"] = [24.05, 109.0003]
    assert "swapped" in _refusal(doc) or "lon" in _refusal(doc)


def test_all_problems_reported_at_once():
    doc = small_river()
    doc["features"][0]["properties"]["width_m"] = -1
    doc["features"][2]["properties"]["depth_m"] = "deep"
    with pytest.raises(ValidationErrors) as err:
        _parse(doc)
    assert len(err.value.problems) == 2
    assert "nothing was imported" in str(err.value)


def test_json_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection",\n "features": [\n  {"type": "Feature",,}\n]}\n')
    with pytest.raises(UserError) as err:
        load_river_file(path)
    assert f"{path}:3:" in str(err.value)


def test_not_utf8_is_refused(tmp_path):
    path = tmp_path / "gbk.geojson"
    path.write_bytes(json.dumps(small_river(), ensure_ascii=False).replace("Intake", "取水口").encode("gbk"))
    with pytest.raises(UserError) as err:
        load_river_file(path)
    assert "UTF-8" in str(err.value)
