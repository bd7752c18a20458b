"""The whole incident in the TUI at 80×24, by keys only, in English and in Chinese.

From a fresh database with the demo river, roster and inventory loaded (what `incident` does on a
new machine): a new incident by reach and km; forecast, then amend the mass; the plan proposed and
crews assigned; two rounds of results; QC; a flash report drafted, reviewed and released; the
termination check. No widget is poked: every step is a key a responder would press.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

import incident.reports as reports
from incident.core.clock import fmt_local, utcnow
from incident.core.config import Settings
from incident.core.errors import UserError
from incident.core.incidents import get_incident
from incident.core.store.engine import open_store, session_scope
from incident.core.store.faults import StoreError
from incident.core.store.tables import Result, result_is_current
from incident.results import held_results
from incident.sampling import current_assignments, plan_view
from incident.tui.app import make_app
from tests.tui.screen_text import screen_text
from tests.tui.test_incident_workflow import (
    amend_mass,
    open_incident_by_reach_and_km,
    screen_name,
    settle,
    until,
)


@pytest.fixture
def fresh_demo_store(tmp_path):
    from incident.demo.seed import ensure_demo

    engine = open_store(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    ensure_demo(engine, actor="tester")
    yield engine
    engine.dispose()


async def tab_to(pilot, widget_id: str, limit: int = 40) -> None:
    for _ in range(limit):
        focused = pilot.app.focused
        if focused is not None and focused.id == widget_id:
            return
        await pilot.press("tab")
    raise AssertionError(f"Tab never reached #{widget_id}")


async def back_to_dashboard(pilot) -> None:
    for _ in range(6):
        if screen_name(pilot) == "DashboardScreen":
            return
        await pilot.press("escape")
        await settle(pilot)
    assert screen_name(pilot) == "DashboardScreen"


async def sample_and_result(pilot, point: str, round_no: str, value: str, sampled_at: str) -> None:
    """On the results screen: s registers a sample (the shared form), then its result form opens."""
    await pilot.press("s")
    await until(pilot, lambda: screen_name(pilot) == "FormDialog")
    await settle(pilot)
    await pilot.press("end", "ctrl+u", *point, "tab", *round_no, "tab", "end", "ctrl+u", *sampled_at)
    await tab_to(pilot, "form-ok")
    await pilot.press("enter")
    await until(pilot, lambda: screen_name(pilot) == "ResultForm")
    await settle(pilot)
    # focus is on the value (sample and parameter are filled in); unit stays mg/L
    await pilot.press(*value, "tab", "tab", *"0.0005", "tab", *"hj648_gc", "ctrl+s")
    await until(pilot, lambda: screen_name(pilot) == "ResultsScreen")
    await settle(pilot)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_whole_incident_by_keys(fresh_demo_store, lang):
    engine = fresh_demo_store
    app = make_app(engine=engine, settings=Settings(db_url="sqlite://", lang=lang, user="Li Wei"))
    async with app.run_test(size=(80, 24)) as pilot:

        def held_now() -> list:
            with session_scope(engine) as s:
                return held_results(s, code)

        await settle(pilot)
        # 1. a new incident by reach and km, from the incident list (n)
        # the tanker overturned six hours ago: the plume has reached the Xishan intake (S4) by now
        release = utcnow() - timedelta(hours=6)
        await open_incident_by_reach_and_km(pilot, "Tanker at Qiaotou", start=fmt_local(release))
        code = app.incident_code
        assert code.endswith("-0002")

        # 2. forecast, then amend the mass
        await pilot.press("f")
        await until(pilot, lambda: screen_name(pilot) == "ForecastScreen")

        def forecast_stored() -> bool:
            from incident.plume import latest_forecast

            try:
                with session_scope(engine) as s:
                    return latest_forecast(s, code, with_curves=False) is not None
            except StoreError:  # the app's forecast is writing (a busy machine): look again
                return False

        await until(pilot, forecast_stored, timeout_s=120)
        await back_to_dashboard(pilot)
        await amend_mass(pilot, "16000", "weighbridge ticket" if lang == "en" else "地磅单")
        await pilot.press("enter")
        await settle(pilot)

        # 3. plan and assign
        await pilot.press("m")
        await until(pilot, lambda: screen_name(pilot) == "SamplingPlanScreen")
        await settle(pilot)
        await pilot.press("p")
        await until(pilot, lambda: screen_name(pilot) == "ConfirmDialog")
        await pilot.press("y")

        def planned() -> bool:
            with session_scope(engine) as s:
                try:
                    return bool(plan_view(s, code).points)
                except UserError:  # no plan yet: the proposal is still running
                    return False

        await until(pilot, planned, timeout_s=120)
        await pilot.press("c")
        await until(pilot, lambda: screen_name(pilot) == "CrewBoardScreen")
        await settle(pilot)
        await pilot.press("a")
        await until(pilot, lambda: screen_name(pilot) == "ConfirmDialog", timeout_s=120)
        await pilot.press("y")

        def assigned() -> bool:
            with session_scope(engine) as s:
                return bool(current_assignments(s, code))

        await until(pilot, assigned, timeout_s=60)
        await back_to_dashboard(pilot)

        # 4. two rounds of results at the Xishan intake point (S4); the second is a unit slip
        await pilot.press("v")
        await until(pilot, lambda: screen_name(pilot) == "ResultsScreen")
        await settle(pilot)
        await pilot.press("o")  # the rounds: none yet; g makes them from the plan and the forecast
        await until(pilot, lambda: screen_name(pilot) == "RoundsDialog")
        await settle(pilot)
        await pilot.press("g")
        await until(pilot, lambda: screen_name(pilot) == "ConfirmDialog")
        await pilot.press("y")

        def rounds() -> int:
            from incident.sampling import list_rounds

            with session_scope(engine) as s:
                return len(list_rounds(s, code))

        await until(pilot, lambda: rounds() >= 2 and screen_name(pilot) == "RoundsDialog", timeout_s=120)
        await settle(pilot)
        await pilot.press("escape")
        await until(pilot, lambda: screen_name(pilot) == "ResultsScreen")
        await sample_and_result(pilot, "S4", "1", "0.35", fmt_local(release + timedelta(hours=5)))
        # the lab reported 120 µg/L; typed into the mg/L field, it is 343× the result an hour before
        await sample_and_result(pilot, "S4", "2", "120", fmt_local(release + timedelta(hours=6)))
        with session_scope(engine) as s:
            held = held_results(s, code)
        # only the slip is held (0.35 mg/L five hours after the release is plausible); 120 mg/L is also
        # far above what the forecast and the released mass allow
        assert [(r.point, r.value_mg_l) for r in held] == [("S4", 120.0)]
        assert {"unit_jump", "above_forecast", "above_mass"} == {h.kind for h in held[0].open_holds}
        slip_id = held[0].id
        # the results screen marks it, with its reason, on the selected row (S4) of round 2
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: "[2]" in screen_text(app))
        await pilot.press("home")
        while screen_name(pilot) == "ResultsScreen" and app.screen.selected_point() != "S4":
            await pilot.press("down")
        await settle(pilot)
        text = screen_text(app)
        flag = "! result #" if lang == "en" else "! 结果 #"
        assert f"{flag}{slip_id} 120 mg/L" in text
        assert ("a 343× jump" if lang == "en" else "相差 343 倍") in text
        assert "120 mg/L" in text and "!" in text
        # e corrects it: the unit was µg/L (same value), the reason goes into the log
        await pilot.press("e")
        await until(pilot, lambda: screen_name(pilot) == "FormDialog")
        await settle(pilot)
        assert app.focused is not None and app.focused.id == "field-result_id"
        await pilot.press("tab", "tab", "end", "ctrl+u", *"ug/L")
        await tab_to(pilot, "field-reason")
        await pilot.press(*("lab sheet says ug/L" if lang == "en" else "化验单单位为ug/L"))
        await tab_to(pilot, "form-ok")
        await pilot.press("enter")
        await until(pilot, lambda: screen_name(pilot) == "ResultsScreen" and not held_now())
        await settle(pilot)
        with session_scope(engine) as s:
            inc = get_incident(s, code)
            values = sorted(
                r.value_mg_l
                for r in s.exec(select(Result).where(Result.incident_id == inc.id, result_is_current()))
            )
        assert values == pytest.approx([0.12, 0.35])
        assert f"{flag}{slip_id}" not in screen_text(app)

        # 5. QC
        await pilot.press("Q")
        await until(pilot, lambda: screen_name(pilot) == "InfoDialog")
        assert ("Field blanks" if lang == "en" else "现场空白") in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)

        # 6. a flash report drafted (asks first), reviewed, released (asks first)
        await back_to_dashboard(pilot)
        await pilot.press("b")
        await until(pilot, lambda: screen_name(pilot) == "ReportsScreen")
        await settle(pilot)
        await pilot.press("f")
        await until(pilot, lambda: screen_name(pilot) == "ConfirmDialog")
        await pilot.press("y")

        def report_state() -> str | None:
            with session_scope(engine) as s:
                infos = reports.list_reports(s, code)
                return infos[-1].state if infos else None

        await until(pilot, lambda: report_state() == "draft" and screen_name(pilot) == "ReportsScreen")
        await settle(pilot)
        await pilot.press("v")
        await until(pilot, lambda: screen_name(pilot) == "TextPromptDialog")
        await settle(pilot)
        await pilot.press(*"Wang Fang", "enter")
        await until(pilot, lambda: report_state() == "reviewed")
        await settle(pilot)
        # separation of duties: the author may not release; another person takes the keyboard
        app.settings.user = "Zhao Min"
        await pilot.press("p")
        await until(pilot, lambda: screen_name(pilot) == "ConfirmReleaseDialog")
        await settle(pilot)
        await tab_to(pilot, "confirm")
        await pilot.press("enter")
        await until(pilot, lambda: report_state() == "released")

        # 7. the termination check
        await back_to_dashboard(pilot)
        await pilot.press("v")
        await until(pilot, lambda: screen_name(pilot) == "ResultsScreen")
        await settle(pilot)
        await pilot.press("t")
        await until(pilot, lambda: screen_name(pilot) == "TerminationDialog")
        await until(pilot, lambda: "…" not in str(app.screen.query_one("#term-verdict").render()))
        verdict = str(app.screen.query_one("#term-verdict").render())
        assert verdict and verdict != "Loading…"
        await pilot.press("escape")
        await settle(pilot)
        assert app.is_running
