"""A flagged result on the results screen (issue 16): marked with its reason, confirmed by keys
with a reason that goes into the log, after which it counts (and the mark goes)."""

from __future__ import annotations

from incident.core import log
from incident.core.store.engine import session_scope
from incident.results import held_results
from tests.tui.screen_text import screen_text
from tests.tui.test_incident_workflow import app_on, open_results, screen_name, settle, until
from tests.tui.test_zh_screens import flagged_demo  # noqa: F401 - fixture


async def test_a_flagged_result_is_marked_then_confirmed_by_keys(
    demo_engine,
    demo_code,
    flagged_demo,  # noqa: F811
):
    with session_scope(demo_engine) as s:
        (held,) = held_results(s, demo_code)
    app = app_on(demo_engine, demo_code, user="Li Wei")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_results(pilot)
        assert f"! result #{held.id}" not in screen_text(app)  # S1 is selected: no flag on its row
        while app.screen.selected_point() != "S4":
            await pilot.press("down")
        await settle(pilot)
        text = screen_text(app)
        assert f"! result #{held.id} 120 mg/L: before the plume: sampled" in text
        assert "k confirm it" in text
        await pilot.press("k")
        await until(pilot, lambda: screen_name(pilot) == "FormDialog")
        await settle(pilot)
        assert "The flag: before the plume" in screen_text(app)
        await pilot.press("enter", "enter")  # to the reason, then submit it empty: refused under its field
        await settle(pilot)
        assert screen_name(pilot) == "FormDialog"
        with session_scope(demo_engine) as s:
            assert held_results(s, demo_code)
        await until(pilot, lambda: "Reason is required." in screen_text(app))
        assert app.focused is not None and app.focused.id == "field-reason"  # the field to fix
        await pilot.press(*"lab re-measured: 118 mg/L", "enter")
        await until(pilot, lambda: screen_name(pilot) == "ResultsScreen")
        await settle(pilot)
        with session_scope(demo_engine) as s:
            assert held_results(s, demo_code) == []
            entries = [
                e for e in log.entries(s, log.incident_chain(demo_code)) if e.kind == "result.confirmed"
            ]
        assert len(entries) == 3 and {e.actor for e in entries} == {"Li Wei"}  # one per flag
        assert all("lab re-measured: 118 mg/L" in e.summary for e in entries)
        assert f"! result #{held.id}" not in screen_text(app)
