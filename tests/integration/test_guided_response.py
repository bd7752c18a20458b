"""Issue 4's end-to-end test: the river chemical spill playbook on the demo incident, driven through the
TUI with Pilot, from the alert to a termination proposal — with the real forecast, sampling plan, crew
assignment, flash and monitoring reports, results and the HJ 589 §10 termination check."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import Input, Select

from incident.core import log
from incident.core.clock import frozen
from incident.core.config import Settings
from incident.core.incidents import get_incident
from incident.core.store.engine import session_scope
from incident.playbook.runs import run_view
from incident.reports.lifecycle import list_reports
from incident.results.entry import NewSample, ResultInput, add_result, create_sample
from incident.sampling.plans import plan_view
from incident.tui.app import make_app
from incident.tui.dialogs.playbook_dialogs import ConfirmDialog
from incident.tui.screens.playbook import PlaybookScreen

FORMS = {
    "field_survey": {
        "reporting_unit": "Qiaotou traffic police",
        "location": "Qiaotou bridge, km 45",
        "surveyor": "Li Wei",
    },
    "initial_judgement": {"pollutant_class": "organic", "intake_threatened": "yes"},
}


async def settle(app, pilot) -> None:
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


def current(engine, code):
    with session_scope(engine) as s:
        return run_view(s, code).current_step


async def do_step(app, pilot, engine, code) -> str:
    """Run the current step's action (if any), fill its form, complete it; return its id."""
    screen = app.screen
    assert isinstance(screen, PlaybookScreen)
    step = current(engine, code)
    with session_scope(engine) as s:
        sv = run_view(s, code).step(step)
    if sv.step.action is not None:
        await pilot.press("a")
        await settle(app, pilot)
        with session_scope(engine) as s:
            outcome = run_view(s, code).step(step).action
        assert outcome and outcome.get("summary"), f"action of {step} left no outcome"
    for field, value in FORMS.get(step, {}).items():
        widget = screen._form_widgets[field]
        if isinstance(widget, Select):
            widget.value = value
        else:
            assert isinstance(widget, Input)
            widget.value = value
    await pilot.pause()
    await pilot.press("c")
    await pilot.pause()
    if isinstance(app.screen, ConfirmDialog):  # open checklist items: confirm
        await pilot.press("y")
    await settle(app, pilot)
    return step


def record_compliant_results(engine, code, start, hours):
    """Every point of the latest plan sampled every 6 h, nitrobenzene below the detection limit."""
    with session_scope(engine) as s:
        points = [p.number for p in plan_view(s, code).active_points]
        for h in range(0, hours + 1, 6):
            at = start + timedelta(hours=h)
            for number in points:
                sample = create_sample(
                    s,
                    code,
                    NewSample(point=number, sampled_at=at, sampler="Huang Min", parameters=["nitrobenzene"]),
                    actor="Huang Min",
                )
                add_result(
                    s,
                    code,
                    ResultInput(
                        sample=sample.code,
                        parameter="nitrobenzene",
                        value="<0.0002",
                        unit="mg/L",
                        method="hj648_gc",
                        measured_at=at + timedelta(hours=1),
                    ),
                    actor="Qin Hao",
                )
    return points


async def test_river_chemical_spill_from_alert_to_termination_proposal(demo_engine, demo_code):
    with session_scope(demo_engine) as s:
        alert = get_incident(s, demo_code).alert_at
    settings = Settings(db_url=str(demo_engine.url), lang="en", user="Li Wei")
    app = make_app(engine=demo_engine, settings=settings, incident_code=demo_code)
    async with app.run_test(size=(80, 24)) as pilot:
        with frozen(alert + timedelta(minutes=40)):
            await settle(app, pilot)
            await pilot.press("p")
            await settle(app, pilot)
            done = []
            # initial assessment → plan → first round
            while current(demo_engine, demo_code) != "tracking_rounds":
                done.append(await do_step(app, pilot, demo_engine, demo_code))
                assert len(done) < 20, done
        assert done[:5] == [
            "alert_received",
            "mobilise",
            "initial_forecast",
            "field_survey",
            "initial_judgement",
        ]
        assert "intake_warning" in done  # the intakes are threatened: the branch was taken
        assert "rapid_test_organic" in done and "rapid_test_metal" not in done  # organic branch

        with session_scope(demo_engine) as s:
            plan = plan_view(s, demo_code)
            kinds = [e.kind for e in log.entries(s, log.incident_chain(demo_code))]
            reports = list_reports(s, demo_code)
        assert "forecast.run" in kinds and "plan.proposed" in kinds
        assert {"W1", "W2"} <= {p.receptor_id for p in plan.active_points if p.receptor_id}
        assert any(r.kind == "flash" for r in reports)

        # tracking: 54 h of results after the plume has passed, all below the standard
        with frozen(alert + timedelta(hours=60)):
            points = record_compliant_results(demo_engine, demo_code, alert + timedelta(hours=4), 54)
            assert len(points) >= 5
            await pilot.press("r")
            await settle(app, pilot)
            while current(demo_engine, demo_code) not in ("termination_proposal", None):
                done.append(await do_step(app, pilot, demo_engine, demo_code))
                assert len(done) < 30, done
            assert current(demo_engine, demo_code) == "termination_proposal"
            with session_scope(demo_engine) as s:
                check = run_view(s, demo_code).step("termination_check").action
                reports = list_reports(s, demo_code)
                status = get_incident(s, demo_code).status
            assert check["data"]["proposable"] is True, check
            assert "Termination may be proposed" in check["summary"]
            assert any(r.kind == "monitoring" for r in reports)
            assert status == "active"  # the tool proposes; the command body decides

            # the dashboard shows the latest (evaluated) results and where the crews were sent
            await pilot.press("escape")
            await settle(app, pilot)
            await pilot.press("d")
            await settle(app, pilot)
            data = app.screen.data
            assert data.exceedances == 0 and len(data.latest_results) == 4
            assert all(r.parameter == "nitrobenzene" and not r.exceeds for r in data.latest_results)
            assert any(c.point for c in data.crews), "dispatched crews show their point"
