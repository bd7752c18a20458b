"""The exercise clock, deadlines on it, timeline metrics and the suggested ratings."""

from __future__ import annotations

from datetime import timedelta

import pytest

from incident.core.clock import as_utc, exercise_time, incident_now
from incident.core.errors import UserError
from incident.core.incidents import get_incident
from incident.core.store.engine import session_scope
from incident.core.store.tables import DrillMetric
from incident.drills.control import end_drill, tick
from incident.drills.exercise import injects, require_exercise, set_speed, take_sample
from incident.drills.metrics import (
    add_corrective_action,
    capture_metrics,
    drill_status,
    mark,
    rate,
    suggest_rating,
)
from incident.overview.board import dashboard
from incident.playbook.runs import run_view
from incident.reports import lifecycle as reports
from incident.sampling import crews

from .conftest import propose


def test_clock_runs_at_speed_pauses_and_keeps_past_times(demo_engine, drill, wall):
    start = wall.at
    wall.advance(minutes=6)
    with session_scope(demo_engine) as s:
        inc = get_incident(s, drill)
        assert incident_now(inc) == as_utc(inc.alert_at) + timedelta(minutes=60)
        set_speed(s, drill, 0, actor="controller")
    wall.advance(minutes=5)
    with session_scope(demo_engine) as s:
        inc = get_incident(s, drill)
        assert incident_now(inc) == as_utc(inc.alert_at) + timedelta(minutes=60)  # paused
        set_speed(s, drill, 2, actor="controller")
    wall.advance(minutes=5)
    with session_scope(demo_engine) as s:
        inc = get_incident(s, drill)
        assert incident_now(inc) == as_utc(inc.alert_at) + timedelta(minutes=70)
        # a wall time before the pause still maps through the ×10 segment
        assert exercise_time(inc, start + timedelta(minutes=3)) == as_utc(inc.alert_at) + timedelta(
            minutes=30
        )
        with pytest.raises(UserError, match="not playable"):
            set_speed(s, drill, -1, actor="controller")


def test_deadlines_and_dashboard_follow_the_exercise_clock(demo_engine, drill, wall):
    wall.advance(minutes=2)  # T+20 on the ×10 clock; only 2 real minutes
    with session_scope(demo_engine) as s:
        view = run_view(s, drill)
        first = view.steps[0]  # take the alert: due 10 min after the alert
        assert first.due_at == view.alert_at + timedelta(minutes=10)
        assert view.now() == view.alert_at + timedelta(minutes=20)
        assert first.overdue(view.now())
        assert first.minutes_left(view.now()) == pytest.approx(-10)
        data = dashboard(s, drill)
        assert data.elapsed_min == pytest.approx(20) and data.exercise_speed == 10
        assert data.now == view.now()


def test_injects_arrive_when_the_clock_passes_them(demo_engine, drill, wall):
    with session_scope(demo_engine) as s:
        assert tick(s, drill, actor="c").injects == []
        assert injects(s, drill) == [] and len(injects(s, drill, include_pending=True)) == 4
    wall.advance(minutes=0.6)  # T+6
    with session_scope(demo_engine) as s:
        got = tick(s, drill, actor="c")
        assert [i.at_min for i in got.injects] == [5]
        assert got.injects[0].sender == "Xishan Waterworks duty operator"
    wall.advance(minutes=4)  # T+46
    with session_scope(demo_engine) as s:
        assert [i.at_min for i in tick(s, drill, actor="c").injects] == [25, 40]
        from incident.core import log

        logged = [e for e in log.entries(s, log.incident_chain(drill)) if e.kind == "drill.inject"]
        assert len(logged) == 3 and "Reservoir release" in logged[1].summary


