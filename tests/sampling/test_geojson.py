"""GeoJSON export: RFC 7946 structure, round trip through the project's loaders, plume extent."""

from __future__ import annotations

import json

import pytest

from incident.core.errors import UserError
from incident.core.rivers import parse_river
from incident.reports.gis import check_rfc7946, load_plan_geojson, plan_geojson, plume_runs
from incident.sampling.layout import propose_points


@pytest.fixture
def exported(demo_river, make_forecast):
    net, src, _ = demo_river
    fc = make_forecast(with_profiles=(6.0, 30.0))
    points = propose_points(net, *src, fc).points
    doc = plan_geojson(net, points, code="INC-T", forecast=fc, at_h=30.0)
    return net, fc, points, json.dumps(doc, ensure_ascii=False)


def test_is_rfc7946(exported):
    _, _, _, text = exported
    doc = json.loads(text)
    check_rfc7946(doc)
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    for f in doc["features"]:
        g = f["geometry"]
        positions = [g["coordinates"]] if g["type"] == "Point" else g["coordinates"]
        for lon, lat in positions:
            # lon/lat order: the demo river is at about 109° E, 24° N
            assert 108 < lon < 111 and 23 < lat < 26


def test_rfc7946_checker_can_fail():
    bad = {"type": "FeatureCollection", "crs": {}, "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [24.6, 190.0]}},
        {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [[1, 2]]}},
    ]}  # fmt: skip
    with pytest.raises(UserError) as err:
        check_rfc7946(bad)
    text = str(err.value)
    assert "crs" in text and "feature 0" in text and "feature 1" in text


def test_river_part_round_trips_through_parse_river(exported):
    net, _, _, text = exported
    layers = load_plan_geojson(text)
    again = parse_river(json.dumps(layers.river), source="export")
    assert [r.reach_id for r in again.reaches] == [r.reach_id for r in net.reaches]
    assert [r.length_m for r in again.reaches] == pytest.approx([r.length_m for r in net.reaches])
    assert [(r.receptor_id, r.km) for r in again.receptors] == [(r.receptor_id, r.km) for r in net.receptors]


def test_points_round_trip(exported):
    net, _, points, text = exported
    layers = load_plan_geojson(text)
    assert [p["number"] for p in layers.points] == [p.number for p in points]
    for back, p in zip(layers.points, points, strict=True):
        assert (back["lat"], back["lon"]) == pytest.approx((p.lat, p.lon), abs=1e-6)
        assert back["km"] == pytest.approx(p.km, abs=1e-3)
        assert back["mandatory"] == p.mandatory and back["arrival_h"] == p.arrival_h
        # the position is on the river at its km
        assert net.snap(back["lat"], back["lon"]).km == pytest.approx(p.km, abs=0.01)


def test_plume_extent_matches_the_profile(exported, demo_river):
    net, fc, _, text = exported
    _, src, _ = demo_river
    layers = load_plan_geojson(text)
    assert layers.plume and all(f["at_h"] == 30.0 for f in layers.plume)
    # at 30 h the slug's centre has travelled Σ v·t; the exported plume brackets the profile's peak
    peak_reach, peak_off, peak_c = max(
        ((rid, offs[c.argmax()], c.max()) for rid, offs, c in fc.profiles[30.0]), key=lambda x: x[2]
    )
    peak_km = net.km_of(peak_reach, peak_off)
    assert any(f["from_km"] <= peak_km <= f["to_km"] and f["reach"] == peak_reach for f in layers.plume)
    # nothing upstream of the source or above it at km 45 is in the plume
    assert all(f["from_km"] > net.km_of(*src) for f in layers.plume if f["reach"].startswith("M"))
    # every exported run is above the threshold, every profile node above it is inside a run
    runs, used, method = plume_runs(net, fc, 30.0)
    assert method == "profile" and used == 30.0
    for rid, offs, conc in fc.profiles[30.0]:
        for off, c in zip(offs, conc, strict=True):
            if c > fc.detection_mg_l:
                assert any(r.reach_id == rid and r.start_m <= off <= r.end_m for r in runs)


def test_plume_from_points_when_no_profiles(demo_river, make_forecast):
    net, src, _ = demo_river
    fc = make_forecast()
    runs, used, method = plume_runs(net, fc, 30.0)
    assert method == "points" and runs
    doc = plan_geojson(net, [], code="X", forecast=fc, at_h=30.0, include_river=False)
    check_rfc7946(doc)
