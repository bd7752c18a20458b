"""The incident dashboard: situation, downstream receptors, crews, results, log.

Data is read in a thread worker (one short session) and handed back as plain
data, so a slow database never freezes the screen.
"""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from incident.core.clock import as_utc, fmt_local, fmt_when, to_local, utcnow
from incident.core.i18n import bilingual, t
from incident.core.store.engine import session_scope
from incident.overview import DashboardData, dashboard
from incident.tui.base import Localised, app_state
from incident.tui.widgets.exercise_banner import ExerciseBanner
from incident.tui.widgets.plain import Plain, PlainRichTable


def _elapsed(minutes: float) -> str:
    sign = "-" if minutes < 0 else "+"
    minutes = abs(int(minutes))
    return f"T{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _deadline_text(data: DashboardData) -> Text:
    """Next deadline: the step, its local time and a countdown (red once overdue)."""
    if not data.next_deadline:
        return Text("—")
    title, due = data.next_deadline
    left = (as_utc(due) - as_utc(data.now or utcnow())).total_seconds() / 60
    text = Text(f"{fmt_local(due, with_date=False)} ")
    minutes = int(abs(left))
    span = f"{minutes // 60}h{minutes % 60:02d}" if minutes >= 60 else f"{minutes}m"
    if left < 0:
        text.append(t("dashboard.deadline_overdue", left=span), style="bold red")
    else:
        text.append(t("dashboard.deadline_in", left=span), style="yellow" if left < 15 else "")
    if title != data.current_step:
        text.append(f"\n{title}")
    return text


