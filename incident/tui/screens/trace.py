"""Source trace screen: detections and non-detects from a CSV file → ranked candidate sources."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from incident.core.clock import fmt_local
from incident.core.i18n import t
from incident.tui.base import Localised
from incident.tui.widgets.plain import PlainTable, markup


class TraceScreen(Localised, Screen):
    DEFAULT_CSS = """
    TraceScreen Input { margin: 0 1; }
    TraceScreen #trace-status { height: auto; padding: 0 1; }
    TraceScreen DataTable { height: 1fr; }
    """
    BINDINGS = [Binding("escape", "app.pop_screen", "key.back", id="back")]

    def rebuild(self) -> TraceScreen:
        return TraceScreen()

    def compose(self) -> ComposeResult:
        from incident.demo import DEMO_RIVER

        yield Header()
        with Vertical():
            yield Input(placeholder=t("uncertainty.trace_csv"), id="trace-csv", select_on_focus=False)
            yield Input(
                value=str(DEMO_RIVER),
                placeholder=t("uncertainty.trace_river"),
                id="trace-river",
                select_on_focus=False,
            )
            yield Static(t("uncertainty.trace_hint"), id="trace-status")
            yield PlainTable(id="trace-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = t("uncertainty.trace_title")
        self.query_one(DataTable).add_columns(
            "#",
            t("uncertainty.reach"),
            "km",
            t("uncertainty.release"),
            t("uncertainty.mass"),
            t("uncertainty.weight"),
        )
        self.query_one("#trace-csv", Input).focus()

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        csv_path = self.query_one("#trace-csv", Input).value.strip()
        river = self.query_one("#trace-river", Input).value.strip()
        if not csv_path:
            self.query_one("#trace-csv", Input).focus()
            return
        self.query_one("#trace-status", Static).update(t("uncertainty.tracing"))
        self.trace(csv_path, river)

    @work(thread=True, exclusive=True, exit_on_error=False, group="trace")
    def trace(self, csv_path: str, river: str) -> None:
        from incident.plume import trace_file

        report = trace_file(csv_path, river)
        self.app.call_from_thread(self.show, report)

    def on_worker_state_changed(self, event) -> None:
        from textual.worker import WorkerState

        if event.state == WorkerState.ERROR:
            self.query_one("#trace-status", Static).update(f"[red]{markup(event.worker.error)}[/]")

    def show(self, report) -> None:
        reaches = ", ".join(f"{r} {w:.0%}" for r, w in report.reaches[:4] if w >= 0.005)
        lines = [
            t("uncertainty.trace_done", n=report.n_observations, stations=report.n_stations, reaches=reaches)
        ]
        lines += [f"[yellow]⚠ {markup(w)}[/]" for w in report.warnings]
        self.query_one("#trace-status", Static).update("\n".join(lines))
        table = self.query_one(DataTable)
        table.clear()
        for c in report.candidates:
            table.add_row(
                str(c.rank),
                c.reach_id,
                f"{c.km:.1f}",
                fmt_local(c.release),
                f"{c.mass_kg:.3g}",
                f"{c.weight:.0%}",
            )
        table.focus()
