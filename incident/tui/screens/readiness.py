"""Readiness dashboard: can the centre field N teams now, and what blocks each team.

Tabs: teams, kits, equipment, stock, due dates by week. The pane at the
bottom gives the reasons for the highlighted row; Enter on an item opens its
detail with calibration and maintenance history. Data is read in a thread
worker and handed back as plain data.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane

from incident.core.i18n import bilingual, t
from incident.core.store.engine import session_scope
from incident.readiness import DueItem, Rollup, due_items, rollup
from incident.tui.base import Localised, app_state
from incident.tui.widgets.exercise_banner import ExerciseBanner
from incident.tui.widgets.plain import Plain, PlainTable
from incident.tui.widgets.readiness_state import state_text

TABS = ("teams", "kits", "items", "stock", "due")
LOT_STYLE = {"ok": "", "expiring": "yellow", "expired": "bold red"}
HEADERS = {
    "teams": ("crew", "state", "kit", "vehicle", "leader"),
    "kits": ("kit", "state", "template", "out_to"),
    "items": ("tag", "state", "type", "due", "kit"),
    "stock": ("item", "state", "lot", "qty", "expires"),
    "due": ("week", "due", "days", "kind", "subject"),
}


def answer_text(r: Rollup) -> str:
    key = "readiness.can_field" if r.can_field else "readiness.cannot_field"
    mark = "✔" if r.can_field else "✘"
    return f"{mark}  {t(key, n=r.teams_required, ready=r.teams_ready).upper()}"


@dataclass
class ReadinessView:
    rollup: Rollup
    due: list[DueItem]


class ReadinessScreen(Localised, Screen):
    SHOWS_READINESS = True
    DEFAULT_CSS = """
    ReadinessScreen #answer {
        height: 3; content-align: center middle; text-style: bold; width: 100%;
        background: $panel;
    }
    ReadinessScreen #answer.ok { background: $success; color: $text; }
    ReadinessScreen #answer.bad { background: $error; color: $text; }
    ReadinessScreen #summary { height: 1; padding: 0 1; color: $text-muted; }
    ReadinessScreen TabbedContent { height: 1fr; }
    ReadinessScreen DataTable { height: 1fr; }
    ReadinessScreen #why-box { height: 6; border-top: solid $primary 50%; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "key.back", id="back"),
        # R (app) refreshes too; r stays as a hidden alias so f1 Help fits the footer
        Binding("r", "refresh", "key.refresh", id="readiness-refresh", show=False),
        Binding("c", "calibrate", "readiness.key.calibrate", id="readiness-calibrate"),
        Binding("o", "check_out", "readiness.key.check_out", id="readiness-checkout"),
        Binding("k", "check_in", "readiness.key.check_in", id="readiness-checkin"),
        *(
            Binding(str(n), f"tab('{name}')", f"readiness.tab.{name}", show=False, id=f"readiness-tab-{name}")
            for n, name in enumerate(TABS, start=1)
        ),
    ]

    def __init__(self, teams: int | None = None) -> None:
        super().__init__()
        self.teams = teams
        self.view: ReadinessView | None = None
        self.reasons: dict[str, tuple[list[str], list[str]]] = {}

    def rebuild(self) -> ReadinessScreen:
        return ReadinessScreen(self.teams)

    def compose(self) -> ComposeResult:
        yield Header()
        yield ExerciseBanner(getattr(self.app, "incident_code", None))
        yield Plain(t("app.loading"), id="answer")
        yield Plain("", id="summary")
        with TabbedContent(id="readiness-tabs"):
            for n, name in enumerate(TABS, start=1):
                with TabPane(f"{n} {t(f'readiness.tab.{name}')}", id=f"tab-{name}"):
                    yield PlainTable(id=f"table-{name}", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="why-box"):
            yield Plain("", id="why")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = t("readiness.title")
        for name in HEADERS:
            self._fill(name, [])
        self.load()

    def action_refresh(self) -> None:
        self.load()

    def action_tab(self, name: str) -> None:
        self.query_one("#readiness-tabs", TabbedContent).active = f"tab-{name}"

    @work(thread=True, exclusive=True, exit_on_error=False, group="readiness")
    def load(self) -> None:
        with session_scope(app_state(self).engine) as session:
            view = ReadinessView(rollup(session, teams=self.teams), due_items(session, weeks=8))
        self.app.call_from_thread(self.show, view)

    # -- display --------------------------------------------------------
    def show(self, view: ReadinessView) -> None:
        self.view = view
        r = view.rollup
        answer = self.query_one("#answer", Static)
        answer.update(answer_text(r))
        answer.set_class(r.can_field, "ok")
        answer.set_class(not r.can_field, "bad")
        kits_bad = sum(1 for k in r.kits if k.state == "not_ready")
        self.query_one("#summary", Static).update(
            t(
                "readiness.summary",
                on=r.on,
                kits=len(r.kits),
                kits_bad=kits_bad,
                restock=len(r.restock),
                expired=len(r.expired_lots),
            )
        )
        self.reasons.clear()
        teams: list[tuple[list, str]] = []
        for x in r.teams:
            key = f"team:{x.crew}"
            self.reasons[key] = (x.blocking, x.warnings)
            teams.append(
                ([x.crew, state_text(x.state), x.kit or "—", x.vehicle or "—", x.leader or "—"], key)
            )
        self._fill("teams", teams)
        kits: list[tuple[list, str]] = []
        for k in r.kits:
            key = f"kit:{k.name}"
            self.reasons[key] = (k.blocking, k.warnings)
            kits.append(
                (
                    [
                        k.name,
                        state_text(k.state),
                        bilingual(k.template, k.template_zh),
                        k.checked_out_to or "—",
                    ],
                    key,
                )
            )
        self._fill("kits", kits)
        items: list[tuple[list, str]] = []
        order = {"not_ready": 0, "due_soon": 1, "ready": 2}
        for i in sorted(r.items, key=lambda i: (order[i.state], i.tag)):
            key = f"item:{i.tag}"
            self.reasons[key] = (i.blocking, i.warnings)
            items.append(([i.tag, state_text(i.state), i.type, str(i.next_due or "—"), i.kit or "—"], key))
        self._fill("items", items)
        stock: list[tuple[list, str]] = []
        for st in r.stock:
            for lot in st.lots:
                key = f"lot:{st.item}|{lot.lot}"
                notes = []
                if lot.state == "expired":
                    notes.append(t("readiness.lot.expired"))
                elif lot.state == "expiring":
                    notes.append(t("readiness.lot.expiring", days=lot.days))
                if st.restock:
                    notes.append(t("readiness.restock", minimum=f"{st.minimum:g}"))
                self.reasons[key] = ([n for n in notes if lot.state == "expired" or st.restock], notes)
                label = t(f"readiness.lot_state.{lot.state}")
                if st.restock:
                    label += " · " + t("readiness.lot_state.restock")
                stock.append(
                    (
                        [
                            st.item,
                            Text(label, style="bold red" if st.restock else LOT_STYLE[lot.state]),
                            lot.lot,
                            f"{lot.quantity:g} {st.unit}",
                            str(lot.expires_on or "—"),
                        ],
                        key,
                    )
                )
        self._fill("stock", stock)
        due: list[tuple[list, str]] = []
        for n, d in enumerate(view.due):
            style = "bold red" if d.days < 0 else ("yellow" if d.days <= min(r.warning_days) else "")
            line = f"{d.subject} · {d.what} — {d.due} ({d.days:+d} d)"
            self.reasons[f"due:{n}"] = ([line], []) if d.days < 0 else ([], [line])
            due.append(
                (
                    [
                        str(d.week),
                        str(d.due),
                        Text(f"{d.days:+d}", style=style),
                        t(f"readiness.due_kind.{d.kind}"),
                        f"{d.subject} · {d.what}",
                    ],
                    f"due:{n}",
                )
            )
        self._fill("due", due)
        active = self.query_one("#readiness-tabs", TabbedContent).active
        self._show_reasons_for(active)
        if not isinstance(self.focused, DataTable):
            self.query_one(f"#table-{(active or 'tab-teams').removeprefix('tab-')}", DataTable).focus()

    def _fill(self, name: str, rows: list[tuple[list, str]]) -> None:
        """The table afresh, each column as wide as its widest cell (header or row): fixed widths,
        so the table does not show header-wide, cut columns until its next idle moment (as the
        crew board did)."""
        table = self.query_one(f"#table-{name}", DataTable)
        row = table.cursor_row
        table.clear(columns=True)
        for i, c in enumerate(HEADERS[name]):
            label = t("readiness.col." + c)
            widths = [(r[i] if isinstance(r[i], Text) else Text(str(r[i]))).cell_len for r, _ in rows]
            table.add_column(label, width=max([Text(label).cell_len, *widths]))
        for cells, key in rows:
            table.add_row(*cells, key=key)
        if rows:
            table.move_cursor(row=min(max(row, 0), len(rows) - 1))

    def _show_reasons_for(self, pane_id: str | None) -> None:
        if not pane_id:
            return
        table = self.query_one(f"#table-{pane_id.removeprefix('tab-')}", DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            self._show_reasons(key)

    def _show_reasons(self, key: str | None) -> None:
        blocking, warnings = self.reasons.get(key or "", ([], []))
        text = Text()
        for line in blocking:
            text.append("✘ " + line + "\n", style="bold red")
        for line in warnings:
            text.append("! " + line + "\n", style="yellow")
        if not blocking and not warnings:
            text.append(
                t("readiness.nothing_to_report"), style="green" if key and not key.startswith("due:") else ""
            )
        self.query_one("#why", Static).update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # every table highlights its first row when filled: only the visible one speaks
        active = self.query_one("#readiness-tabs", TabbedContent).active or ""
        if event.data_table.id == "table-" + active.removeprefix("tab-"):
            self._show_reasons(event.row_key.value)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self._show_reasons_for(event.pane.id)
        self.query_one(f"#table-{(event.pane.id or '').removeprefix('tab-')}", DataTable).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value or ""
        if key.startswith("item:"):
            from incident.tui.screens.equipment import EquipmentScreen

            self.app.push_screen(EquipmentScreen(key.removeprefix("item:")))

    # -- actions on the highlighted row --------------------------------
    def selected(self) -> str:
        pane = self.query_one("#readiness-tabs", TabbedContent).active or ""
        table = self.query_one(f"#table-{pane.removeprefix('tab-')}", DataTable)
        if not table.row_count:
            return ""
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or ""

    def action_calibrate(self) -> None:
        from incident.tui.readiness_actions import open_calibrate

        key = self.selected()
        open_calibrate(self.app, tag=key.removeprefix("item:") if key.startswith("item:") else "")

    def action_check_out(self) -> None:
        from incident.tui.readiness_actions import open_checkout

        key = self.selected()
        target = crew = ""
        if key.startswith(("kit:", "item:")):
            target = key.split(":", 1)[1]
        elif key.startswith("team:") and self.view:
            crew = key.removeprefix("team:")
            target = next((x.kit or "" for x in self.view.rollup.teams if x.crew == crew), "")
        open_checkout(self.app, target=target, crew=crew)

    def action_check_in(self) -> None:
        from incident.tui.readiness_actions import open_checkin

        key = self.selected()
        open_checkin(self.app, target=key.split(":", 1)[1] if key.startswith(("kit:", "item:")) else "")
