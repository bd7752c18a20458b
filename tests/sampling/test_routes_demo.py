"""Acceptance on the demo incident, with the real forecast service and the demo crews and kits.

Round 1 covers every mandatory point — the upstream control section, the sections near the
source, every intake (and every other receptor) — each before the plume's forecast earliest
arrival. Where the forecast has the plume there before any crew could be (the near-source
sections: the spill was reported after it reached them), the crew is there before its trailing
edge and the plan says so.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from incident.cli import main
from incident.core.clock import as_utc, incident_now
from incident.core.incidents import get_incident
from incident.core.store.engine import session_scope
from incident.plume import forecast_incident
from incident.sampling import default_kit_check, plan_view, propose_plan, requests_for
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
    margin = timedelta(minutes=cfg.margin_min)
    for p in mandatory:
        line = visited[p.number]
        pf = forecast.point(forecast_label(p))  # the forecast itself, not the plan's copy
        if pf.leading_edge_h is None:  # the upstream control: outside the plume
            assert p.role == "upstream_control" and line.window_kind == "no_plume"
            continue
        earliest = forecast.release_start + timedelta(hours=pf.leading_edge_h)
        if earliest - margin > now:
            assert line.window_kind == "before_arrival"
            assert line.eta <= earliest - margin, f"{p.number} reached after the plume"
        else:  # the plume was there before the alert: reach it before it has passed
            assert p.role in ("downstream_control", "attenuation"), p.number
            trailing = forecast.release_start + timedelta(hours=pf.trailing_edge_h)
            assert line.window_kind == "in_plume" and line.eta <= trailing
            assert any(
                w.startswith(f"{p.number}: the plume got there before any crew") for w in plan.warnings
            )
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
    for route in out["routes"]:
        assert route["start"]["place"] and route["leader"]
        stops = route["stops"]
        assert [s["stop"] for s in stops] == list(range(1, len(stops) + 1))
        for s in stops:
            assert s["arrival"] >= s["window"]["open"]
            if s["window"]["close"] is not None:
                assert s["arrival"] <= s["window"]["close"]
        assert [s["arrival"] for s in stops] == sorted(s["arrival"] for s in stops)
    assert out["travel"].startswith("geodesic distance × 1.4 at 40 km/h")
