"""The incident list: real incidents (exercises are listed apart)."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from incident.core.clock import fmt_local
from incident.core.i18n import bilingual, t
from incident.core.incidents import list_incidents
from incident.core.store.engine import session_scope
from incident.tui.base import Localised, app_state
from incident.tui.widgets.plain import Plain, PlainTable


class IncidentListScreen(Localised, Screen):
    # the first screen: readiness (equipment managers) and quit are shown here
    BINDINGS = [
        Binding("enter", "open", "key.open", id="open-incident"),
        Binding("n", "app.incident_new", "key.incident_new", id="incidents-new"),
        Binding("R", "app.readiness", "key.readiness", id="incidents-readiness"),
        Binding("q", "app.quit", "key.quit", id="incidents-quit"),
    ]

    def rebuild(self) -> IncidentListScreen:
        return IncidentListScreen()

    def compose(self) -> ComposeResult:
        yield Header()
        table = PlainTable(id="incident-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Plain("", id="incident-empty", classes="muted")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = t("incidents.title")
        table = self.query_one(DataTable)
        table.add_columns(
            t("incidents.code"), t("incidents.status"), t("incidents.alert"), t("incidents.title_col")
        )
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        with session_scope(app_state(self).engine) as session:
            rows = [
                (i.code, i.status, i.alert_at, bilingual(i.title, i.title_zh))
                for i in list_incidents(session)
            ]
        self.app.call_from_thread(self.show, rows)

    def show(self, rows) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for code, status, alert, title in rows:
            table.add_row(code, t(f"status.{status}"), fmt_local(alert), title, key=code)
        self.query_one("#incident-empty", Static).update("" if rows else t("incidents.none"))
        table.focus()

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
            app_state(self).open_incident(str(key.value))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        app_state(self).open_incident(str(event.row_key.value))
