"""Reports of the current incident: list with state and version, preview, draft/review/release/export.

Keys: f/m/s draft a flash/monitoring/summary report, v review (asks the
reviewer's name: not the author), p release (asks for confirmation: a released
report never changes), n start a new version of a released report, e export
to .html/.md, g export the activity log as ICS 214, Esc back.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Markdown, Static

import incident.reports as reports
from incident.core.errors import UserError
from incident.core.i18n import t
from incident.core.incidents import get_incident
from incident.core.store.engine import session_scope
from incident.reports import export_ics214, preview_markdown
from incident.tui.base import Localised, app_state, when_given
from incident.tui.widgets.exercise_banner import ExerciseBanner
from incident.tui.widgets.plain import Plain, PlainTable


class ReportsScreen(Localised, Screen):
    DEFAULT_CSS = """
    ReportsScreen #report-table { height: auto; max-height: 9; }
    ReportsScreen #report-empty { height: auto; padding: 0 1; }
    ReportsScreen #report-preview { height: 1fr; border: round $primary 50%; border-title-color: $accent; }
    ReportsScreen #report-preview Markdown { margin: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "key.back", id="reports-back"),
        Binding("f", "draft('flash')", "key.draft_flash", id="report-draft-flash"),
        Binding("m", "draft('monitoring')", "key.draft_monitoring", id="report-draft-monitoring"),
        Binding("s", "draft('summary')", "key.draft_summary", id="report-draft-summary", show=False),
        Binding("v", "review", "key.review", id="report-review"),
        Binding("p", "release", "key.release", id="report-release"),
        Binding("n", "revise", "key.revise", id="report-revise", show=False),
        # in F1 help and the palette ("report: export"); the footer keeps room for f1 Help
        Binding("e", "export", "key.export", id="report-export", show=False),
        Binding("g", "log_export", "key.log_export", id="report-log-export", show=False),
        Binding("r", "refresh", "key.refresh", id="reports-refresh", show=False),
    ]

    def __init__(self, code: str, then: tuple[str, ...] | None = None) -> None:
        super().__init__()
        self.code = code
        self.pending = then  # an action to run once the list is loaded (from the palette)
        self.rows: dict[int, reports.ReportInfo] = {}
        self.is_exercise = False

    def rebuild(self) -> ReportsScreen:
        return ReportsScreen(self.code)

    def compose(self) -> ComposeResult:
        yield Header()
        yield ExerciseBanner(self.code)
        yield PlainTable(id="report-table", cursor_type="row", zebra_stripes=True)
        yield Plain("", id="report-empty", classes="muted")
        with VerticalScroll(id="report-preview"):
            yield Markdown("", id="report-markdown")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.code} · {t('reports.title')}"
        self.query_one("#report-preview").border_title = t("reports.preview")
        self.query_one(DataTable).add_columns(
            t("reports.col_id"),
            t("reports.col_kind"),
            t("reports.col_no"),
            t("reports.col_version"),
            t("reports.col_state"),
            t("reports.col_lang"),
            t("reports.col_title"),
        )
        self.load()

    # ---------------------------------------------------------------- loading
    @work(thread=True, exclusive=True, exit_on_error=False, group="reports-load")
    def load(self, select_id: int | None = None) -> None:
        with session_scope(app_state(self).engine) as session:
            exercise = get_incident(session, self.code).is_exercise
            infos = reports.list_reports(session, self.code)
        self.app.call_from_thread(self.show, infos, exercise, select_id)

    def show(self, infos: list[reports.ReportInfo], exercise: bool, select_id: int | None) -> None:
        self.is_exercise = exercise
        table = self.query_one(DataTable)
        table.clear()
        self.rows = {i.id: i for i in infos}
        for i in infos:
            table.add_row(
                str(i.id),
                t(f"reports.kind.{i.kind}"),
                str(i.number),
                f"v{i.version}",
                t(f"reports.state.{i.state}"),
                i.lang,
                i.title,
                key=str(i.id),
            )
        self.query_one("#report-empty", Static).update("" if infos else t("reports.none"))
        current = None
        if select_id is not None and select_id in self.rows:
            current = select_id
        elif infos:
            current = infos[-1].id
        if current is not None:
            table.move_cursor(row=table.get_row_index(str(current)))
            self.load_preview(current)  # the state and stamps may have changed
        if not infos:
            self.query_one("#report-markdown", Markdown).update("")
        table.focus()
        if self.pending:
            action, *args = self.pending
            self.pending = None
            getattr(self, f"action_{action}")(*args)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value is not None:
            self.load_preview(int(event.row_key.value))

    @work(thread=True, exclusive=True, exit_on_error=False, group="reports-preview")
    def load_preview(self, report_id: int) -> None:
        with session_scope(app_state(self).engine) as session:
            content = reports.get_report(session, self.code, report_id)
        self.app.call_from_thread(
            self.query_one("#report-markdown", Markdown).update, preview_markdown(content.markdown)
        )

    def selected(self) -> reports.ReportInfo | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            self.notify(t("reports.select_first"), severity="warning")
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return self.rows.get(int(key.value)) if key.value is not None else None

    # ---------------------------------------------------------------- actions
    @work(thread=True, exclusive=True, exit_on_error=False, group="reports-action")
    def run_service(self, what: str, report_id: int | None = None, **kw) -> None:
        """Run one lifecycle step in a thread; refusals become notifications, never tracebacks."""
        user = app_state(self).settings.user
        rid = cast(int, report_id)  # every step but draft and log_export is given its report's id
        try:
            with session_scope(app_state(self).engine) as s:
                if what == "draft":
                    info = reports.draft_report(
                        s, self.code, kw["kind"], actor=user, lang=app_state(self).settings.lang
                    )
                    message = t("reports.drafted", id=info.id, kind=info.kind, number=info.number, version=1)
                elif what == "review":
                    info = reports.review_report(s, self.code, rid, reviewer=kw["reviewer"])
                    message = t("reports.reviewed", id=info.id, name=info.reviewed_by)
                elif what == "release":
                    info = reports.release_report(s, self.code, rid, by=user)
                    message = t("reports.released", id=info.id, sha=(info.content_sha256 or "")[:16])
                elif what == "revise":
                    info = reports.new_version(s, self.code, rid, actor=user)
                    message = t("reports.revised", id=info.id, version=info.version)
                elif what == "export":
                    path = reports.export_report(s, self.code, rid, kw["path"], actor=user)
                    info = self.rows[rid]
                    message = t("reports.exported", id=report_id, path=str(path))
                elif what == "log_export":
                    export_ics214(s, self.code, kw["path"], actor=user, lang=app_state(self).settings.lang)
                    info = None
                    message = t("reports.log_exported", path=kw["path"])
                else:  # pragma: no cover - programming error
                    raise ValueError(what)
        except UserError as exc:
            self.app.call_from_thread(self.notify, exc.render(), severity="error", timeout=12)
            return
        self.app.call_from_thread(self.notify, message)
        self.app.call_from_thread(self.load, info.id if info else report_id)

    def action_refresh(self) -> None:
        self.load()

    def action_draft(self, kind: str) -> None:
        """Drafting creates a numbered document: ask first (a stray key must not make one)."""
        from incident.tui.dialogs.form import ConfirmDialog

        def answer(yes: bool | None) -> None:
            if yes:
                self.notify(t("reports.working"), timeout=2)
                self.run_service("draft", kind=kind)

        kind_name = t(f"reports.kind.{kind}")
        self.app.push_screen(
            ConfirmDialog(
                t("formui.draft_title", kind=kind_name),
                t("formui.draft_body", kind=kind_name, code=self.code),
                t("formui.draft"),
            ),
            answer,
        )

    def action_review(self) -> None:
        from incident.tui.dialogs.report_dialogs import TextPromptDialog

        info = self.selected()
        if info is None:
            return

        def done(name: str | None) -> None:
            if name:
                self.run_service("review", info.id, reviewer=name)

        self.app.push_screen(TextPromptDialog(t("reports.reviewer_prompt", author=info.created_by)), done)

    def action_release(self) -> None:
        from incident.tui.dialogs.report_dialogs import ConfirmReleaseDialog

        info = self.selected()
        if info is None:
            return
        if info.state != "reviewed":
            self.run_service("release", info.id)  # the service says why not
            return

        def done(ok: bool | None) -> None:
            if ok:
                self.run_service("release", info.id)

        self.app.push_screen(
            ConfirmReleaseDialog(
                t("reports.confirm_release", id=info.id, title=info.title, version=info.version)
            ),
            done,
        )

    def action_revise(self) -> None:
        from incident.tui.dialogs.form import ConfirmDialog

        info = self.selected()
        if info is None:
            return
        self.app.push_screen(
            ConfirmDialog(
                t("formui.revise_title"),
                t("formui.revise_body", id=info.id, version=info.version + 1),
                t("formui.revise"),
            ),
            when_given(lambda yes: self.run_service("revise", info.id)),
        )

    def action_export(self) -> None:
        from incident.tui.dialogs.report_dialogs import TextPromptDialog

        info = self.selected()
        if info is None:
            return
        default = Path.cwd() / f"{self.code}-{info.kind}-{info.number}-v{info.version}-{info.lang}.html"

        def done(path: str | None) -> None:
            if path:
                self.run_service("export", info.id, path=str(Path(path).expanduser()))

        self.app.push_screen(TextPromptDialog(t("reports.export_prompt"), str(default)), done)

    def action_log_export(self) -> None:
        from incident.tui.dialogs.report_dialogs import TextPromptDialog

        default = Path.cwd() / f"{self.code}-ics214.html"

        def done(path: str | None) -> None:
            if path:
                self.run_service("log_export", path=str(Path(path).expanduser()))

        self.app.push_screen(TextPromptDialog(t("reports.log_export_prompt"), str(default)), done)
