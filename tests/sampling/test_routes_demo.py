"""Acceptance on the demo incident, with the real forecast service and the demo crews and kits.

Round 1 covers every mandatory point — the upstream control section, the sections near the
source, every intake (and every other receptor) — each before the plume's forecast earliest
arrival, for every point the physics allows. A point is excepted only when the test itself shows
that no crew can possibly be there first: the plume's forecast earliest arrival is before the
alert plus the straight-line drive, at the planner's road speed, from the nearest crew of the
whole roster (ready or not) — a lower bound on any real drive. Such a point is "in plume on
arrival": the crew is there before the plume's trailing edge and the plan says why. On the demo
these are S2 (800 m below the bridge) and S3 (2 km below), as HJ/T 91 places them; see
docs/sampling.md, "Points the plume reaches before any crew can".
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from incident.cli import main
from incident.core.clock import as_utc, incident_now
from incident.core.incidents import get_incident
from incident.core.rivers import geodesic_m
from incident.core.store.engine import session_scope
from incident.plume import forecast_incident
from incident.sampling import default_kit_check, list_crews, plan_view, propose_plan, requests_for
from incident.sampling.assignment import AssignSettings, plan_assignment
from incident.sampling.layout import forecast_label


@pytest.fixture
def demo_plan(demo_engine, demo_code):
    with session_scope(demo_engine) as s:
        forecast = forecast_incident(s, demo_code, extra_points=requests_for(s, demo_code), horizon_h=72)
        propose_plan(s, demo_code, forecast, actor="tester")
    return demo_engine, demo_code, forecast


def test_round_one_covers_every_mandatory_point_before_the_plume(demo_plan):
    engine, code, forecast = demo_plan
    cfg = AssignSettings()
    with session_scope(engine) as s:
        inc = get_incident(s, code)
        now = as_utc(incident_now(inc))
        view = plan_view(s, code)
        plan = plan_assignment(s, code, settings=cfg, kit_check=default_kit_check(), now=now)
    mandatory = [
        p
        for p in view.active_points
        if p.mandatory or p.role in ("upstream_control", "downstream_control", "attenuation")
    ]
    roles = {p.role for p in mandatory}
    assert {"upstream_control", "downstream_control", "attenuation", "receptor"} <= roles
    intakes = [p for p in mandatory if p.receptor_kind == "drinking_water_intake"]
    assert len(intakes) == 3
    visited = {line.point: line for line in plan.lines}
    assert not plan.unmet and set(visited) >= {p.number for p in mandatory}
    # the earliest any crew could possibly be at a point, computed here from the roster: the alert,
    # then the straight line (no detour) at the planner's road speed from the nearest crew's base
    with session_scope(engine) as s:
        bases = [(c.base_lat, c.base_lon) for c in list_crews(s)]
    assert len(bases) == 4  # every crew of the roster counts, Crew D (not ready) too

    def crew_lower_bound(p):
        km = min(geodesic_m(lat, lon, p.lat, p.lon) for lat, lon in bases) / 1000
        return as_utc(inc.alert_at) + timedelta(hours=km / cfg.speed_kmh)

    def earliest_plume(p):
        pf = forecast.point(forecast_label(p))  # the forecast itself, not the plan's copy
        band = [pf.leading_edge_band_h[0]] if pf.leading_edge_band_h else []
        return forecast.release_start + timedelta(hours=min([pf.leading_edge_h, *band]))

    excepted = []
    for p in mandatory:
        line = visited[p.number]
        if forecast.point(forecast_label(p)).leading_edge_h is None:  # the upstream control: outside
            assert p.role == "upstream_control" and line.window_kind == "no_plume"
            continue
        earliest = earliest_plume(p)
        if earliest >= crew_lower_bound(p):  # the physics allows it: the literal criterion
            assert line.window_kind == "before_arrival", p.number
            assert line.eta < earliest, f"{p.number} reached after the plume"
            assert line.eta <= earliest - timedelta(minutes=cfg.margin_min)  # with the margin to spare
            continue
        # excepted: the plume is there before any crew could possibly be (shown above, independently)
        excepted.append(p.number)
        assert earliest < crew_lower_bound(p) <= line.earliest_crew_at
        assert line.plume_at == earliest
        trailing = forecast.release_start + timedelta(hours=p.trailing_h)
        assert line.window_kind == "in_plume" and line.eta <= trailing and line.required_by == trailing
        assert line.window_reason.startswith("in plume on arrival")
        assert "IN PLUME ON ARRIVAL" in line.instructions  # on the crew's ICS 204 special instructions
        assert any(w.startswith(f"{p.number}: the plume got there before any crew") for w in plan.warnings)
    # only the two sections next to the source: 800 m and 2 km below the bridge
    assert excepted == [p.number for p in mandatory if p.role in ("downstream_control", "attenuation")]
    assert len(excepted) == 2
    for p in intakes:  # every intake strictly before the plume, with handling time to spare
        assert visited[p.number].window_kind == "before_arrival"
        assert visited[p.number].requires == "organic_field_test"
        assert visited[p.number].crew in ("Crew A", "Crew B")
    # Crew D's kit is short in the demo inventory: it is not routed, and the plan says why
    assert ("Crew D" not in plan.routes) and any(c == "Crew D" and "KIT-GEN-2" in why for c, why in plan.idle)
    # each route is feasible in its own times: arrive, handle, drive on
    for route in plan.routes.values():
        for a, b in zip(route, route[1:], strict=False):
            assert a.departs + timedelta(minutes=b.travel_min) <= b.eta + timedelta(seconds=1)


def test_assign_json_lists_each_route_as_ordered_stops(demo_plan, capsys):
    engine, code, _ = demo_plan
    rc = main(
        ["--db", str(engine.url), "--user", "chief", "assign", code, "--json", "--search-seconds", "0.3"]
    )
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["round"] == 1 and out["routes"]
    in_plume = []
    for route in out["routes"]:
        assert route["start"]["place"] and route["leader"]
        stops = route["stops"]
        assert [s["stop"] for s in stops] == list(range(1, len(stops) + 1))
        for s in stops:
            assert s["arrival"] >= s["window"]["open"]
            if s["window"]["close"] is not None:
                assert s["arrival"] <= s["window"]["close"]
        assert [s["arrival"] for s in stops] == sorted(s["arrival"] for s in stops)
        for s in stops:
            if s["window"]["kind"] == "in_plume":  # the near-source sections, with the physics stated
                assert s["window"]["label"].startswith("in plume on arrival — sample while the plume passes")
                assert "no crew can be there first" in s["window"]["reason"]
                assert s["plume_earliest"] < s["earliest_crew_possible"] <= s["arrival"]
                in_plume.append(s["point"])
    assert out["travel"].startswith("geodesic distance × 1.4 at 40 km/h")
    assert len(in_plume) == 2
