"""Pilot tests of the playbook screen: open it, complete, skip with a reason, undo, fill a form; both languages."""

from __future__ import annotations

import pytest

from incident.core.config import Settings
from incident.core.store.engine import session_scope
from incident.playbook.runs import complete_step, run_view
from incident.tui.app import make_app
from incident.tui.dialogs.playbook_dialogs import ConfirmDialog, SkipReasonDialog
from incident.tui.screens.dashboard import DashboardScreen
from incident.tui.screens.playbook import PlaybookScreen

CODE = "INC-2026-0001"


def make(fixed_engine, fixed_db, lang):
    return make_app(
        engine=fixed_engine, settings=Settings(db_url=fixed_db, lang=lang, user="pilot"), incident_code=CODE
    )


async def settle(app, pilot) -> None:
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


def state(engine):
    with session_scope(engine) as s:
        return run_view(s, CODE)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_open_complete_skip_undo(fixed_engine, fixed_db, lang):
    app = make(fixed_engine, fixed_db, lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("p")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, PlaybookScreen)
        assert screen.selected == "alert_received"
        meta = str(screen.query_one("#step-meta").render())
        assert ("current" if lang == "en" else "进行中") in meta

        # complete: the open checklist asks for confirmation first
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(app, pilot)
        view = state(fixed_engine)
        assert view.step("alert_received").status == "done"
        assert view.step("alert_received").changed_by == "pilot"
        assert view.current_step == "mobilise"
        assert app.screen.selected == "mobilise"

        # skip: a reason is required
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, SkipReasonDialog)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SkipReasonDialog)  # refused without a reason
        reason = "crew already on site" if lang == "en" else "监测组已在现场"
        for ch in reason:
            await pilot.press(ch if ch != " " else "space")
        await pilot.press("enter")
        await settle(app, pilot)
        view = state(fixed_engine)
        assert view.step("mobilise").status == "skipped"
        assert view.step("mobilise").reason == reason
        assert view.current_step == "initial_forecast"

        # undo: confirmation, then the skipped step is current again
        await pilot.press("u")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("escape")  # cancelled: nothing changes
        await settle(app, pilot)
        assert state(fixed_engine).current_step == "initial_forecast"
        await pilot.press("u")
        await pilot.pause()
        await pilot.press("y")
        await settle(app, pilot)
        view = state(fixed_engine)
        assert view.current_step == "mobilise"
        assert view.step("mobilise").status == "active"
        assert app.screen.selected == "mobilise"

        # only the current step can be changed
        await pilot.press("up")
        await pilot.pause()
        assert app.screen.selected == "alert_received"
        await pilot.press("c")
        await settle(app, pilot)
        assert state(fixed_engine).current_step == "mobilise"

        # Esc goes back to the dashboard
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_tick_checklist_and_fill_the_form(fixed_engine, fixed_db, lang):
    with session_scope(fixed_engine) as s:
        for step in ("alert_received", "mobilise", "initial_forecast"):
            complete_step(s, CODE, step, actor="x")
    app = make(fixed_engine, fixed_db, lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        assert app.screen.selected == "field_survey"
        await pilot.press("enter")  # into the step: the checklist
        await pilot.press("space", "down", "space")
        await settle(app, pilot)
        assert set(state(fixed_engine).step("field_survey").checked) == {"safety", "sketch"}
        await pilot.press("tab")  # the first form field: reporting unit
        for ch in "Jade":
            await pilot.press(ch)
        await pilot.press("tab", "tab")  # skip location; into coordinates
        await pilot.press("tab")  # arrival time
        for ch in "bad":
            await pilot.press(ch)
        await pilot.press("tab")
        await settle(app, pilot)
        answers = state(fixed_engine).step("field_survey").answers
        assert answers == {"reporting_unit": "Jade"}  # the bad time was refused, not stored
        # completing with required fields empty is refused with their names, nothing changes
        await pilot.press("escape", "c")
        await settle(app, pilot)
        assert state(fixed_engine).current_step == "field_survey"


async def test_palette_actions_and_resume_after_restart(fixed_engine, fixed_db):
    app = make(fixed_engine, fixed_db, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await app.run_action("step_skip")  # from the dashboard: opens the playbook and asks
        await settle(app, pilot)
        assert isinstance(app.screen, SkipReasonDialog)
        for ch in "test":
            await pilot.press(ch)
        await pilot.press("enter")
        await settle(app, pilot)
        assert state(fixed_engine).current_step == "mobilise"
    # a new app on the same store opens at the same place
    app = make(fixed_engine, fixed_db, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("p")
        await settle(app, pilot)
        assert app.screen.selected == "mobilise"
        assert app.screen.view.step("alert_received").reason == "test"
        # the mouse works too: the Skip button asks for a reason
        app.screen.query_one("#btn-skip").scroll_visible(animate=False)  # as a mouse user scrolls
        await pilot.pause()
        await pilot.click("#btn-skip")
        await pilot.pause()
        assert isinstance(app.screen, SkipReasonDialog)


def test_palette_has_the_playbook_entries():
    from incident.tui.commands import ENTRIES

    labels = {label for label, _help, _action in ENTRIES}
    assert {"cmd.playbook_open", "cmd.step_done", "cmd.step_skip", "cmd.step_undo"} <= labels
    from incident.tui.app import IncidentApp

    for _label, _help, action in ENTRIES:
        name = action.split("(", 1)[0]  # "report_draft('flash')" calls action_report_draft
        assert hasattr(IncidentApp, f"action_{name}") or name in ("quit", "command_palette")
