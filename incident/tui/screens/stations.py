"""Automatic stations: latest values with a sparkline per parameter and a status, and the alerts
list (acknowledge, dismiss with a reason, open an incident).

The store is polled on a timer in a thread worker, so readings and alerts written by a separate
`incident stations listen` process show up here too. `AlertWatch` does the same for the whole app:
a new alert raises a notification on whatever screen is open.
"""

from __future__ import annotations

from datetime import datetime

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from incident.core.clock import fmt_local
from incident.core.i18n import get_language, t
from incident.tui.base import Localised, app_state
from incident.tui.widgets.plain import PlainTable

POLL_S = 5.0  # how often the screen and the watcher read the store
STATUS_STYLE = {
    "alert": "bold red",
    "over_limit": "red",
    "stale": "yellow",
    "no_data": "dim",
    "ok": "green",
}
ALERT_STYLE = {"open": "bold red", "acknowledged": "yellow", "promoted": "cyan", "dismissed": "dim"}


def _read(engine) -> tuple[list[dict], list[dict]]:
    from incident.core.store.engine import session_scope
    from incident.stations import alerts, station_overview

    overview = station_overview(engine)  # a short unit of work per station
    with session_scope(engine) as session:
        return overview, alerts(session)


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"


class StationsScreen(Localised, Screen):
    DEFAULT_CSS = """
    StationsScreen #stations-status { height: 1; padding: 0 1; }
    StationsScreen #stations-table { height: 1fr; }
    StationsScreen #alerts-title { height: 1; padding: 0 1; background: $boost; }
    StationsScreen #alerts-table { height: 7; }
    StationsScreen #alert-detail { height: 3; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "key.back", id="stations-back"),
        Binding("a", "ack", "stations_tui.key_ack", id="alert-ack"),
        Binding("x", "dismiss_alert", "stations_tui.key_dismiss", id="alert-dismiss"),
        Binding("o", "open_incident", "stations_tui.key_open", id="alert-open"),
    ]

    def __init__(self, then: str | None = None) -> None:
        super().__init__()
        self.then = then  # an action to run once the alerts are loaded (from the palette)
        self.alert_rows: list[dict] = []

    def rebuild(self) -> StationsScreen:
        return StationsScreen()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="stations-status")
        yield PlainTable(id="stations-table", cursor_type="row", zebra_stripes=True)
        yield Static(t("stations_tui.alerts"), id="alerts-title")
        yield PlainTable(id="alerts-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="alert-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = t("stations_tui.title")
        self.query_one("#stations-table", DataTable).add_columns(
            t("stations_tui.station"),
            t("stations_tui.parameter"),
            t("stations_tui.latest"),
            t("stations_tui.trend"),
            t("stations_tui.status"),
        )
        self.query_one("#alerts-table", DataTable).add_columns(
            t("stations_tui.code"),
            t("stations_tui.status"),
            t("stations_tui.where"),
            t("stations_tui.first"),
            t("stations_tui.source"),
        )
        self.query_one("#alerts-table", DataTable).focus()
        self.load()
        self.set_interval(POLL_S, self.load)

    @work(thread=True, exclusive=True, exit_on_error=False, group="stations-load")
    def load(self) -> None:
        overview, alert_rows = _read(app_state(self).engine)
        self.app.call_from_thread(self.show, overview, alert_rows)

    def show(self, overview: list[dict], alert_rows: list[dict]) -> None:
        if not self.is_attached:  # closed while the worker was reading
            return
        from rich.text import Text

        from incident.stations import sparkline

        table = self.query_one("#stations-table", DataTable)
        cursor = table.cursor_row
        table.clear()
        for row in overview:
            value = _number(row["value"])
            table.add_row(
                row["mn"],
                row["parameter"],
                f"{value} {row['unit']}" if row["value"] is not None else value,
                sparkline(row["recent"], 24),
                Text(t(f"stations_tui.st_{row['status']}"), style=STATUS_STYLE[row["status"]]),
                key=f"{row['mn']}|{row['parameter']}",
            )
        if overview:
            table.move_cursor(row=min(cursor, len(overview) - 1))
        active = [a for a in alert_rows if a["status"] in ("open", "acknowledged")]
        shown = active + [a for a in reversed(alert_rows) if a not in active][: max(0, 20 - len(active))]
        self.alert_rows = shown
        alerts_table = self.query_one("#alerts-table", DataTable)
        cursor = alerts_table.cursor_row
        alerts_table.clear()
        for a in shown:
            cand = a["candidates"][0] if a["candidates"] else None
            risk = a["risk_sources"][0]["name"] if a["risk_sources"] else ""
            source = f"{cand['reach']} km {cand['km']:g}" if cand else "—"
            alerts_table.add_row(
                a["code"],
                Text(t(f"stations_tui.al_{a['status']}"), style=ALERT_STYLE.get(a["status"], "")),
                f"{a['station_mn']} {a['parameter']}",
                fmt_local(datetime.fromisoformat(a["first_abnormal_at"]))[5:],
                f"{source} {risk}".strip(),
                key=a["code"],
            )
        if shown:
            alerts_table.move_cursor(row=min(cursor, len(shown) - 1))
        self._detail()
        n_alert = sum(r["status"] == "alert" for r in overview)
        stations = len({r["mn"] for r in overview})
        self.query_one("#stations-status", Static).update(
            t("stations_tui.summary", stations=stations, alerts=len(active), series=n_alert)
            if overview
            else t("stations_tui.none")
        )
        if self.then:
            then, self.then = self.then, None
            getattr(self, f"action_{then}")()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "alerts-table":
            self._detail()

    def _detail(self) -> None:
        """The selected alert's likely source and the registered risk sources near it, with a phone."""
        table = self.query_one("#alerts-table", DataTable)
        detail = self.query_one("#alert-detail", Static)
        if not self.alert_rows or table.cursor_row < 0:
            detail.update("")
            return
        a = self.alert_rows[min(table.cursor_row, len(self.alert_rows) - 1)]
        lines = []
        if a["candidates"]:
            c = a["candidates"][0]
            release = fmt_local(datetime.fromisoformat(c["release_at"]))[5:]
            lines.append(
                t(
                    "stations_tui.detail_source",
                    reach=c["reach"],
                    km=c["km"],
                    weight=c["weight"],
                    release=release,
                )
            )
        else:
            lines.append(t("stations_tui.detail_no_trace", stations=", ".join(a["stations"])))
        for r in a["risk_sources"][:2]:
            phone = (r.get("contact") or {}).get("phone") or ""
            name = (r.get("name_zh") if get_language() == "zh" else None) or r["name"]
            lines.append(f"  {r['id']} {name} ({r['kind']}, {r['distance_km']:g} km) {phone}".rstrip())
        if a.get("dismissed_reason"):
            lines.append(t("stations_tui.detail_reason", reason=a["dismissed_reason"]))
        detail.update("\n".join(lines[:3]))

    # -- acting on the selected alert ----------------------------------------------
    def _selected(self) -> dict | None:
        table = self.query_one("#alerts-table", DataTable)
        if not self.alert_rows or table.cursor_row < 0:
            self.notify(t("stations_tui.no_alert"), severity="warning")
            return None
        return self.alert_rows[min(table.cursor_row, len(self.alert_rows) - 1)]

    def action_ack(self) -> None:
        alert = self._selected()
        if alert is not None:
            self._act("ack", alert["code"])

    def action_dismiss_alert(self) -> None:
        from incident.tui.dialogs.form import FormDialog, FormField

        alert = self._selected()
        if alert is None:
            return

        def done(values: dict | None) -> None:
            if values is not None:
                self._act("dismiss", alert["code"], values.get("reason", ""))

        self.app.push_screen(
            FormDialog(
                t("stations_tui.dismiss_title", code=alert["code"]),
                [FormField("reason", t("stations_tui.reason"), placeholder=t("stations_tui.reason_hint"))],
            ),
            done,
        )

    def action_open_incident(self) -> None:
        alert = self._selected()
        if alert is not None:
            self._act("open", alert["code"])

    @work(thread=True, exclusive=True, exit_on_error=False, group="stations-act")
    def _act(self, what: str, code: str, reason: str = "") -> None:
        from incident.core.store.engine import session_scope
        from incident.stations import acknowledge_alert, dismiss_alert, open_incident_from_alert

        user = app_state(self).settings.user
        with session_scope(app_state(self).engine) as session:
            if what == "ack":
                acknowledge_alert(session, code, actor=user)
                result = None
            elif what == "dismiss":
                dismiss_alert(session, code, reason=reason, actor=user)
                result = None
            else:
                result = open_incident_from_alert(session, code, actor=user)
        self.app.call_from_thread(self._acted, what, code, result)

    def _acted(self, what: str, code: str, incident: str | None) -> None:
        self.app.notify(t(f"stations_tui.done_{what}", code=code, incident=incident or ""))
        if incident is not None:
            app_state(self).open_incident(incident)
        elif self.is_attached:
            self.load()


