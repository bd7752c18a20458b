"""Pilot tests of the TUI shell at 80×24 in English and Chinese."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Static

from incident.core.config import Settings
from incident.tui.app import make_app


def _app(engine, code, lang="en"):
    return make_app(
        engine=engine, settings=Settings(db_url="sqlite://", lang=lang, user="tester"), incident_code=code
    )


def _text(app, selector) -> str:
    """What a Static shows, rendered as plain text."""
    from rich.console import Console

    content = app.screen.query_one(selector, Static).content
    console = Console(width=120, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(content)
    return console.export_text()


async def _settled(pilot):
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize(
    "lang, intake, crews_title",
    [("en", "Xishan Waterworks intake", "Crews"), ("zh", "西山水厂取水口", "监测小组")],
)
async def test_dashboard_shows_the_demo_incident(demo_engine, demo_code, lang, intake, crews_title):
    app = _app(demo_engine, demo_code, lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        assert type(app.screen).__name__ == "DashboardScreen"
        receptors = _text(app, "#receptors")
        assert intake in receptors
        assert "23.0 km" in receptors  # W1 is 23 km below the bridge at km 45
        assert app.screen.query_one("#crews").border_title == crews_title
        assert "M03" in _text(app, "#situation")


async def test_help_opens_and_closes(demo_engine, demo_code):
    app = _app(demo_engine, demo_code)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        await pilot.press("f1")
        assert type(app.screen).__name__ == "HelpScreen"
        assert "command palette" in _text(app, "#help-text")
        await pilot.press("escape")
        assert type(app.screen).__name__ == "DashboardScreen"


async def test_palette_finds_noun_verb_commands(demo_engine, demo_code):
    app = _app(demo_engine, demo_code)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        for ch in "help: show":
            await pilot.press("space" if ch == " " else ch)
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"


async def test_incident_list_and_back_to_dashboard(demo_engine, demo_code):
    app = _app(demo_engine, demo_code)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        await pilot.press("i")
        await _settled(pilot)
        assert type(app.screen).__name__ == "IncidentListScreen"
        table = app.screen.query_one(DataTable)
        assert table.row_count == 1
        await pilot.press("enter")
        await _settled(pilot)
        assert type(app.screen).__name__ == "DashboardScreen"


async def test_language_switch_translates_screen_and_footer(demo_engine, demo_code):
    app = _app(demo_engine, demo_code)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        await pilot.press("l")
        await _settled(pilot)
        assert app.screen.query_one("#crews").border_title == "监测小组"
        descriptions = {b.binding.description for b in app.screen.active_bindings.values()}
        assert "帮助" in descriptions and "Help" not in descriptions
        await pilot.press("l")
        await _settled(pilot)
        assert app.screen.query_one("#crews").border_title == "Crews"


async def test_checklist_drops_a_highlight_queued_before_it_was_rebuilt():
    """A stale OptionHighlighted (index past the end after a rebuild) must not crash the app."""
    from textual.app import App
    from textual.widgets import OptionList

    from incident.tui.widgets.checklist import Checklist

    class One(App):
        def compose(self):
            yield Checklist(("a", "a"), ("b", "b"), ("c", "c"), id="c")

    app = One()
    async with app.run_test() as pilot:
        checklist = app.query_one(Checklist)
        checklist.highlighted = 2
        stale = OptionList.OptionHighlighted(checklist, checklist.get_option_at_index(2), 2)
        checklist.clear_options()
        checklist.add_option(("x", "x"))
        checklist.post_message(stale)
        await pilot.pause()
        assert app.return_code is None and checklist.option_count == 1
