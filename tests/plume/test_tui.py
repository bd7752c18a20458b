"""TUI at 80×24: ensemble bands on the forecast screen, the calibration screen with confirmed
accept, and the source-trace screen."""

from __future__ import annotations

import numpy as np
from sqlmodel import select
from textual.widgets import DataTable, Input

from incident.core.config import Settings
from incident.core.store.engine import session_scope
from incident.core.store.tables import LogEntry, ModelCalibration
from incident.demo.seed import DEMO_RIVER
from incident.tui.app import make_app
from tests.plume.test_service import _add_results, _trace_csv


def _app(engine, code):
    return make_app(
        engine=engine, settings=Settings(db_url="sqlite://", lang="en", user="tester"), incident_code=code
    )


async def _settle(app, pilot):
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()


async def test_forecast_ensemble_bands_from_palette_action(demo_engine, demo_code):
    app = _app(demo_engine, demo_code)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        await app.run_action("forecast_ensemble")
        await _settle(app, pilot)
        screen = app.screen
        assert type(screen).__name__ == "ForecastScreen"
        row = screen.query_one(DataTable).get_row_at(0)  # W1
        lo, hi = (float(x) for x in row[3].split("–"))
        assert lo < float(row[2]) < hi  # the central arrival inside the P10–P90 band
        assert screen.curve_bands is not None
        assert "members" in str(screen.query_one("#fc-status").render())


async def test_calibration_screen_accept_with_confirmation(demo_engine, demo_code):
    with session_scope(demo_engine) as s:
        _add_results(s, demo_code, np.random.default_rng(5))
    app = _app(demo_engine, demo_code)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        await app.run_action("model_calibrate")
        await _settle(app, pilot)
        screen = app.screen
        assert type(screen).__name__ == "CalibrationScreen"
        params = screen.query_one("#cal-params", DataTable)
        assert params.row_count == 4
        assert screen.query_one("#cal-points", DataTable).row_count >= 4
        await pilot.press("a")
        await pilot.pause()
        assert type(app.screen).__name__ == "DecisionDialog"
        await pilot.press("escape")  # cancel: nothing decided
        await pilot.pause()
        with session_scope(demo_engine) as s:
            assert s.exec(select(ModelCalibration)).one().decision == "pending"
        await pilot.press("a")
        await pilot.pause()
        await pilot.click("#decision-yes")
        await pilot.pause()
        with session_scope(demo_engine) as s:
            assert s.exec(select(ModelCalibration)).one().decision == "accepted"
            kinds = [e.kind for e in s.exec(select(LogEntry).where(LogEntry.kind.like("calibration.%")))]
        assert kinds == ["calibration.run", "calibration.accepted"]


async def test_trace_screen(demo_engine, demo_code, tmp_path):
    path = _trace_csv(tmp_path)
    app = _app(demo_engine, demo_code)
    async with app.run_test(size=(80, 24)) as pilot:
        await _settle(app, pilot)
        await app.run_action("source_trace")
        await pilot.pause()
        app.screen.query_one("#trace-csv", Input).value = path
        assert app.screen.query_one("#trace-river", Input).value == str(DEMO_RIVER)
        app.screen.query_one("#trace-csv", Input).focus()
        await pilot.press("enter")
        await _settle(app, pilot)
        table = app.screen.query_one(DataTable)
        assert table.row_count >= 1 and table.get_row_at(0)[1] == "M03"
