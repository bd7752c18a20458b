"""Forecast screen: per-receptor arrival, peak, exceedance window and the Jobson
cross-check, with a breakthrough plot of the selected point.

The model runs in a thread worker with a progress bar; the screen never freezes.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, ProgressBar, Static
from textual_plotext import PlotextPlot

from incident.i18n import bilingual, t
from incident.services.clock import fmt_local
from incident.services.forecast_types import IncidentForecast
from incident.tui.base import Localised


def _h(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


class ForecastScreen(Localised, Screen):
    DEFAULT_CSS = """
    ForecastScreen #fc-status { height: 1; padding: 0 1; }
    ForecastScreen ProgressBar { height: 1; padding: 0 1; }
    ForecastScreen DataTable { height: 1fr; min-height: 6; }
    ForecastScreen PlotextPlot { height: 1fr; min-height: 8; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "key.back", id="back"),
        Binding("r", "rerun", "forecast.rerun", id="forecast-rerun"),
        Binding("a", "plot_all", "forecast.plot_all", id="forecast-plot-all"),
    ]

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code
        self.forecast: IncidentForecast | None = None
        self.plot_all = False

    def rebuild(self) -> ForecastScreen:
        return ForecastScreen(self.code)

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield Static(t("forecast.running"), id="fc-status")
            yield ProgressBar(total=100, show_eta=False, id="fc-progress")
            yield DataTable(id="fc-table", cursor_type="row", zebra_stripes=True)
            yield PlotextPlot(id="fc-plot")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.code} · {t('forecast.title')}"
        table = self.query_one(DataTable)
        table.add_columns(
            t("forecast.point"),
            t("forecast.dist"),
            t("forecast.arrive"),
            t("forecast.peak_h"),
            t("forecast.peak"),
            t("forecast.exceed"),
            t("forecast.multiple"),
            t("forecast.jobson"),
        )
        cached = getattr(self.app, "forecasts", {}).get(self.code)
        if cached is not None:
            self.show(cached)
        else:
            self.run_forecast()

    def action_rerun(self) -> None:
        self.query_one(ProgressBar).display = True
        self.query_one("#fc-status", Static).update(t("forecast.running"))
        self.run_forecast()

    def action_plot_all(self) -> None:
        self.plot_all = not self.plot_all
        self.replot()

    @work(thread=True, exclusive=True, exit_on_error=False, group="forecast")
    def run_forecast(self) -> IncidentForecast:
        from incident.services.forecast import forecast_incident, log_forecast
        from incident.store.engine import session_scope

        bar = self.query_one(ProgressBar)

        def progress(fraction: float) -> None:
            self.app.call_from_thread(bar.update, progress=fraction * 100)

        with session_scope(self.app.engine) as session:
            fc = forecast_incident(session, self.code, progress=progress)
            log_forecast(session, self.code, fc, actor=self.app.settings.user)
        self.app.forecasts[self.code] = fc
        self.app.call_from_thread(self.show, fc)
        return fc

    def on_worker_state_changed(self, event) -> None:
        from textual.worker import WorkerState

        if event.state == WorkerState.ERROR:
            self.query_one(ProgressBar).display = False
            self.query_one("#fc-status", Static).update(f"[red]{event.worker.error}[/]")

    def show(self, fc: IncidentForecast) -> None:
        self.forecast = fc
        self.query_one(ProgressBar).display = False
        std = f"{t('forecast.standard')} {fc.standard_mg_l:g} mg/L · " if fc.standard_mg_l else ""
        self.query_one("#fc-status", Static).update(
            f"{std}{t('forecast.release')} {fmt_local(fc.release_start)} · {t('forecast.hours_after')}"
        )
        table = self.query_one(DataTable)
        table.clear()
        downstream = [p for p in fc.points if p.distance_from_source_m == p.distance_from_source_m]
        for p in sorted(downstream, key=lambda p: p.distance_from_source_m):
            exceed = "—" if p.exceed_start_h is None else f"{p.exceed_start_h:.1f}–{_h(p.exceed_end_h)}"
            name = p.label if p.kind == "point" else f"{p.label} {bilingual(p.name, None)}"
            jobson = "—" if p.jobson_leading_h is None else f"{p.jobson_leading_h:.1f}/{_h(p.jobson_peak_h)}"
            table.add_row(
                name[:15],
                f"{p.distance_from_source_m / 1000:.1f}",
                _h(p.leading_edge_h),
                _h(p.peak_h),
                "—" if p.peak_mg_l is None else f"{p.peak_mg_l:.3g}",
                exceed,
                "—" if p.max_exceedance_multiple is None else f"{p.max_exceedance_multiple:.1f}",
                jobson,
                key=p.label,
            )
        self.replot()

    @on(DataTable.RowHighlighted)
    def _row(self, _event) -> None:
        self.replot()

    def replot(self) -> None:
        fc = self.forecast
        if fc is None:
            return
        plot = self.query_one(PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        table = self.query_one(DataTable)
        labels: list[str] = []
        if self.plot_all:
            labels = [p.label for p in fc.points if p.kind == "drinking_water_intake" and p.reached]
        elif table.row_count:
            labels = [str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)]
        step = max(1, len(fc.times_h) // 400)
        times = list(fc.times_h[::step])
        for label in labels:
            i = next(k for k, p in enumerate(fc.points) if p.label == label)
            plt.plot(times, list(fc.curves_mg_l[i, ::step]), label=label)
        if fc.standard_mg_l:
            plt.hline(fc.standard_mg_l, "red")
        plt.xlabel(t("forecast.hours_axis"))
        plt.ylabel("mg/L")
        plt.title(t("forecast.plot_title", points=", ".join(labels)))
        plot.refresh()
