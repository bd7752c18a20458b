"""One item: what it is, whether it is ready and why, and its history."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from incident.core.clock import fmt_local
from incident.core.errors import UserError
from incident.core.i18n import t
from incident.core.store.engine import session_scope
from incident.readiness import EquipmentDetail, equipment_detail
from incident.tui.base import Localised, app_state
from incident.tui.widgets.plain import Plain, PlainRichTable
from incident.tui.widgets.readiness_state import state_text


def _history(title: str, columns: list[str], rows: list[list[str]]) -> PlainRichTable:
    table = PlainRichTable(
        title=title, title_justify="left", title_style="bold", expand=True, box=None, padding=(0, 1)
    )
    for c in columns:
        table.add_column(c, overflow="fold")
    for row in rows:
        table.add_row(*row)
    if not rows:
        table.add_row(*([t("readiness.detail.none")] + [""] * (len(columns) - 1)))
    return table


class EquipmentScreen(Localised, Screen):
    SHOWS_READINESS = True
    DEFAULT_CSS = """
    EquipmentScreen #detail { padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "key.back", id="back"),
        Binding("c", "calibrate", "readiness.key.calibrate", id="equipment-calibrate"),
        Binding("m", "maintain", "readiness.key.maintain", id="equipment-maintain"),
        Binding("o", "check_out", "readiness.key.check_out", id="equipment-checkout"),
        Binding("k", "check_in", "readiness.key.check_in", id="equipment-checkin"),
    ]

    def __init__(self, tag: str) -> None:
        super().__init__()
        self.tag = tag

    def rebuild(self) -> EquipmentScreen:
        return EquipmentScreen(self.tag)

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Plain(t("app.loading"), id="detail")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.tag
        self.load()

    def action_refresh(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="equipment")
    def load(self) -> None:
        try:
            with session_scope(app_state(self).engine) as session:
                detail = equipment_detail(session, self.tag)
        except UserError as exc:
            self.app.call_from_thread(self.query_one("#detail", Static).update, exc.render())
            return
        self.app.call_from_thread(self.show, detail)

    def show(self, d: EquipmentDetail) -> None:
        head = PlainRichTable.grid(padding=(0, 1))
        head.add_column(style="bold")
        head.add_column()
        head.add_row(t("readiness.detail.state"), state_text(d.state))
        head.add_row(t("readiness.col.type"), f"{d.type} · {d.model} · {d.serial}".strip(" ·"))
        head.add_row(t("readiness.col.location"), d.location or "—")
        head.add_row(t("readiness.detail.holder"), d.holder or "—")
        head.add_row(t("readiness.col.kit"), d.kit or "—")
        head.add_row(
            t("readiness.detail.condition"),
            t(f"readiness.condition.{d.condition}")
            + ("" if d.in_service else " · " + t("readiness.detail.out_of_service")),
        )
        if d.notes:
            head.add_row(t("readiness.detail.notes"), d.notes)
        reasons = Text()
        for line in d.blocking:
            reasons.append("✘ " + line + "\n", style="bold red")
        for line in d.warnings:
            reasons.append("! " + line + "\n", style="yellow")
        yes, no = t("readiness.detail.passed"), t("readiness.detail.failed")
        parts: list[RenderableType] = [
            head,
            reasons,
            _history(
                t("readiness.detail.schedules"),
                [
                    t("readiness.detail.schedule"),
                    t("readiness.detail.interval"),
                    t("readiness.detail.last"),
                    t("readiness.col.due"),
                ],
                [
                    [
                        s["name"],
                        f"{s['interval_days']} d",
                        str(s["last_done"] or "—"),
                        str(s["next_due"] or "—"),
                    ]
                    for s in d.schedules
                ],
            ),
            _history(
                t("readiness.detail.calibrations"),
                [
                    t("readiness.detail.date"),
                    t("readiness.detail.schedule"),
                    t("readiness.detail.by"),
                    t("readiness.detail.result"),
                ],
                [
                    [str(c["done_on"]), c["schedule"], c["by"], yes if c["passed"] else no]
                    for c in d.calibrations
                ],
            ),
            _history(
                t("readiness.detail.maintenance"),
                [
                    t("readiness.detail.date"),
                    t("readiness.col.kind"),
                    t("readiness.detail.by"),
                    t("readiness.detail.notes"),
                ],
                [
                    [
                        str(m["done_on"]),
                        m["kind"],
                        m["by"],
                        (m["notes"] or "") + (f" → {m['condition_after']}" if m["condition_after"] else ""),
                    ]
                    for m in d.maintenance
                ],
            ),
            _history(
                t("readiness.detail.checkouts"),
                [
                    t("readiness.detail.out"),
                    t("readiness.col.crew"),
                    t("readiness.detail.back"),
                    t("readiness.detail.override"),
                ],
                [
                    [
                        fmt_local(c["out_at"]),
                        c["crew"] + (f" ({c['with_kit']})" if c["with_kit"] else ""),
                        fmt_local(c["in_at"]),
                        c["override"] or "",
                    ]
                    for c in d.checkouts
                ],
            ),
        ]
        self.query_one("#detail", Static).update(Group(*parts))

    def action_calibrate(self) -> None:
        from incident.tui.readiness_actions import open_calibrate

        open_calibrate(self.app, tag=self.tag)

    def action_maintain(self) -> None:
        from incident.tui.readiness_actions import open_maintain

        open_maintain(self.app, tag=self.tag)

    def action_check_out(self) -> None:
        from incident.tui.readiness_actions import open_checkout

        open_checkout(self.app, target=self.tag)

    def action_check_in(self) -> None:
        from incident.tui.readiness_actions import open_checkin

        open_checkin(self.app, target=self.tag)
