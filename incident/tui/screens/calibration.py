"""Calibration screen: fit the plume to the incident's results, compare before and after, then
accept or reject the fit (with confirmation; both are logged).

Opening the screen runs a fit (in a worker) and stores it as a pending calibration.
"""

from __future__ import annotations

import math

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from incident.core.clock import fmt_local
from incident.core.i18n import t
from incident.tui.base import Localised
from incident.tui.widgets.exercise_banner import ExerciseBanner


def _h(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _c(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g}"


class CalibrationScreen(Localised, Screen):
    DEFAULT_CSS = """
    CalibrationScreen #cal-status { height: auto; padding: 0 1; }
    CalibrationScreen DataTable { height: auto; max-height: 12; margin-bottom: 1; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "key.back", id="back"),
        Binding("a", "accept", "uncertainty.accept", id="calibration-accept"),
        Binding("x", "reject", "uncertainty.reject", id="calibration-reject"),
        Binding("r", "refit", "uncertainty.refit", id="calibration-refit"),
    ]

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code
        self.report = None
        self.decided: str | None = None

    def rebuild(self) -> CalibrationScreen:
        return CalibrationScreen(self.code)

    def compose(self) -> ComposeResult:
        yield Header()
        yield ExerciseBanner(self.code)
        with VerticalScroll():
            yield Static(t("uncertainty.fitting"), id="cal-status")
            yield DataTable(id="cal-params", cursor_type="row", show_cursor=False)
            yield DataTable(id="cal-points", cursor_type="row", zebra_stripes=True)
            yield DataTable(id="cal-fit", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.code} · {t('uncertainty.calibration_title')}"
        self.query_one("#cal-params", DataTable).add_columns(
            t("uncertainty.parameter"),
            t("uncertainty.before"),
            t("uncertainty.fitted"),
            t("uncertainty.interval"),
        )
        self.query_one("#cal-points", DataTable).add_columns(
            t("forecast.point"),
            t("uncertainty.arrive_before"),
            t("uncertainty.arrive_after"),
            t("uncertainty.peak_before"),
            t("uncertainty.peak_after"),
        )
        self.query_one("#cal-fit", DataTable).add_columns(
            t("forecast.point"),
            t("uncertainty.samples"),
            t("uncertainty.non_detects"),
            t("uncertainty.bias"),
            t("uncertainty.scatter"),
        )
        self.fit()

    def action_refit(self) -> None:
        self.query_one("#cal-status", Static).update(t("uncertainty.fitting"))
        self.fit()

    @work(thread=True, exclusive=True, exit_on_error=False, group="calibrate")
    def fit(self) -> None:
        from incident.core.store.engine import session_scope
        from incident.plume import calibrate_incident

        with session_scope(self.app.engine) as session:
            report = calibrate_incident(session, self.code, actor=self.app.settings.user)
        self.app.call_from_thread(self.show, report)

    def on_worker_state_changed(self, event) -> None:
        from textual.worker import WorkerState

        if event.state == WorkerState.ERROR:
            self.query_one("#cal-status", Static).update(f"[red]{event.worker.error}[/]")

    def show(self, report) -> None:
        self.report = report
        self.decided = None
        fit = report.fit
        e, ci, prior = fit.estimates, fit.intervals_95, fit.prior
        lines = [
            t(
                "uncertainty.summary",
                id=report.calibration_id,
                n=fit.n_observations,
                detected=fit.n_detected,
                censored=fit.n_censored,
                before=f"{math.exp(fit.rms_log_prior):.2f}",
                after=f"{fit.factor_error:.2f}",
            )
        ]
        lines += [f"[yellow]⚠ {w}[/]" for w in fit.warnings]
        lines.append(t("uncertainty.keys_hint"))
        self.query_one("#cal-status", Static).update("\n".join(lines))
        params = self.query_one("#cal-params", DataTable)
        params.clear()
        params.add_row(
            t("uncertainty.mass"),
            f"{prior['mass_kg']:.0f}",
            f"{e['mass_kg']:.0f}",
            f"{ci['mass_kg'][0]:.0f}–{ci['mass_kg'][1]:.0f}",
        )
        shift = e["start_s"] / 60.0
        params.add_row(
            t("uncertainty.release"),
            fmt_local(report.release_start, with_date=False),
            fmt_local(report.estimated_start, with_date=False),
            "±—"
            if not math.isfinite(fit.standard_errors["start_s"])
            else f"{shift:+.0f} ±{1.96 * fit.standard_errors['start_s'] / 60:.0f} min",
        )
        for key, name in (
            ("velocity_factor", "uncertainty.velocity"),
            ("dispersion_factor", "uncertainty.dispersion"),
        ):
            params.add_row(t(name), "1", f"{e[key]:.2f}", f"{ci[key][0]:.2f}–{ci[key][1]:.2f}")
        points = self.query_one("#cal-points", DataTable)
        points.clear()
        if report.before is not None:
            for b, a in zip(report.before.points, report.after.points, strict=True):
                if b.distance_from_source_m != b.distance_from_source_m:
                    continue  # not downstream of the source
                points.add_row(
                    b.label, _h(b.leading_edge_h), _h(a.leading_edge_h), _c(b.peak_mg_l), _c(a.peak_mg_l)
                )
        per = self.query_one("#cal-fit", DataTable)
        per.clear()
        for pf in fit.per_point:
            per.add_row(
                report.points[pf.point],
                str(pf.n),
                str(pf.n_censored),
                f"×{math.exp(pf.mean_residual_ln):.2f}",
                f"×{math.exp(pf.rms_residual_ln):.2f}",
            )

    def _decide(self, accept: bool) -> None:
        from incident.tui.dialogs.decide import DecisionDialog

        if self.report is None or self.decided:
            self.notify(t("uncertainty.nothing_pending"), severity="warning")
            return
        key = "uncertainty.confirm_accept" if accept else "uncertainty.confirm_reject"
        question = t(key, id=self.report.calibration_id)

        def done(answer: tuple[bool, str] | None) -> None:
            if not answer:
                return
            from incident.core.store.engine import session_scope
            from incident.plume import decide

            with session_scope(self.app.engine) as session:
                info = decide(
                    session,
                    self.code,
                    self.report.calibration_id,
                    accept=accept,
                    actor=self.app.settings.user,
                    reason=answer[1],
                )
            self.decided = info.decision
            self.notify(t("uncertainty.decided", id=info.id, decision=t(f"uncertainty.{info.decision}")))

        self.app.push_screen(DecisionDialog(question), done)

    def action_accept(self) -> None:
        self._decide(True)

    def action_reject(self) -> None:
        self._decide(False)
