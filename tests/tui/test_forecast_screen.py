"""The forecast screen runs the model in a worker and shows table and plot at 80×24."""

from __future__ import annotations

from textual.widgets import DataTable

from incident.core.config import Settings
from incident.tui.app import make_app


def _app(engine, code):
    return make_app(
        engine=engine, settings=Settings(db_url="sqlite://", lang="en", user="tester"), incident_code=code
    )


async def _open_forecast(app, pilot) -> None:
    """From the dashboard, "f": the forecast screen, its worker done."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.press("f")
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_forecast_screen_from_dashboard_then_arrivals_on_dashboard(demo_engine, demo_code):
    app = _app(demo_engine, demo_code)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_forecast(app, pilot)
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


async def test_the_forecast_table_fits_80_columns_and_widens_with_the_terminal(demo_engine, demo_code):
    """At 80×24 every column is on screen (no sideways scrolling); the P10–P90 column comes with
    an ensemble's bands and Jobson's cross-check with a wide terminal."""
    for size, jobson in (((80, 24), False), ((120, 40), True)):
        app = _app(demo_engine, demo_code)
        async with app.run_test(size=size) as pilot:
            await _open_forecast(app, pilot)
            table = app.screen.query_one(DataTable)
            labels = [str(c.label) for c in table.columns.values()]
            assert ("Jobson h" in labels) == jobson
            assert "P10–P90 h" not in labels  # no ensemble yet: the column would be all dashes
            assert table.virtual_size.width <= table.size.width, (size, labels)


def test_the_breakthrough_plot_spans_the_pulse_not_the_whole_horizon():
    import numpy as np

    from incident.tui.screens.forecast import plot_window_end

    times = np.linspace(0.0, 72.0, 721)
    pulse = np.exp(-(((times - 8.0) / 1.5) ** 2))  # over by ~13 h
    end = plot_window_end(times, [pulse])
    shown = times[end - 1]
    assert 12.0 < shown < 20.0
    assert pulse[end - 1] < 0.01  # the whole pulse, down to its tail, is on the plot
    # a curve still high at the horizon, or nothing arrived: the whole horizon
    rising = times / 72.0
    assert plot_window_end(times, [rising]) == len(times)
    assert plot_window_end(times, [np.zeros_like(times)]) == len(times)
    # several curves: up to the last one's tail
    late = np.exp(-(((times - 40.0) / 3.0) ** 2))
    assert times[plot_window_end(times, [pulse, late]) - 1] > 45.0