def test_timeline_metrics_are_captured_from_the_records(demo_engine, drill, wall):
    points = propose(demo_engine, drill)
    wall.advance(minutes=1)  # T+10
    with session_scope(demo_engine) as s:
        crews.check_in(s, drill, "Crew A", actor="field lead")
    wall.advance(minutes=2)  # T+30
    with session_scope(demo_engine) as s:
        flash = reports.draft_report(s, drill, "flash", actor="writer")
    wall.advance(minutes=1)  # T+40
    with session_scope(demo_engine) as s:
        mark(s, drill, "on_site", actor="evaluator", note="Crew A at the smelter")
    wall.advance(minutes=0.5)  # T+45
    with session_scope(demo_engine) as s:
        take_sample(s, drill, point=points[0].number, sampler="Li", actor="Li", method="asv_portable")
        reports.review_report(s, drill, flash.id, reviewer="director")
    wall.advance(minutes=0.5)  # T+50
    with session_scope(demo_engine) as s:
        reports.release_report(s, drill, flash.id, by="duty officer")
    wall.advance(minutes=2)  # T+70: the ASV result (15 min) is back
    with session_scope(demo_engine) as s:
        tick(s, drill, actor="c")
        players = drill_status(s, drill)
        st = drill_status(s, drill, controller=True)
    # while the drill runs, the players' view does not give the truth away
    assert not [m for m in players.metrics if m.name.startswith("forecast_")]
    assert {ev.metric: ev.suggested for ev in players.evaluations}["forecast_arrival_error:W1"] is None
    got = {m.name: round(m.value) for m in st.timeline if m.value is not None}
    assert got == {
        "alert": 0,
        "depart": 10,
        "on_site": 40,
        "first_sample": 45,
        "first_data": 60,
        "flash_drafted": 30,
        "first_flash_report": 50,
    }
    ratings = {ev.metric: ev.suggested for ev in st.evaluations}
    assert ratings["depart"] == "P" and ratings["on_site"] == "P" and ratings["first_flash_report"] == "P"
    # the players forecast from the reported spill (3.6 km upstream, 50 min late, slower river): too late
    metrics = {m.name: m.value for m in st.metrics}
    assert metrics["forecast_arrival_error:W1"] > 0.5
    assert metrics["forecast_arrival_error_pct:W1"] > 25
    assert ratings["forecast_arrival_error:W1"] in ("S", "M", "U")


def test_suggested_rating_rule():
    def m(value):
        return {"x": DrillMetric(incident_id=1, name="x", value=value)}

    target = {"within_min": 40}
    assert suggest_rating(target, "x", m(40), elapsed_min=90, ended=False)[0] == "P"
    assert suggest_rating(target, "x", m(55), elapsed_min=90, ended=False)[0] == "S"
    assert suggest_rating(target, "x", m(79), elapsed_min=90, ended=False)[0] == "M"
    assert suggest_rating(target, "x", m(81), elapsed_min=90, ended=False)[0] == "U"
    assert suggest_rating(target, "x", {}, elapsed_min=70, ended=False)[0] is None  # could still be M
    assert suggest_rating(target, "x", {}, elapsed_min=81, ended=False)[0] == "U"
    assert suggest_rating(target, "x", {}, elapsed_min=10, ended=True)[0] == "U"
    err = {"max_error_pct": 20}
    pct = {"e_pct:W1": DrillMetric(incident_id=1, name="e_pct:W1", value=-25)}
    assert suggest_rating(err, "e:W1", pct, elapsed_min=0, ended=False)[0] == "S"
    missed = {"e_pct:W1": DrillMetric(incident_id=1, name="e_pct:W1", value=None, note="missed")}
    assert suggest_rating(err, "e:W1", missed, elapsed_min=0, ended=False)[0] == "U"
    assert suggest_rating(err, "e:W1", {}, elapsed_min=0, ended=False)[0] is None


def test_evaluation_corrective_actions_and_endex(demo_engine, drill, wall):
    wall.advance(minutes=3)
    with session_scope(demo_engine) as s:
        with pytest.raises(UserError, match="is not P, S, M or U"):
            rate(s, drill, "Mobilisation", "X", evaluator="Wang")
        with pytest.raises(UserError, match="no capability"):
            rate(s, drill, "Cooking", "P", evaluator="Wang")
        ev = rate(s, drill, "应急出动", "m", evaluator="Wang", improvements="Kit list not at hand")
        assert (ev.capability, ev.rating, ev.evaluator) == ("Mobilisation", "M", "Wang")
        with pytest.raises(UserError, match="not a date"):
            add_corrective_action(
                s, drill, "Mobilisation", "Laminate kit lists", owner="Store", due="31/12", actor="Wang"
            )
        add_corrective_action(
            s, drill, "Mobilisation", "Laminate kit lists", owner="Store", due="2026-12-31", actor="Wang"
        )
        end_drill(s, drill, actor="controller")
        st = drill_status(s, drill)
    assert st.ended and st.speed == 0
    assert {ev.capability: ev.suggested for ev in st.evaluations}[
        "First sample"
    ] == "U"  # never done by ENDEX
    assert [(a.owner, a.due_on.isoformat()) for a in st.actions] == [("Store", "2026-12-31")]
    wall.advance(minutes=30)
    with session_scope(demo_engine) as s:
        inc, _ = require_exercise(s, drill)
        assert drill_status(s, drill).elapsed_min == pytest.approx(30)  # the clock stopped at ENDEX
        with pytest.raises(UserError, match="has ended"):
            take_sample(s, drill, point="S1", sampler="Li", actor="Li")
        capture_metrics(s, drill)
