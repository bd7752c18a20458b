"""Pilot: the results screen and the result-entry form at 80×24, including a refused typo."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select
from textual.widgets import Button, DataTable, Input, Static

from incident.core.clock import utcnow
from incident.core.config import Settings
from incident.core.store.engine import session_scope
from incident.core.store.tables import Result
from incident.results import entry as results
from incident.results.entry import NewSample, ResultInput
from incident.tui.app import make_app


async def _type(pilot, selector: str, text: str) -> None:
    inp = pilot.app.screen.query_one(selector, Input)
    inp.value = ""
    inp.focus()
    await pilot.press(*list(text))


async def _settle(pilot, app) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def _until(pilot, app, predicate, timeout_s: float = 20.0) -> None:
    """Wait until predicate() holds: on a loaded machine a click's worker may start late."""
    import time

    deadline = time.monotonic() + timeout_s
    while not predicate() and time.monotonic() < deadline:
        await _settle(pilot, app)
        await pilot.pause(0.05)


async def test_enter_a_result_through_the_form_with_a_refused_typo(planned):
    engine, code = planned
    with session_scope(engine) as s:
        smp = results.create_sample(
            s,
            code,
            NewSample(point="S2", round=1, sampled_at=utcnow() - timedelta(hours=1), sampler="Li Wei"),
            actor="t",
        )
        other = results.create_sample(
            s,
            code,
            NewSample(point="S3", round=1, sampled_at=utcnow() - timedelta(hours=1), sampler="Li Wei"),
            actor="t",
        )
        results.add_result(
            s,
            code,
            ResultInput(
                sample=other.code,
                parameter="nitrobenzene",
                value="0.010",
                detection_limit="0.0005",
                method="hj648_gc",
            ),
            actor="t",
        )
    app = make_app(
        engine=engine,
        settings=Settings(db_url=str(engine.url), lang="en", user="Huang Min"),
        incident_code=code,
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot, app)
        await app.run_action("results")
        await _settle(pilot, app)
        screen = app.screen
        assert type(screen).__name__ == "ResultsScreen"
        table = screen.query_one(DataTable)
        assert table.row_count == 4  # S1..S4 of the plan
        table.move_cursor(row=1)  # S2
        await pilot.press("a")
        await _settle(pilot, app)
        form = app.screen
        assert type(form).__name__ == "ResultForm"
        assert form.query_one("#f-sample", Input).value == smp.code  # prefilled from the selected point
        assert form.query_one("#f-parameter", Input).value == "nitrobenzene"
        await _type(pilot, "#f-value", "O.5")
        await _type(pilot, "#f-dl", "0.0005")
        await _type(pilot, "#f-method", "hj648_gc")
        # leaving the value field already shows the refusal
        err = form.query_one("#e-value", Static)
        assert err.display and "letter O" in str(err.render()) and "'0.5'" in str(err.render())
        await pilot.press("ctrl+s")
        await _settle(pilot, app)
        assert app.screen is form
        assert "letter O" in str(form.query_one("#e-value", Static).render())
        assert form.query_one("#f-value", Input).has_class("-invalid")
        with session_scope(engine) as s:
            assert len(s.exec(select(Result)).all()) == 1
        # fix it and save
        await _type(pilot, "#f-value", "0.5")
        await pilot.press("ctrl+s")
        await _settle(pilot, app)
        assert type(app.screen).__name__ == "ResultsScreen"
        await _settle(pilot, app)
        cell = app.screen.query_one(DataTable).get_cell("S2", "nitrobenzene")
        assert "0.5 mg/L" in cell.plain and "(28.4×)" in cell.plain
        assert "red" in str(cell.style)
    with session_scope(engine) as s:
        rows = s.exec(select(Result)).all()
        assert len(rows) == 2 and rows[-1].entered_by == "Huang Min" and rows[-1].value_mg_l == 0.5


