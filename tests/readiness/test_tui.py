"""Pilot tests of the readiness screens at 80×24."""

from __future__ import annotations

from rich.console import Console
from sqlmodel import select
from textual.widgets import DataTable, Static

from incident.core import log
from incident.core.config import Settings
from incident.core.store.engine import session_scope
from incident.core.store.tables import Checkout
from incident.tui.app import make_app


def _app(engine, code, lang="en"):
    return make_app(
        engine=engine, settings=Settings(db_url="sqlite://", lang=lang, user="tester"), incident_code=code
    )


def _plain(renderable) -> str:
    console = Console(width=120, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


def _static(app, selector) -> str:
    return _plain(app.screen.query_one(selector, Static).content)


def _rows(app, table_id) -> list[str]:
    table = app.screen.query_one(table_id, DataTable)
    return [" | ".join(_plain(c).strip() for c in table.get_row_at(i)) for i in range(table.row_count)]


async def _settled(pilot):
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_dashboard_answers_and_shows_due_soon_and_expired(demo_engine, demo_code):
    app = _app(demo_engine, demo_code)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        await pilot.press("R")
        await _settled(pilot)
        assert type(app.screen).__name__ == "ReadinessScreen"
        assert "CAN FIELD 2 TEAM(S) NOW: 2 READY" in _static(app, "#answer")
        assert app.screen.query_one("#answer").has_class("ok")
        teams = _rows(app, "#table-teams")
        assert any(r.startswith("Crew D | ✘ NOT READY") for r in teams)
        assert any(r.startswith("Crew B | ! due soon") for r in teams)
        # the reasons of the highlighted team: move to Crew D
        await pilot.press("down", "down", "down")
        why = _static(app, "#why")
        assert "✘ kit KIT-GEN-2: multiparameter probe: missing" in why
        assert "✘ VEH-04: broken" in why
        # due soon: the analyser in the heavy-metal kit; expired: a reagent lot
        items = _rows(app, "#table-items")
        assert any(r.startswith("INS-HM-01 | ! due soon") for r in items)
        assert any(r.startswith("INS-HM-02 | ✘ NOT READY") for r in items)
        await pilot.press("4")
        stock = _rows(app, "#table-stock")
        assert any("CD-2311" in r and "EXPIRED" in r for r in stock)
        assert any("nitrobenzene" in r and "RESTOCK" in r for r in stock)
        await pilot.press("5")
        due = _rows(app, "#table-due")
        assert any("INS-HM-01" in r and ("+5" in r or "+4" in r) for r in due)


async def test_cannot_field_four_teams_in_big_red_words(demo_engine, demo_code):
    from incident.tui.screens.readiness import ReadinessScreen

    app = _app(demo_engine, demo_code, lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        app.push_screen(ReadinessScreen(teams=4))
        await _settled(pilot)
        assert "现在无法出动 4 支队伍" in _static(app, "#answer")
        assert app.screen.query_one("#answer").has_class("bad")


async def test_item_detail_and_calibration_from_the_keyboard(demo_engine, demo_code):
    app = _app(demo_engine, demo_code)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        await pilot.press("R")
        await _settled(pilot)
        await pilot.press("3", "enter")  # first row: INS-HM-02 (not ready first)
        await _settled(pilot)
        assert type(app.screen).__name__ == "EquipmentScreen"
        detail = _static(app, "#detail")
        assert "overdue since" in detail and "Calibration history" in detail
        await pilot.press("c")
        await pilot.pause()
        assert type(app.screen).__name__ == "FormDialog"
        await pilot.press("enter", "enter", "enter", "enter", "enter")  # accept the defaults
        await _settled(pilot)
        assert type(app.screen).__name__ == "EquipmentScreen"
        detail = _static(app, "#detail")
        assert "passed" in detail and "tester" in detail
    with session_scope(demo_engine) as s:
        assert log.entries(s, log.CENTRE_CHAIN)[-1].kind == "equipment.calibrated"


async def test_checkout_refused_then_overridden_in_the_form(demo_engine, demo_code):
    app = _app(demo_engine, demo_code)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        await app.run_action("readiness_checkout")
        await pilot.pause()
        for text in ("INS-HM-02", "Crew B"):
            await pilot.press(*text)
            await pilot.press("enter")
        await pilot.press("enter", "enter")  # incident (prefilled), no override → submit
        await _settled(pilot)
        assert type(app.screen).__name__ == "FormDialog"
        assert "not ready" in _static(app, "#form-error")
        app.screen.query_one("#field-override").value = "last analyser"
        await pilot.click("#form-ok")
        await _settled(pilot)
        assert type(app.screen).__name__ != "FormDialog"
    with session_scope(demo_engine) as s:
        row = s.exec(select(Checkout)).one()
        assert row.override_reason == "last analyser"
        assert "last analyser" in log.entries(s, log.incident_chain(demo_code))[-1].summary
