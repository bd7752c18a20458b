"""The runner: persisted state, logging with time and person, branches, actions, two incidents at once."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from incident.core import log
from incident.core.clock import frozen
from incident.core.errors import UserError
from incident.core.incidents import NewIncident, create_incident
from incident.core.store.engine import session_scope
from incident.overview.board import dashboard
from incident.playbook import actions
from incident.playbook.runs import (
    complete_step,
    run_step_action,
    run_view,
    save_form,
    set_check,
    skip_step,
    start_run,
    undo_step,
)
from tests.playbook.conftest import ALERT_AT, BUILT_AT


def entries(session, code, kind=None):
    rows = log.entries(session, log.incident_chain(code))
    return [e for e in rows if kind is None or e.kind == kind]


def test_demo_incident_starts_the_river_chemical_spill_run(fixed_engine, fixed_code):
    with session_scope(fixed_engine) as s:
        view = run_view(s, fixed_code)
        assert view.playbook.id == "river_chemical_spill"
        assert view.current_step == "alert_received"
        assert view.variables == {"pollutant_class": "organic", "medium": "water", "intake_threatened": True}
        # deadlines are relative to the alert
        assert view.alert_at == ALERT_AT
        assert view.step("flash_report").due_at == ALERT_AT + timedelta(hours=1)
        assert [e.kind for e in entries(s, fixed_code)] == ["incident.created", "playbook.started"]


def test_done_skip_undo_are_persisted_and_logged_with_time_and_person(fixed_engine, fixed_code):
    t1 = BUILT_AT + timedelta(minutes=1)
    with frozen(t1), session_scope(fixed_engine) as s:
        complete_step(s, fixed_code, "alert_received", actor="li.wei", checks=["caller"])
    with frozen(t1 + timedelta(minutes=1)), session_scope(fixed_engine) as s:
        skip_step(s, fixed_code, "mobilise", "crew already on site", actor="huang.min")
    with session_scope(fixed_engine) as s:
        view = run_view(s, fixed_code)
        assert view.current_step == "initial_forecast"
        assert view.step("alert_received").status == "done"
        assert view.step("alert_received").changed_by == "li.wei"
        assert view.step("alert_received").changed_at == t1
        assert view.step("mobilise").status == "skipped"
        assert view.step("mobilise").reason == "crew already on site"
        done = entries(s, fixed_code, "step.done")[0]
        assert (done.actor, done.at) == ("li.wei", t1)
        payload = json.loads(done.payload_json)
        assert payload["step"] == "alert_received"
        assert payload["checklist_ticked"] == ["caller"]
        assert payload["checklist_open"] == ["location", "director"]
        skipped = entries(s, fixed_code, "step.skipped")[0]
        assert skipped.actor == "huang.min"
        assert json.loads(skipped.payload_json)["reason"] == "crew already on site"
    with frozen(t1 + timedelta(minutes=2)), session_scope(fixed_engine) as s:
        view = undo_step(s, fixed_code, "mobilise", actor="li.wei")
    assert view.current_step == "mobilise"
    assert view.step("mobilise").status == "active"
    assert view.step("initial_forecast").status == "pending"
    with session_scope(fixed_engine) as s:
        undone = entries(s, fixed_code, "step.undone")[0]
        assert undone.actor == "li.wei" and undone.at == t1 + timedelta(minutes=2)
        assert json.loads(undone.payload_json)["was"] == "skipped"
        ok, _msg = log.verify_chain(entries(s, fixed_code))
        assert ok


def test_skip_needs_a_reason_and_only_the_current_step_moves(fixed_engine, fixed_code):
    with session_scope(fixed_engine) as s:
        with pytest.raises(UserError, match="needs a reason"):
            skip_step(s, fixed_code, "alert_received", "   ", actor="x")
        with pytest.raises(UserError, match="not the current step"):
            complete_step(s, fixed_code, "mobilise", actor="x")
        with pytest.raises(UserError, match="nothing to undo"):
            undo_step(s, fixed_code, actor="x")
        complete_step(s, fixed_code, "alert_received", actor="x")
        complete_step(s, fixed_code, "mobilise", actor="x")
        with pytest.raises(UserError, match="only the last finished step"):
            undo_step(s, fixed_code, "alert_received", actor="x")


def test_form_answers_are_saved_with_the_step_logged_and_checked(fixed_engine, fixed_code):
    with session_scope(fixed_engine) as s:
        for step in ("alert_received", "mobilise", "initial_forecast"):
            complete_step(s, fixed_code, step, actor="x")
        with pytest.raises(UserError, match="'O.5' is not a number"):
            save_form(s, fixed_code, "field_survey", {"air_temp_c": "O.5"}, actor="x")
        # the one rule for typed numbers: no superscripts, full-width digits or infinity, nothing stored
        for typed in ("2²", "２１", "inf", "1e400"):
            with pytest.raises(UserError) as refused:
                save_form(s, fixed_code, "field_survey", {"air_temp_c": typed}, actor="x")
            assert refused.value.field == "air_temp_c"
        with pytest.raises(UserError, match="no form field 'colour'"):
            save_form(s, fixed_code, "field_survey", {"colour": "red"}, actor="x")
        view = save_form(
            s,
            fixed_code,
            "field_survey",
            {"air_temp_c": "21.5", "arrival_time": "2026-05-12 09:05", "surveyor": "Li Wei"},
            actor="x",
        )
        assert view.step("field_survey").answers["air_temp_c"] == 21.5
        assert view.step("field_survey").answers["arrival_time"] == "2026-05-12T01:05:00+00:00"
        # required fields block completion, with their names
        with pytest.raises(UserError, match="Reporting unit"):
            complete_step(s, fixed_code, "field_survey", actor="x")
        complete_step(
            s,
            fixed_code,
            "field_survey",
            actor="x",
            answers={"reporting_unit": "Jade City station", "location": "Qiaotou bridge, Jade River"},
        )
    with session_scope(fixed_engine) as s:
        view = run_view(s, fixed_code)
        assert view.step("field_survey").answers["reporting_unit"] == "Jade City station"
        forms = entries(s, fixed_code, "step.form")
        assert json.loads(forms[0].payload_json)["answers"]["air_temp_c"] == 21.5
        done = [
            e
            for e in entries(s, fixed_code, "step.done")
            if json.loads(e.payload_json)["step"] == "field_survey"
        ][0]
        assert json.loads(done.payload_json)["answers"]["surveyor"] == "Li Wei"


def _walk_to_judgement(s, code):
    for step in ("alert_received", "mobilise", "initial_forecast"):
        complete_step(s, code, step, actor="x")
    complete_step(
        s,
        code,
        "field_survey",
        actor="x",
        answers={"reporting_unit": "u", "location": "l", "surveyor": "s"},
    )


def test_branches_follow_form_answers_and_undo_restores_the_variables(fixed_engine, fixed_code):
    with session_scope(fixed_engine) as s:
        _walk_to_judgement(s, fixed_code)
        view = complete_step(
            s,
            fixed_code,
            "initial_judgement",
            actor="x",
            answers={"pollutant_class": "Heavy metal", "intake_threatened": "no"},
        )
        assert view.variables["pollutant_class"] == "heavy_metal"
        assert view.current_step == "flash_report"  # no intake warning
        assert not view.step("intake_warning").on_path
        assert view.step("rapid_test_metal").on_path
        assert not view.step("rapid_test_organic").on_path
        view = complete_step(s, fixed_code, "flash_report", actor="x")
        assert view.current_step == "rapid_test_metal"
        view = undo_step(s, fixed_code, actor="x")
        view = undo_step(s, fixed_code, actor="x")
        assert view.current_step == "initial_judgement"
        assert view.variables["pollutant_class"] == "organic"  # back to what the incident said
        view = complete_step(
            s,
            fixed_code,
            "initial_judgement",
            actor="x",
            answers={"pollutant_class": "oil", "intake_threatened": "是"},
        )
        assert view.current_step == "intake_warning"
        assert view.step("oil_survey").on_path


def test_actions_dispatch_by_name_and_unregistered_ones_are_refused(fixed_engine, fixed_code, note_action):
    with session_scope(fixed_engine) as s:
        complete_step(s, fixed_code, "alert_received", actor="x")
        view, outcome = run_step_action(s, fixed_code, "mobilise", actor="li.wei")
        assert outcome.summary.startswith("noted as entry")
        assert view.step("mobilise").action["summary"] == outcome.summary
        assert view.step("mobilise").action["by"] == "li.wei"
        kinds = [e.kind for e in entries(s, fixed_code)]
        assert kinds[-2:] == ["test.note", "step.action"]
        complete_step(s, fixed_code, "mobilise", actor="x")
        actions.unregister_action("forecast.run")  # as in an installation without the forecast feature
        with pytest.raises(UserError, match="not available in this installation"):
            run_step_action(s, fixed_code, "initial_forecast", actor="x")
        with pytest.raises(UserError, match="has no action"):
            complete_step(s, fixed_code, "initial_forecast", actor="x")
            run_step_action(s, fixed_code, "field_survey", actor="x")


def test_run_action_contract():
    assert set(actions.KNOWN_ACTIONS) == {
        "forecast.run",
        "plan.propose",
        "crews.assign",
        "report.draft",
        "termination.check",
        "readiness.check",
    }
    with pytest.raises(UserError, match="unknown action"):
        actions.run_action(None, "X", "forecast.runn", {}, "x")
    # every action of the contract has its real implementation installed
    assert all(actions.is_available(name) for name in actions.KNOWN_ACTIONS)
    saved = dict(actions._registry)
    try:
        actions.unregister_action("forecast.run")
        with pytest.raises(UserError, match="not available"):
            actions.run_action(None, "X", "forecast.run", {}, "x")
    finally:
        actions._registry.update(saved)


def test_checklist_ticks_persist_with_who_and_when(fixed_engine, fixed_code):
    with session_scope(fixed_engine) as s:
        set_check(s, fixed_code, "alert_received", "caller", True, actor="a")
        set_check(s, fixed_code, "alert_received", "location", True, actor="b")
        view = set_check(s, fixed_code, "alert_received", "caller", False, actor="a")
        assert set(view.step("alert_received").checked) == {"location"}
        assert view.step("alert_received").checked["location"]["by"] == "b"
        assert view.step("alert_received").checked["location"]["at"]
        # not a log entry per tick: the step.done entry commits them
        assert [e.kind for e in entries(s, fixed_code)][-1] == "playbook.started"
        with pytest.raises(UserError, match="no checklist item 'nope'"):
            set_check(s, fixed_code, "alert_received", "nope", True, actor="a")


def test_two_incidents_run_at_once(fixed_engine, fixed_code):
    with session_scope(fixed_engine) as s:
        second = create_incident(
            s,
            NewIncident(title="Cadmium from a smelter", alert_at=BUILT_AT, pollutant_class="heavy_metal"),
            actor="x",
        ).code
        view = start_run(s, second, None, actor="x")
        assert view.playbook.id == "heavy_metal_intake"  # suggested from the pollutant class
        with pytest.raises(UserError, match="already runs"):
            start_run(s, second, None, actor="x")
        complete_step(s, second, "alert_received", actor="x")
        complete_step(s, fixed_code, "alert_received", actor="x")
        complete_step(s, fixed_code, "mobilise", actor="x")
    with session_scope(fixed_engine) as s:
        assert run_view(s, second).current_step == "forecast_intakes"
        assert run_view(s, fixed_code).current_step == "initial_forecast"
        assert len(entries(s, second, "step.done")) == 1
        assert len(entries(s, fixed_code, "step.done")) == 2


def test_the_run_keeps_its_own_copy_of_the_playbook(fixed_engine, fixed_code, tmp_path):
    with session_scope(fixed_engine) as s:
        view = run_view(s, fixed_code)
        assert view.playbook.sha256 and "field_survey" in view.playbook.text


def test_dashboard_phase_and_next_deadline_come_from_the_run(fixed_engine, fixed_code):
    with frozen(BUILT_AT), session_scope(fixed_engine) as s:
        data = dashboard(s, fixed_code)
        assert data.phase == "Initial assessment"
        assert data.current_step == "Take the alert and open the incident"
        assert data.next_deadline == (
            "Take the alert and open the incident",
            ALERT_AT + timedelta(minutes=10),
        )
        complete_step(s, fixed_code, "alert_received", actor="x")
        data = dashboard(s, fixed_code)
        assert data.next_deadline[1] == ALERT_AT + timedelta(minutes=20)


def test_a_playbook_can_be_walked_to_the_end(fixed_engine, fixed_code):
    """Every step of the demo's playbook can be completed or skipped in turn (the TUI does the same)."""
    with session_scope(fixed_engine) as s:
        _walk_to_judgement(s, fixed_code)
        complete_step(
            s,
            fixed_code,
            "initial_judgement",
            actor="x",
            answers={"pollutant_class": "organic", "intake_threatened": "yes"},
        )
        guard = 0
        while (view := run_view(s, fixed_code)).current_step is not None:
            skip_step(s, fixed_code, view.current_step, "test walk", actor="x")
            guard += 1
            assert guard < 30
        assert view.finished_at is not None
        assert view.progress[0] == view.progress[1]
        with pytest.raises(UserError, match="finished"):
            complete_step(s, fixed_code, "summary_report", actor="x")
        assert undo_step(s, fixed_code, actor="x").current_step == "summary_report"
