"""The readiness gate on dispatch: one refusal per reason, the team lead's override, deployed counts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from incident.core import log
from incident.core.errors import UserError
from incident.core.store.engine import session_scope
from incident.core.store.tables import (
    Assignment,
    CalibrationSchedule,
    Checkout,
    Consumable,
    Crew,
    Equipment,
    Kit,
    KitItem,
)
from incident.readiness import check_out, dispatch_refusals, rollup
from incident.sampling.assignment import dispatch, plan_assignment
from incident.sampling.crews import set_status, skip_kit_check
from incident.sampling.layout import forecast_requests
from incident.sampling.plans import incident_river, plan_view, propose_plan
from tests.sampling.plume import slug_forecast


@pytest.fixture
def routed(demo_engine, demo_code):
    """The demo plan, with only Crew A (or the crew asked for) available to route."""
    from incident.core.incidents import get_incident

    with session_scope(demo_engine) as s:
        inc = get_incident(s, demo_code)
        net, reach, offset = incident_river(s, inc)
        fc = slug_forecast(
            net, (reach, offset), forecast_requests(net, reach, offset), release=inc.release_start
        )
        propose_plan(s, demo_code, fc, actor="tester")

    def route(s, crew="Crew A"):
        for other in ("Crew A", "Crew B", "Crew C", "Crew D"):
            if other != crew:
                set_status(s, other, "out_of_service", actor="tester", note="not in this test")
        boundary = next(p for p in plan_view(s, demo_code).points if p.role == "boundary")
        plan = plan_assignment(s, demo_code, kit_check=skip_kit_check, points=[boundary.number])
        assert set(plan.routes) == {crew}
        return plan

    return demo_engine, demo_code, route


def crew_kit(s, crew="Crew A") -> Kit:
    return s.get(Kit, s.exec(select(Crew).where(Crew.name == crew)).one().kit_id)


def refused(engine, route, spoil, crew="Crew A") -> str:
    with pytest.raises(UserError) as exc, session_scope(engine) as s:
        plan = route(s, crew)
        spoil(s)
        s.flush()
        dispatch(s, plan, actor="tester")
    assert exc.value.problem.startswith("dispatch refused, NOT READY — ")
    assert "--override" in exc.value.fix and "--lead" in exc.value.fix
    return exc.value.problem


def test_ready_crew_is_dispatched_and_its_kit_goes_out(routed):
    engine, code, route = routed
    with session_scope(engine) as s:
        assert dispatch_refusals(s, s.exec(select(Crew).where(Crew.name == "Crew A")).one().id) == []
        plan = route(s)
        before = rollup(s)
        dispatch(s, plan, actor="tester")
    with session_scope(engine) as s:
        after = rollup(s)
        (co,) = s.exec(select(Checkout).where(Checkout.in_at.is_(None))).all()
        assert co.kit_id == crew_kit(s).id and co.override_reason is None
    # readiness counts what is deployed: Crew A is out, so one team fewer can be fielded now
    assert before.teams_deployed == 0 and after.teams_deployed == 1 and after.kits_out == 1
    assert before.teams_ready == 1 and after.teams_ready == 0 and not after.can_field
    assert not next(t for t in after.teams if t.crew == "Crew A").counted


def test_refused_crew_not_ready(routed):
    engine, code, route = routed
    # Crew C: its leader's hazmat PPE certificate has expired (demo roster)
    text = refused(engine, route, lambda s: None, crew="Crew C")
    assert "Crew C: Mo Jun: hazmat PPE certificate expired" in text


def test_refused_kit_out_with_another_crew(routed):
    engine, code, route = routed
    text = refused(
        engine,
        route,
        lambda s: check_out(s, crew_kit(s).name, crew="Crew B", actor="tester", override="drill"),
    )
    assert "kit KIT-ORG-1: checked out to Crew B" in text


def test_refused_kit_expired(routed):
    engine, code, route = routed

    def expire(s):
        for item in s.exec(select(KitItem).where(KitItem.kit_id == crew_kit(s).id)):
            lot = s.get(Consumable, item.consumable_id) if item.consumable_id else None
            if lot is not None and lot.item == "nitrobenzene detection tubes":
                lot.expires_on = date(2000, 1, 1)
                s.add(lot)

    text = refused(engine, route, expire)
    assert "nitrobenzene detection tubes" in text and "expired" in text and "2000-01-01" in text


def test_refused_kit_uncalibrated(routed):
    engine, code, route = routed

    def overdue(s):
        gc = s.exec(select(Equipment).where(Equipment.asset_tag == "INS-GC-01")).one()
        for sched in s.exec(select(CalibrationSchedule).where(CalibrationSchedule.equipment_id == gc.id)):
            sched.next_due = sched.next_due - timedelta(days=3650)
            s.add(sched)

    text = refused(engine, route, overdue)
    assert "INS-GC-01" in text and "overdue" in text


def test_refused_kit_short_of_consumables(routed):
    engine, code, route = routed

    def use_up(s):
        for item in s.exec(select(KitItem).where(KitItem.kit_id == crew_kit(s).id)):
            lot = s.get(Consumable, item.consumable_id) if item.consumable_id else None
            if lot is not None and lot.item == "VOC sampling vials 40 mL":
                item.quantity = 3
                s.add(item)

    text = refused(engine, route, use_up)
    assert "Crew A: kit KIT-ORG-1: VOC sampling vials 40 mL: 3 of 40 vials in date — top up from lot" in text


def test_team_lead_override_is_logged(routed):
    engine, code, route = routed
    reason = "only crew near Pingle; PPE certificate renewal booked"
    with session_scope(engine) as s:
        plan = route(s, "Crew C")
        with pytest.raises(UserError, match="is not a team lead"):
            dispatch(s, plan, actor="tester", override=reason, lead="Tan Xue")  # a sampler
        with pytest.raises(UserError, match="needs the team lead"):
            dispatch(s, plan, actor="tester", override=reason)
        with pytest.raises(UserError, match="reason is empty"):
            dispatch(s, plan, actor="tester", override="  ", lead="Li Wei")
    with session_scope(engine) as s:
        plan = route(s, "Crew C")
        rows = dispatch(s, plan, actor="tester", override=reason, lead="Li Wei")
        assert rows and all(r.override_reason == f"Li Wei: {reason}" for r in rows)
    with session_scope(engine) as s:
        (entry,) = [e for e in log.entries(s, log.incident_chain(code)) if e.kind == "dispatch.override"]
        assert "Li Wei" in entry.summary and reason in entry.summary and "Crew C" in entry.summary
        assert s.exec(select(Assignment)).all()
