"""Crew routes on the demo: hand-checked travel and slack, qualifications, kits, dispatch, ICS 204 CSV."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from incident.core.rivers import geodesic_m
from incident.core.store.engine import session_scope
from incident.core.store.tables import Assignment, Crew, CrewStatusChange
from incident.sampling.assignment import (
    AssignSettings,
    dispatch,
    ics204_csv,
    ics204_markdown,
    plan_assignment,
    travel_minutes,
)
from incident.sampling.crews import list_crews
from incident.sampling.plans import plan_view, propose_plan


def test_travel_time_formula():
    a, b = (23.951, 109.598), (24.571, 109.381)
    km = geodesic_m(*a, *b) / 1000
    assert 70 < km < 75  # Chengnan HQ → Xishan field office, about 72 km as the crow flies
    assert travel_minutes(a, b, 1.4, 40) == pytest.approx(km * 1.4 / 40 * 60)
    assert travel_minutes(a, b, 1.0, 60) == pytest.approx(km)


@pytest.fixture
def planned(demo_engine, demo_code, demo_forecast):
    with session_scope(demo_engine) as s:
        propose_plan(s, demo_code, demo_forecast, actor="tester")
    return demo_engine, demo_code, demo_forecast


def ready(_session, _kit_id, *, on=None):
    return True, []


def test_slack_and_lateness_hand_checked_on_the_demo(planned):
    engine, code, forecast = planned
    now = forecast.release_start + timedelta(hours=1)
    cfg = AssignSettings(road_factor=1.3, speed_kmh=50, margin_min=20)
    with session_scope(engine) as s:
        view = plan_view(s, code)
        w2 = next(p for p in view.points if p.receptor_id == "W2")
        plan = plan_assignment(s, code, settings=cfg, kit_check=ready, now=now, points=[w2.number])
        crews = {c.name: c for c in list_crews(s)}
    (line,) = plan.lines
    crew = crews[line.crew]
    km = geodesic_m(crew.base_lat, crew.base_lon, w2.lat, w2.lon) / 1000
    travel_min = km * 1.3 / 50 * 60
    deadline = forecast.release_start + timedelta(hours=w2.arrival_h) - timedelta(minutes=20)
    assert line.travel_min == pytest.approx(travel_min, abs=1 / 60)
    assert abs((line.eta - (now + timedelta(minutes=travel_min))).total_seconds()) <= 1
    assert line.required_by == deadline
    expected_slack = (deadline - now).total_seconds() / 60 - travel_min
    assert line.slack_min == pytest.approx(expected_slack, abs=2 / 60)
    assert line.lateness_min == 0 and line.slack_min > 0
    # W2 needs organic_field_test: the nearest qualified crew (A and B share Chengnan HQ, right by W2)
    assert line.crew in ("Crew A", "Crew B")
    assert line.window_kind == "before_arrival" and line.window_open == now and line.stop == 1
    # the same point, asked for after the plume got there: sampled in the plume, before its trailing edge
    late_now = deadline + timedelta(minutes=45)
    with session_scope(engine) as s:
        late = plan_assignment(s, code, settings=cfg, kit_check=ready, now=late_now, points=[w2.number])
    (l2,) = late.lines
    trailing = forecast.release_start + timedelta(hours=w2.trailing_h)
    assert l2.window_kind == "in_plume" and l2.required_by == trailing
    assert l2.slack_min == pytest.approx((trailing - l2.eta).total_seconds() / 60, abs=1e-6)
    # a crew could have beaten the plume there: the window says the plan was late, not the physics
    assert l2.window_reason.startswith("in plume on arrival: the plume reached it at")
    assert l2.earliest_crew_at < l2.plume_at
    assert any(w.startswith(f"{w2.number}: the plume got there before this plan") for w in late.warnings)


def test_crew_without_required_qualification_is_never_assigned(planned):
    engine, code, forecast = planned
    now = forecast.release_start + timedelta(hours=1)
    with session_scope(engine) as s:
        qualified = {c.name for c in list_crews(s) if "organic_field_test" in c.qualifications}
        assert qualified == {"Crew A", "Crew B"}  # from the demo roster
        view = plan_view(s, code)
        needs = {p.number for p in view.points if p.required_qualification == "organic_field_test"}
        assert len(needs) == 3, "the three demo intakes need an organic field test"
        plan = plan_assignment(s, code, kit_check=ready, now=now, points=sorted(needs))
    # routes: two qualified crews cover all three intakes, each before the plume
    assert {line.point for line in plan.lines} == needs and not plan.unmet
    for line in plan.lines:
        assert line.crew in qualified and line.eta <= line.required_by


def test_unmet_point_names_the_reasons_and_one_more_crew_as_the_fix(planned):
    """Crew B out; 30 h on site at each intake: Crew A cannot do both S4 and S8 before the plume."""
    from incident.sampling.crews import set_status

    engine, code, forecast = planned
    now = forecast.release_start + timedelta(hours=1)
    with session_scope(engine) as s:
        set_status(s, "Crew B", "out_of_service", actor="tester", code=code, note="flat tyre")
        view = plan_view(s, code)
        needs = sorted(p.number for p in view.points if p.required_qualification == "organic_field_test")
        cfg = AssignSettings(handling_min=30 * 60, per_sample_min=0)
        plan = plan_assignment(s, code, settings=cfg, kit_check=ready, now=now, points=needs)
    assert {line.crew for line in plan.lines} == {"Crew A"}
    (u,) = plan.unmet  # exactly one intake is left: loudly, with why and what would fix it
    assert u.mandatory and u.point in needs
    text = " ".join(u.reasons)
    assert "Crew C: nobody holds a valid organic_field_test certificate" in text
    assert "every eligible crew's route is full" in text
    (fix,) = u.fixes
    assert fix.startswith("one more crew: a crew leaving Centre HQ, Chengnan now would arrive")
    md = ics204_markdown(plan)
    assert "UNMET POINTS" in md and u.point in md.split("UNMET POINTS")[1]


def test_point_nobody_can_reach_in_time_suggests_a_later_round(planned):
    engine, code, forecast = planned
    with session_scope(engine) as s:
        view = plan_view(s, code)
        s4 = next(p for p in view.points if p.receptor_id == "W1")
        # 10 min before the margin closes: nobody is within 10 minutes of the Xishan intake
        deadline = forecast.release_start + timedelta(hours=s4.arrival_h) - timedelta(minutes=30)
        now = deadline - timedelta(minutes=10)
        plan = plan_assignment(s, code, kit_check=ready, now=now, points=[s4.number])
    assert not plan.lines
    (u,) = plan.unmet
    assert u.required_by == deadline
    assert any("cannot be there before" in r for r in u.reasons)
    assert u.fixes and u.fixes[0].startswith("a later round: at ")


def test_kit_not_ready_blocks_the_crew(planned):
    engine, code, forecast = planned
    with session_scope(engine) as s:
        kit_of_a = s.exec(select(Crew).where(Crew.name == "Crew A")).one().kit_id

        def kits(_s, kit_id, *, on=None):
            return (False, ["pH probe calibration overdue"]) if kit_id == kit_of_a else (True, [])

        plan = plan_assignment(s, code, kit_check=kits, now=forecast.release_start)
    assert "Crew A" not in {line.crew for line in plan.lines}
    (why,) = [why for crew, why in plan.idle if crew == "Crew A"]
    assert why.startswith("kit KIT-ORG-1:") and "overdue" in why


def test_out_of_service_crew_is_not_used_and_dispatch_sets_assigned(planned):
    from incident.sampling.crews import set_status

    engine, code, forecast = planned
    with session_scope(engine) as s:
        set_status(s, "Crew D", "out_of_service", actor="tester", code=code, note="vehicle breakdown")
        plan = plan_assignment(s, code, kit_check=ready, now=forecast.release_start)
        assert "Crew D" not in {line.crew for line in plan.lines}
        assert ("Crew D", "status out_of_service") in plan.idle
        rows = dispatch(s, plan, actor="tester", crew_check=lambda *_a, **_k: [])  # readiness: see its tests
        assert len(rows) == len(plan.lines)  # one row per stop
        routed = set(plan.routes)
        assert routed and "Crew D" not in routed
        for route in plan.routes.values():  # stops numbered 1..n, arrivals in order
            assert [x.stop for x in route] == list(range(1, len(route) + 1))
            assert all(a.departs <= b.eta for a, b in zip(route, route[1:], strict=False))
    with session_scope(engine) as s:
        statuses = {c.name: c.status for c in s.exec(select(Crew))}
        assert {statuses[name] for name in routed} == {"assigned"}
        stored = s.exec(select(Assignment)).all()
        assert sorted((a.crew_id, a.stop) for a in stored) == sorted((x.crew_id, x.stop) for x in plan.lines)
        changes = s.exec(select(CrewStatusChange).where(CrewStatusChange.status == "assigned")).all()
        assert len(changes) == len(routed) and all(c.note.startswith("route ") for c in changes)


def test_ics204_csv_has_one_line_per_assignment_and_unmet(planned):
    import csv
    import io

    engine, code, forecast = planned
    with session_scope(engine) as s:
        plan = plan_assignment(s, code, kit_check=ready, now=forecast.release_start)
    rows = list(csv.DictReader(io.StringIO(ics204_csv(plan))))
    assert len(rows) == len(plan.lines) + len(plan.unmet)
    assert sum(r["crew"] == "UNMET" for r in rows) == len(plan.unmet)
    for row, line in zip(rows, plan.lines, strict=False):
        assert row["crew"] == line.crew and row["point"] == line.point
        if line.slack_min is None:
            assert (
                row["slack_min"] == "" and line.required_by is None
            )  # no deadline: the plume never gets there
        else:
            assert float(row["slack_min"]) == pytest.approx(line.slack_min, abs=0.05)


def test_crew_starts_where_it_checked_in_then_where_it_last_sampled(planned):
    from incident.core.store.tables import Sample
    from incident.sampling.crews import check_in

    engine, code, forecast = planned
    now = forecast.release_start + timedelta(hours=1)
    with session_scope(engine) as s:
        view = plan_view(s, code)
        s2 = next(p for p in view.points if p.role == "downstream_control")
        s8 = next(p for p in view.points if p.receptor_id == "W2")
        plan = plan_assignment(s, code, kit_check=ready, now=now, points=[s8.number])
        assert {x.crew: x.place for x in plan.starts}["Crew C"] == "Pingle sub-station"  # home base
        check_in(s, code, "Crew C", actor="tester", departure_point="Qiaotou bridge", lat=s2.lat, lon=s2.lon,
                 at=now - timedelta(minutes=5))  # fmt: skip
        plan = plan_assignment(s, code, kit_check=ready, now=now, points=[s8.number])
        start = next(x for x in plan.starts if x.crew == "Crew C")
        assert (start.place, start.lat, start.lon) == ("Qiaotou bridge", s2.lat, s2.lon)
        # a member of Crew C (Tan Xue) samples at S8 later: the crew is there now
        s.add(Sample(code="T-1", incident_id=1, point_id=s8.id, sampled_at=now - timedelta(minutes=1),
                     sampler="Tan Xue", created_at=now))  # fmt: skip
        s.flush()
        plan = plan_assignment(s, code, kit_check=ready, now=now, points=[s8.number])
        start = next(x for x in plan.starts if x.crew == "Crew C")
        assert start.place == f"{s8.number} (sampled)" and (start.lat, start.lon) == (s8.lat, s8.lon)
    with pytest.raises(Exception, match="WGS84"):
        with session_scope(engine) as s:
            check_in(s, code, "Crew A", actor="tester", lat=124.0, lon=24.0)


def test_later_round_reaches_every_point_at_the_round_time_within_tolerance(planned):
    from incident.sampling.rounds import regenerate

    engine, code, forecast = planned
    now = forecast.release_start + timedelta(hours=1)
    with session_scope(engine) as s:
        rounds = regenerate(s, code, actor="tester", forecast=forecast, now=now)
        later = next(r for r in rounds if r.number >= 2 and r.at > now + timedelta(hours=3))
        cfg = AssignSettings(round_no=later.number, tolerance_min=45, search_s=0.5)
        plan = plan_assignment(s, code, settings=cfg, kit_check=ready, now=now)
    assert plan.round_at == later.at and plan.lines
    tol = timedelta(minutes=45)
    for x in plan.lines:
        assert (
            x.window_kind == "round" and x.window_open == later.at - tol and x.required_by == later.at + tol
        )
        assert later.at - tol <= x.eta <= later.at + tol
    # with four crews not every section can be sampled within ±45 min: each gap says why and the fix
    for u in plan.unmet:
        assert u.reasons and u.fixes
    with pytest.raises(Exception, match="no planned round 99"):
        with session_scope(engine) as s:
            plan_assignment(s, code, settings=AssignSettings(round_no=99), kit_check=ready, now=now)
