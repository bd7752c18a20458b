"""The shared form at 80×24, driven by keys only: borders and labels, Tab never destroys input,
inline errors in the user's language, Escape asks when there are changes, stray keys go nowhere,
and a key that creates a document (``f`` on Reports) asks first."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Label, Static

from incident.core.config import Settings
from incident.core.store.engine import session_scope
from incident.tui.app import make_app


def _app(engine, code, lang="en"):
    return make_app(
        engine=engine, settings=Settings(db_url="sqlite://", lang=lang, user="tester"), incident_code=code
    )


async def _settled(pilot):
    for _ in range(2):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def _open_sample_form(pilot):
    await _settled(pilot)
    await pilot.press("v")  # results
    await _settled(pilot)
    await pilot.press("s")  # register a sample: the shared FormDialog
    await _settled(pilot)
    assert type(pilot.app.screen).__name__ == "FormDialog"
    return pilot.app.screen


async def test_fields_have_borders_and_labels_and_tab_keeps_the_text(demo_engine, demo_code):
    app = _app(demo_engine, demo_code)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await _open_sample_form(pilot)
        point = form.query_one("#field-point", Input)
        assert app.focused is point
        # a visible border on every text field, and a label beside it
        assert point.styles.border_top[0] not in ("", "none", "hidden")
        assert str(form.query_one("#label-point", Label).render()).startswith("Point")
        await pilot.press(*"S2")
        await pilot.press("tab")  # round
        await pilot.press("tab")  # sampled at (pre-filled)
        sampled = form.query_one("#field-sampled_at", Input)
        assert app.focused is sampled
        before = sampled.value
        assert before and sampled.selection.is_empty  # Tab does not select the text...
        await pilot.press("tab", "shift+tab")
        await pilot.press("x")  # ...so the next key adds to it instead of replacing it
        assert sampled.value == before + "x"
        await pilot.press("backspace", "tab")
        sampler = form.query_one("#field-sampler", Input)
        await pilot.press("z")
        assert sampler.value == "testerz"


async def test_inline_errors_then_escape_asks_before_discarding(demo_engine, demo_code):
    app = _app(demo_engine, demo_code)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await _open_sample_form(pilot)
        await pilot.press(*"S2", "tab", *"abc")  # round: not a number
        while app.focused is None or app.focused.id != "form-ok":
            await pilot.press("tab")
        await pilot.press("enter")
        await _settled(pilot)
        assert app.screen is form  # refused: the form stays, with the error under the field
        error = form.query_one("#error-round", Static)
        assert error.display and "'abc' is not a whole number" in str(error.render())
        assert app.focused is form.query_one("#field-round", Input)
        assert form.query_one("#field-point", Input).value == "S2"  # nothing typed is lost

        await pilot.press("escape")  # changes: it asks
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmDialog"
        await pilot.press("n")  # keep editing
        await pilot.pause()
        assert app.screen is form
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("y")  # discard
        await pilot.pause()
        assert type(app.screen).__name__ == "ResultsScreen"


async def test_escape_on_an_untouched_form_closes_at_once(demo_engine, demo_code):
    app = _app(demo_engine, demo_code)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_sample_form(pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "ResultsScreen"


async def test_letters_with_a_button_focused_fire_no_shortcut(demo_engine, demo_code):
    app = _app(demo_engine, demo_code)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await _open_sample_form(pilot)
        while app.focused is None or app.focused.id != "form-cancel":
            await pilot.press("tab")
        stack = len(app.screen_stack)
        # q would quit, d open the dashboard, f the forecast, b the reports
        await pilot.press("q", "d", "f", "b", "i", "s")
        await _settled(pilot)
        assert app.is_running and app.screen is form and len(app.screen_stack) == stack


async def test_zh_form_errors_are_chinese(demo_engine, demo_code):
    app = _app(demo_engine, demo_code, "zh")
    async with app.run_test(size=(80, 24)) as pilot:
        form = await _open_sample_form(pilot)
        form.query_one("#field-point", Input).value = ""
        await pilot.press("tab", *"abc")
        while app.focused is None or app.focused.id != "form-ok":
            await pilot.press("tab")
        await pilot.press("enter")
        await _settled(pilot)
        assert "不是整数" in str(form.query_one("#error-round", Static).render())
        assert "必填" in str(form.query_one("#error-point", Static).render())
        assert "请修改" in str(form.query_one("#form-error", Static).render())


@pytest.mark.parametrize("answer, drafted", [("n", 0), ("y", 1)])
async def test_f_on_reports_asks_before_drafting(demo_engine, demo_code, answer, drafted):
    import incident.reports as reports

    app = _app(demo_engine, demo_code)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settled(pilot)
        await pilot.press("b")
        await _settled(pilot)
        assert type(app.screen).__name__ == "ReportsScreen"
        await pilot.press("f")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmDialog"
        await pilot.press(answer)
        await _settled(pilot)
        with session_scope(demo_engine) as s:
            assert len(reports.list_reports(s, demo_code)) == drafted
