"""The incident's activity log (ICS 214), newest last."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header

from incident.core import log
from incident.core.clock import fmt_local
from incident.core.i18n import t
from incident.core.store.engine import session_scope
from incident.overview import describe
from incident.tui.base import Localised, app_state
from incident.tui.widgets.exercise_banner import ExerciseBanner
from incident.tui.widgets.plain import PlainTable


class LogScreen(Localised, Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "key.back", id="back")]

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code

    def rebuild(self) -> LogScreen:
        return LogScreen(self.code)

    def compose(self) -> ComposeResult:
        yield Header()
        yield ExerciseBanner(self.code)
        yield PlainTable(id="log-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.code} · {t('dashboard.log')}"
        self.query_one(DataTable).add_columns(
            "#", *(t(f"dashboard.log_col_{c}") for c in ("time", "actor", "kind", "summary"))
        )
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        with session_scope(app_state(self).engine) as session:
            rows = [
                (e.seq, fmt_local(e.at), e.actor, e.kind, describe(e.kind, e.payload_json, e.summary))
                for e in log.entries(session, log.incident_chain(self.code))
            ]
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows) -> None:
        table = self.query_one(DataTable)
        for row in rows:
            table.add_row(*map(str, row))
        table.move_cursor(row=max(0, len(rows) - 1))