class AlertWatch:
    """Polls the alerts on a timer (thread worker) and notifies each alert new since the last look,
    wherever the user is; refreshes the stations screen if it is open."""

    def __init__(self, app, poll_s: float = POLL_S) -> None:
        self.app = app
        self.poll_s = poll_s
        self.known: set[str] | None = None  # None until the first look

    def start(self) -> None:
        self.app.set_interval(self.poll_s, self.poll)
        self.poll()

    def poll(self) -> None:
        self.app.run_worker(self._look, thread=True, exclusive=True, group="alert-watch", exit_on_error=False)

    def _look(self) -> None:
        from incident.core.store.engine import session_scope
        from incident.stations import alerts

        with session_scope(self.app.engine) as session:
            rows = alerts(session)
        self.app.call_from_thread(self._seen, rows)

    def _seen(self, rows: list[dict]) -> None:
        active = [r for r in rows if r["status"] in ("open", "acknowledged")]
        if self.known is None:  # at start: one word about alerts still waiting
            self.known = {r["code"] for r in rows}
            if any(r["status"] == "open" for r in active):
                n = sum(r["status"] == "open" for r in active)
                self.app.notify(t("stations_tui.waiting", n=n), severity="warning", timeout=8)
            return
        for r in rows:
            if r["code"] not in self.known:
                self.known.add(r["code"])
                self.app.notify(
                    t(
                        "stations_tui.new_alert",
                        station=r["station_mn"],
                        parameter=r["parameter"],
                        value=_number(r["value"]),
                        baseline=_number(r["baseline"]),
                    ),
                    title=r["code"],
                    severity="error",
                    timeout=20,
                )
                if isinstance(self.app.screen, StationsScreen):
                    self.app.screen.load()
