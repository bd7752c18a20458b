"""Forecast screen: per-receptor arrival, peak, exceedance window and the Jobson
cross-check, with a breakthrough plot of the selected point.

The model runs in a thread worker with a progress bar; the screen never freezes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, ProgressBar, Static
from textual_plotext import PlotextPlot

from incident.core.clock import fmt_local
from incident.core.i18n import bilingual, t
from incident.plume import IncidentForecast
from incident.tui.base import Localised, app_state
from incident.tui.widgets.exercise_banner import ExerciseBanner
from incident.tui.widgets.plain import PlainTable, markup

if TYPE_CHECKING:
    import numpy as np


def _h(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _band(band: tuple[float, float, float] | None) -> str:
    """P10–P90 hours ("—" before an ensemble; ">" when P90 is beyond the horizon)."""
    if band is None or band[0] == float("inf"):
        return "—"
    hi = ">" if band[2] == float("inf") else f"{band[2]:.1f}"
    return f"{band[0]:.1f}–{hi}"


#: Terminal width from which the table also shows Jobson's cross-check.
WIDE_FOR_JOBSON = 110


def plot_window_end(times_h: np.ndarray, curves: list[np.ndarray], tail: float = 0.01) -> int:
    """How many time steps the breakthrough plot shows: up to where the last curve has fallen back
    below ``tail`` of its peak, plus a fifth more, so a pulse fills the plot instead of a sliver of
    a 72 h axis. The whole horizon when nothing has arrived or a curve is still high at its end."""
    import numpy as np

    n = len(times_h)
    last = 0
    for curve in curves:
        peak = float(np.max(curve)) if len(curve) else 0.0
        if not peak > 0:
            continue
        above = np.flatnonzero(curve >= tail * peak)
        last = max(last, int(above[-1]))
    if last == 0 or last >= n - 1:
        return n
    t_end = times_h[last] + 0.2 * (times_h[last] - times_h[0])
    return min(n, int(np.searchsorted(times_h, t_end, side="right")) + 1)


class ForecastScreen(Localised, Screen):
    DEFAULT_CSS = """
    ForecastScreen #fc-status { height: auto; max-height: 3; padding: 0 1; }
    ForecastScreen ProgressBar { height: 1; padding: 0 1; }
    ForecastScreen DataTable { height: 1fr; min-height: 6; }
    ForecastScreen PlotextPlot { height: 1fr; min-height: 8; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "key.back", id="back"),
        Binding("r", "rerun", "forecast.rerun", id="forecast-rerun"),
        Binding("a", "plot_all", "forecast.plot_all", id="forecast-plot-all"),
        Binding("e", "ensemble", "uncertainty.ensemble_key", id="forecast-ensemble"),
    ]

    def __init__(self, code: str, ensemble: bool = False) -> None:
        super().__init__()
        self.code = code
        self.forecast: IncidentForecast | None = None
        self.plot_all = False
        self.want_ensemble = ensemble
        self.curve_bands: np.ndarray | None = None  # (3, points, times) P10/P50/P90 curves from the ensemble

    def rebuild(self) -> ForecastScreen:
        return ForecastScreen(self.code, self.want_ensemble)

    def compose(self) -> ComposeResult:
        yield Header()
        yield ExerciseBanner(self.code)
        with Vertical():
            yield Static(t("forecast.running"), id="fc-status")
            yield ProgressBar(total=100, show_eta=False, id="fc-progress")
            yield PlainTable(id="fc-table", cursor_type="row", zebra_stripes=True)
            yield PlotextPlot(id="fc-plot")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.code} · {t('forecast.title')}"
        cached = getattr(self.app, "forecasts", {}).get(self.code)
        if cached is not None:
            self.show(cached)
            if self.want_ensemble:
                self.action_ensemble()
        else:
            self.run_forecast()

    def action_ensemble(self) -> None:
        """Run 1,000 fast-model members (seed 0) for P10/P50/P90 bands on the table and the plot."""
        if self.forecast is None:
            self.want_ensemble = True  # after the forecast
            return
        self.query_one("#fc-status", Static).update(t("uncertainty.ensemble_running"))
        self.run_ensemble()

    @work(thread=True, exclusive=True, exit_on_error=False, group="ensemble")
    def run_ensemble(self) -> None:
        import incident.plume as usvc
        from incident.core.store.engine import session_scope

        fc = self.forecast
        if fc is None:  # started only once a forecast is shown
            return
        with session_scope(app_state(self).engine) as session:
            req, _ = usvc.request_with_calibration(session, self.code, horizon_h=fc.horizon_h)
        result, setup = usvc.run_request_ensemble(req, n_members=1000, seed=0, curve_times_h=fc.times_h)
        usvc.apply_bands(fc, result, setup)
        with session_scope(app_state(self).engine) as session:  # the forecast with its bands is a new record
            usvc.store_forecast(
                session, self.code, fc, actor=app_state(self).settings.user, bands=usvc.band_rows(fc, result)
            )
        self.curve_bands = result.curve_bands_mg_l
        self.app.call_from_thread(self.show, fc)

    def action_rerun(self) -> None:
        self.query_one(ProgressBar).display = True
        self.query_one("#fc-status", Static).update(t("forecast.running"))
        self.run_forecast()

    def action_plot_all(self) -> None:
        self.plot_all = not self.plot_all
        self.replot()

    @work(thread=True, exclusive=True, exit_on_error=False, group="forecast")
    def run_forecast(self) -> IncidentForecast:
        from incident.core.store.engine import session_scope
        from incident.plume import forecast_incident, store_forecast

        bar = self.query_one(ProgressBar)

        def progress(fraction: float) -> None:
            self.app.call_from_thread(bar.update, progress=fraction * 100)

        with session_scope(app_state(self).engine) as session:
            fc = forecast_incident(session, self.code, progress=progress)
            store_forecast(session, self.code, fc, actor=app_state(self).settings.user)
        self.curve_bands = None
        self.app.call_from_thread(self.show, fc)
        if self.want_ensemble:
            self.app.call_from_thread(self.action_ensemble)
        return fc

    def on_worker_state_changed(self, event) -> None:
        from textual.worker import WorkerState

        if event.state == WorkerState.ERROR:
            self.query_one(ProgressBar).display = False
            self.query_one("#fc-status", Static).update(f"[red]{markup(event.worker.error)}[/]")

    def show(self, fc: IncidentForecast) -> None:
        self.forecast = fc
        self.query_one(ProgressBar).display = False
        std = f"{t('forecast.standard')} {fc.standard_mg_l:g} mg/L · " if fc.standard_mg_l else ""
        members = fc.grid.get("ensemble_members")
        bands = f" · {t('uncertainty.ensemble_done', n=members)}" if members else ""
        self.query_one("#fc-status", Static).update(
            f"{std}{t('forecast.release')} {fmt_local(fc.release_start)} · {t('forecast.hours_after')}{bands}"
        )
        table = self.query_one(DataTable)
        downstream = [p for p in fc.points if p.distance_from_source_m == p.distance_from_source_m]
        # What fits at 80 columns without scrolling sideways: the P10–P90 column once an ensemble
        # has given bands, the Jobson cross-check on a wide terminal (and always in the CLI).
        with_band = any(_band(p.leading_edge_band_h) != "—" for p in downstream)
        with_jobson = self.size.width >= WIDE_FOR_JOBSON
        columns = ["point", "dist", "arrive", "band", "peak_h", "peak", "exceed", "multiple", "jobson"]
        shown = [c for c in columns if (c != "band" or with_band) and (c != "jobson" or with_jobson)]
        headers = [(c, t("uncertainty.band" if c == "band" else f"forecast.{c}")) for c in shown]
        table.clear(columns=True)
        table.add_columns(*(h for _, h in headers))
        width = self._name_width(headers)
        for p in sorted(downstream, key=lambda p: p.distance_from_source_m):
            name = p.label if p.kind == "point" else f"{p.label} {bilingual(p.name, None)}"
            cells = {
                "point": name if len(name) <= width else name[: width - 1] + "…",
                "dist": f"{p.distance_from_source_m / 1000:.1f}",
                "arrive": _h(p.leading_edge_h),
                "band": _band(p.leading_edge_band_h),
                "peak_h": _h(p.peak_h),
                "peak": "—" if p.peak_mg_l is None else f"{p.peak_mg_l:.3g}",
                "exceed": "—" if p.exceed_start_h is None else f"{p.exceed_start_h:.1f}–{_h(p.exceed_end_h)}",
                "multiple": "—" if p.max_exceedance_multiple is None else f"{p.max_exceedance_multiple:.1f}",
                "jobson": "—"
                if p.jobson_leading_h is None
                else f"{p.jobson_leading_h:.1f}/{_h(p.jobson_peak_h)}",
            }
            table.add_row(*(cells[c] for c in shown), key=p.label)
        self.replot()

    @on(DataTable.RowHighlighted)
    def _row(self, _event) -> None:
        self.replot()

    def _name_width(self, headers: list[tuple[str, str]]) -> int:
        """Names get what the other columns leave (at least 12 characters; all of it on a wide
        terminal): each other column is as wide as its header or its widest cell, plus padding."""
        widest_cell = {
            "dist": 5,
            "arrive": 4,
            "band": 9,
            "peak_h": 4,
            "peak": 6,
            "exceed": 9,
            "multiple": 4,
            "jobson": 9,
        }
        others = sum(max(len(h), widest_cell[c]) + 2 for c, h in headers[1:])
        return max(12, self.size.width - others - 2 - 2)  # the name's padding, the scrollbar

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
        rows = [next(k for k, p in enumerate(fc.points) if p.label == label) for label in labels]
        curves = [fc.curves_mg_l[i] for i in rows]
        if self.curve_bands is not None and not self.plot_all:
            curves += [self.curve_bands[2, i] for i in rows]
        end = plot_window_end(fc.times_h, curves)
        step = max(1, end // 400)
        times = list(fc.times_h[:end:step])
        for label, i in zip(labels, rows, strict=True):
            plt.plot(times, list(fc.curves_mg_l[i, :end:step]), label=label)
            if self.curve_bands is not None and not self.plot_all:
                plt.plot(times, list(self.curve_bands[0, i, :end:step]), label="P10", color="gray")
                plt.plot(times, list(self.curve_bands[2, i, :end:step]), label="P90", color="gray")
        if fc.standard_mg_l:
            plt.hline(fc.standard_mg_l, "red")
        plt.xlabel(t("forecast.hours_axis"))
        plt.ylabel("mg/L")
        plt.title(t("forecast.plot_title", points=", ".join(labels)))
        plot.refresh()