async def test_plot_and_termination_open_at_80x24(planned):
    engine, code = planned
    app = make_app(
        engine=engine, settings=Settings(db_url=str(engine.url), lang="zh", user="t"), incident_code=code
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot, app)
        await app.run_action("results")
        await _settle(pilot, app)
        await pilot.press("p")
        await _settle(pilot, app)
        assert type(app.screen).__name__ == "PointPlotScreen"
        assert "尚无结果" in str(app.screen.query_one("#plot-note", Static).render())
        await pilot.press("escape")
        await pilot.press("t")
        await _settle(pilot, app)
        assert type(app.screen).__name__ == "TerminationDialog"
        assert "尚不满足" in str(app.screen.query_one("#term-verdict", Static).render())


async def test_import_dialog_checks_then_imports_after_confirmation(planned, tmp_path):
    engine, code = planned
    with session_scope(engine) as s:
        smp = results.create_sample(
            s,
            code,
            NewSample(point="S2", round=1, sampled_at=utcnow() - timedelta(hours=1), sampler="Li Wei"),
            actor="t",
        )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        f'sample,parameter,value,unit,detection_limit,method\n{smp.code},Cd,"0,5",mg/L,0.001,hj700_icpms\n'
    )
    good = tmp_path / "good.csv"
    good.write_text(
        f"sample,parameter,value,unit,detection_limit,method\n{smp.code},Cd,0.5,mg/L,0.001,hj700_icpms\n"
    )
    app = make_app(
        engine=engine, settings=Settings(db_url=str(engine.url), lang="en", user="t"), incident_code=code
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot, app)
        await app.run_action("result_import")
        await _settle(pilot, app)
        dialog = app.screen
        assert type(dialog).__name__ == "ImportResultsDialog"
        dialog.query_one("#import-file", Input).value = str(bad)
        dialog.query_one("#import-check", Button).press()
        report = dialog.query_one("#import-report", Static)
        await _until(pilot, app, lambda: "line 2" in str(report.render()))
        text = str(report.render())
        assert "line 2, column 'value'" in text and "comma" in text
        assert dialog.query_one("#import-do").disabled
        dialog.query_one("#import-file", Input).value = str(good)
        dialog.query_one("#import-check", Button).press()
        await _until(pilot, app, lambda: "1 results" in str(report.render()))
        assert "1 results" in str(dialog.query_one("#import-report", Static).render())
        with session_scope(engine) as s:
            assert s.exec(select(Result)).first() is None  # a check imports nothing
        dialog.query_one("#import-do", Button).press()
        await _settle(pilot, app)
        assert type(app.screen).__name__ == "ConfirmImport"
        await pilot.click("#confirm-yes")
        await _settle(pilot, app)
        assert type(app.screen).__name__ == "ResultsScreen"
    with session_scope(engine) as s:
        assert len(s.exec(select(Result)).all()) == 1


async def test_register_a_sample_then_its_result_form_opens_prefilled(planned):
    from incident.results.entry import list_samples
    from incident.tui.dialogs.form import FormDialog
    from incident.tui.dialogs.result_form import ResultForm

    engine, code = planned
    app = make_app(
        engine=engine,
        settings=Settings(db_url=str(engine.url), lang="en", user="Huang Min"),
        incident_code=code,
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(pilot, app)
        await app.run_action("results")
        await _settle(pilot, app)
        await pilot.press("s")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, FormDialog)
        form.query_one("#field-point", Input).value = "S9"  # not in the plan: refused, values kept
        form.query_one("#form-ok", Button).press()
        await _until(pilot, app, lambda: isinstance(app.screen, FormDialog) and app.screen is not form)
        again = app.screen
        assert "S9" in str(again.query_one("#error-point", Static).render())  # under its field
        assert again.query_one("#field-point", Input).value == "S9"
        assert again.query_one("#field-sampler", Input).value == "Huang Min"
        again.query_one("#field-point", Input).value = "S2"
        again.query_one("#field-parameters", Input).value = "cadmium"
        again.query_one("#form-ok", Button).press()
        await _until(pilot, app, lambda: isinstance(app.screen, ResultForm))
        with session_scope(engine) as s:
            samples = list_samples(s, code)
        assert [x.point for x in samples] == ["S2"] and samples[0].sampler == "Huang Min"
        assert app.screen.query_one("#f-sample", Input).value == samples[0].code