def _next_arrival_text(data: DashboardData) -> Text:
    """The next receptor the forecast plume reaches after now, and in how long."""
    if data.forecast_at is None:
        return Text(t("dashboard.not_run"), style="dim")
    now = data.now or data.alert_at
    start = data.release_start or data.alert_at  # the board sets it: release start, else alert
    upcoming = [
        (start + timedelta(hours=r.arrival_h), r)
        for r in data.receptors
        if r.arrival_h is not None and start + timedelta(hours=r.arrival_h) > now
    ]
    if not upcoming:
        return Text("—")
    at, r = min(upcoming, key=lambda x: x[0])
    minutes = int((at - now).total_seconds() // 60)
    style = "bold red" if r.kind == "drinking_water_intake" else ""
    return Text(
        f"{r.receptor_id} {fmt_local(at, with_date=False)} ({minutes // 60}h{minutes % 60:02d})", style=style
    )


def _fit_receptors(receptors: list, rows: int) -> list:
    """The receptors that fit, in river order: drinking-water intakes first, then boundary
    sections, then the rest (a small terminal never hides an intake); one row is kept for
    "N more" when some are left out."""
    if len(receptors) <= rows:
        return list(receptors)
    rank = {"drinking_water_intake": 0, "boundary_section": 1}
    order = sorted(range(len(receptors)), key=lambda i: (rank.get(receptors[i].kind, 2), i))
    keep = set(order[: max(1, rows - 1)])
    return [r for i, r in enumerate(receptors) if i in keep]


class _ReceptorPanel(Static):
    """Tells the dashboard when its height changes, so the receptors are fitted again."""

    def on_resize(self) -> None:
        self.call_after_refresh(cast(DashboardScreen, self.screen)._refit_receptors)  # shown only there


class DashboardScreen(Localised, Screen):
    DEFAULT_CSS = """
    DashboardScreen Grid {
        grid-size: 2 3;
        grid-columns: 1fr 1fr;
        grid-rows: auto 1fr auto;
        height: 1fr;
    }
    DashboardScreen #right-column { height: auto; }
    DashboardScreen #receptors { column-span: 2; height: 1fr; }
    DashboardScreen #log-tail { column-span: 2; height: auto; max-height: 4; }
    """
    # The dashboard is where a response starts: its footer shows the next screens in
    # workflow order (crews are one key further, on the plan screen; F1 lists every key).
    BINDINGS = [
        Binding("p", "app.playbook", "key.playbook", id="open-playbook"),
        Binding("f", "app.forecast", "key.forecast", id="dashboard-forecast"),
        Binding("m", "app.plan_show", "key.plan", id="dashboard-plan"),
        Binding("v", "app.results", "key.results", id="dashboard-results"),
        Binding("b", "app.reports", "key.reports", id="dashboard-reports"),
        Binding("a", "app.spill_amend", "key.spill_amend", id="dashboard-amend", show=False),
        Binding("r", "refresh", "key.refresh", id="refresh", show=False),
    ]

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code
        self.data: DashboardData | None = None

    def rebuild(self) -> DashboardScreen:
        return DashboardScreen(self.code)

    def compose(self) -> ComposeResult:
        yield Header()
        yield ExerciseBanner(self.code)
        with Grid():
            yield Plain(t("app.loading"), id="situation", classes="panel")
            with Vertical(id="right-column"):
                yield Plain("", id="crews", classes="panel")
                yield Plain("", id="results", classes="panel")
            yield _ReceptorPanel("", id="receptors", classes="panel")
            yield Plain("", id="log-tail", classes="panel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#situation").border_title = t("dashboard.situation")
        self.query_one("#crews").border_title = t("dashboard.crews")
        self.query_one("#results").border_title = t("dashboard.results")
        self.query_one("#receptors").border_title = t("dashboard.receptors")
        self.query_one("#log-tail").border_title = t("dashboard.log")
        self.load()

    def timed_refresh(self) -> None:
        """Called every 30 s by the app while this is the current screen. (A per-screen
        ``set_interval`` kept each closed dashboard in memory until its next tick: the
        cancelled timer handle holds the screen's context. Issue 19.)"""
        self.load()

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="dashboard")
    def load(self) -> DashboardData:
        with session_scope(app_state(self).engine) as session:
            data = dashboard(session, self.code)
        self.app.call_from_thread(self.show, data)
        return data

    def _receptor_rows(self) -> int:
        """Rows the receptor panel has for receptors (its content height less the header)."""
        height = self.query_one("#receptors").size.height
        return max(2, height - 1) if height else 99

    def on_resize(self) -> None:
        self.call_after_refresh(self._refit_receptors)

    def _refit_receptors(self) -> None:
        if self.data is not None and self._receptor_rows() != getattr(self, "_receptor_fit", None):
            self._show_receptors()

    def _show_receptors(self) -> None:
        """Receptors as fit in the panel now (re-run after layout and on resize)."""
        data = self.data
        if data is None:
            return
        now = data.now or data.alert_at
        self._receptor_fit = self._receptor_rows()
        rec = PlainRichTable(expand=True, box=None, padding=(0, 1), header_style="bold")
        rec.add_column(t("dashboard.receptor"), ratio=3, no_wrap=True, overflow="ellipsis")
        rec.add_column(t("dashboard.km"), justify="right")
        rec.add_column(t("dashboard.distance"), justify="right")
        rec.add_column(t("dashboard.arrival"), justify="right")
        # before a forecast is run, the pre-plan of a registered source at the incident gives the
        # median-flow P50 arrival at each intake
        preplan = {
            p.intake_id: p.arrival_p50_h
            for p in data.preplan
            if p.flow == "median" and p.arrival_p50_h is not None and p.source_id == data.preplan[0].source_id
        }
        shown = _fit_receptors(data.receptors, self._receptor_rows())
        for r in shown:
            name = Text(bilingual(r.name, r.name_zh))
            if r.kind == "drinking_water_intake":
                name.stylize("bold red")
            planned = preplan.get(r.receptor_id)
            if data.forecast_at is None and planned is not None:
                arrival = f"+{planned:.1f}h {t('dashboard.preplan')}"  # known the day before
            elif data.forecast_at is None:
                arrival = t("dashboard.not_run")
            elif r.arrival_h is None:
                arrival = t("dashboard.not_reached")
            else:
                start = data.release_start or data.alert_at  # the board sets it: release start, else alert
                arrival = fmt_when(start + timedelta(hours=r.arrival_h), now)
            rec.add_row(name, f"{r.km:.1f}", f"{r.distance_km:.1f} km", arrival)
        hidden = len(data.receptors) - len(shown)
        if hidden > 0:
            rec.add_row(Text(t("dashboard.more_receptors", n=hidden), style="dim"), "", "", "")
        self.query_one("#receptors", Static).update(rec)

    def show(self, data: DashboardData) -> None:
        self.data = data
        title = bilingual(data.title, data.title_zh)
        self.sub_title = f"{data.code} · {title}"

        situation = PlainRichTable.grid(padding=(0, 1))
        situation.add_column(style="bold")
        situation.add_column()
        src = (
            f"{data.source_reach} · km {data.source_km:.1f}" if data.source_reach else t("dashboard.unknown")
        )
        now = data.now or data.alert_at
        same_day = to_local(now).date() == to_local(data.alert_at).date()
        alert = (
            fmt_local(data.alert_at, with_date=False)
            if same_day
            else to_local(data.alert_at).strftime("%m-%d %H:%M")
        )
        situation.add_row(t("dashboard.alert"), f"{alert}  {_elapsed(data.elapsed_min)}")
        situation.add_row(t("dashboard.source"), src)
        situation.add_row(
            t("dashboard.substance"), bilingual(data.substance, data.substance_zh) or t("dashboard.unknown")
        )
        situation.add_row(
            t("dashboard.mass"),
            f"{data.mass_kg:,.0f} kg" if data.mass_kg is not None else t("dashboard.unknown"),
        )
        phase = data.phase or "—"
        if data.playbook_progress and data.current_step is None:
            phase = t("playbook.status_done")
        situation.add_row(t("dashboard.phase"), phase)
        if data.current_step:
            situation.add_row(
                t("dashboard.current_step"), Text(data.current_step, no_wrap=True, overflow="ellipsis")
            )
        situation.add_row(t("dashboard.next_deadline"), _deadline_text(data))
        situation.add_row(t("dashboard.next_arrival"), _next_arrival_text(data))
        self.query_one("#situation", Static).update(situation)

        crews = PlainRichTable.grid(padding=(0, 1))
        crews.add_column()
        crews.add_column()
        styles = {"available": "green", "assigned": "yellow", "out_of_service": "red"}
        for crew in data.crews:
            where = f"→ {crew.point}" if crew.point else ""
            if crew.point and crew.slack_min is not None:
                where += f" {crew.slack_min:+.0f}′"
            late = crew.slack_min is not None and crew.slack_min < 0
            crews.add_row(
                crew.name,
                Text(t(f"status.{crew.status}"), style=styles.get(crew.status, "")),
                Text(where, style="bold red" if late else ""),
            )
        self.query_one("#crews", Static).update(crews)

        res = PlainRichTable.grid(padding=(0, 1))
        for _ in range(3):
            res.add_column(no_wrap=True, overflow="ellipsis")
        if data.exceedances:
            res.add_row(Text(t("dashboard.exceedances", n=data.exceedances), style="bold red"), "", "")
        for r in data.latest_results:
            value = Text(
                r.text + (f" {r.multiple:.1f}×" if r.exceeds and r.multiple is not None else ""),
                style="bold red" if r.exceeds else "",
            )
            flag = {"suspected": "?", "not_confirmed": "✗"}.get(r.status, "") + ("!" if r.qc_flagged else "")
            res.add_row(
                r.point or "—", r.parameter[:12], value + Text(f" {flag}" if flag else "", style="yellow")
            )
        if not data.latest_results:
            res.add_row(Text(t("dashboard.no_results"), style="dim"), "", "")
        self.query_one("#results", Static).update(res)

        self._show_receptors()
        self.call_after_refresh(self._refit_receptors)

        logt = PlainRichTable.grid(padding=(0, 1))
        logt.add_column(style="dim", min_width=5, no_wrap=True)
        logt.add_column(no_wrap=True, overflow="ellipsis")
        for at, actor, summary in data.log_tail:
            logt.add_row(fmt_local(at, with_date=False), f"{actor}: {summary}")
        self.query_one("#log-tail", Static).update(logt)
