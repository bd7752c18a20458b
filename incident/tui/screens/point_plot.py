"""One point over time: observed concentrations against the forecast curve and the limit."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Static
from textual_plotext import PlotextPlot

import incident.results as results
from incident.core.errors import UserError
from incident.core.i18n import t
from incident.core.store.engine import session_scope
from incident.tui.base import Localised, app_state
from incident.tui.widgets.exercise_banner import ExerciseBanner
from incident.tui.widgets.plain import Plain


class PointPlotScreen(Localised, Screen):
    DEFAULT_CSS = """
    PointPlotScreen PlotextPlot { height: 1fr; }
    PointPlotScreen #plot-note { height: auto; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "app.pop_screen", "key.back", id="plot-back")]

    def __init__(
        self, code: str, point: str, parameter: str | None, *, forecast=None, water_class: str = "III"
    ):
        super().__init__()
        self.code, self.point, self.parameter = code, point, parameter
        self.forecast = forecast
        self.water_class = water_class
        self.series: results.PointSeries | None = None

    def rebuild(self) -> PointPlotScreen:
        return PointPlotScreen(
            self.code, self.point, self.parameter, forecast=self.forecast, water_class=self.water_class
        )

    def compose(self) -> ComposeResult:
        yield Header()
        yield ExerciseBanner(self.code)
        yield PlotextPlot(id="point-plot")
        yield Plain("", id="plot-note")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.code
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        try:
            with session_scope(app_state(self).engine) as session:
                series = results.point_series(
                    session,
                    self.code,
                    self.point,
                    self.parameter,
                    forecast=self.forecast,
                    water_class=self.water_class,
                )
            self.app.call_from_thread(self.draw, series)
        except UserError as exc:
            self.app.call_from_thread(self.query_one("#plot-note", Static).update, exc.render())

    def draw(self, series: results.PointSeries) -> None:
        self.series = series
        widget = self.query_one(PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(t("results.plot_title", point=series.point, param=series.parameter))
        plt.xlabel(t("results.hours"))
        plt.ylabel(t("results.conc"))
        if series.forecast_hours:
            plt.plot(
                series.forecast_hours, series.forecast_mg_l, label=t("results.forecast"), marker="braille"
            )
        if series.hours:
            plt.scatter(series.hours, series.values_mg_l, label=t("results.observed"), marker="●")
        if series.limit_mg_l is not None:
            plt.hline(series.limit_mg_l, "red")
        xs = series.hours + series.forecast_hours
        ys = series.values_mg_l + series.forecast_mg_l + ([series.limit_mg_l] if series.limit_mg_l else [])
        if xs:
            pad = max((max(xs) - min(xs)) * 0.08, 0.5)
            plt.xlim(min(xs) - pad, max(xs) + pad)  # the legend sits top-left: keep points off it
        if ys:
            plt.ylim(0, max(ys) * 1.25 or 1.0)
        note = (
            t("results.no_points")
            if not series.hours
            else (f"{t('results.limit')} {series.limit_mg_l:g} mg/L (red) · n = {len(series.hours)}")
        )
        self.query_one("#plot-note", Static).update(note)
        widget.refresh()
