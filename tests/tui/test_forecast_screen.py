"""The forecast screen runs the model in a worker and shows table and plot at 80×24."""

from __future__ import annotations

from textual.widgets import DataTable

from incident.core.config import Settings
from incident.tui.app import make_app


async def test_forecast_screen_from_dashboard_then_arrivals_on_dashboard(demo_engine, demo_code):
    app = make_app(
        engine=demo_engine,
        settings=Settings(db_url="sqlite://", lang="en", user="tester"),
        incident_code=demo_code,
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.press("f")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert type(screen).__name__ == "ForecastScreen"
        table = screen.query_one(DataTable)
        assert table.row_count == 7  # receptors downstream of the bridge
        first = table.get_row_at(0)
        assert first[0].startswith("W1") and float(first[2]) > 0
        await pilot.press("down")
        await pilot.press("a")
        await pilot.press("escape")
        await pilot.press("r")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.data.receptors[0].arrival_h is not None
