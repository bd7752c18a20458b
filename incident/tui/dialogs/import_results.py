"""Import a results CSV: check it first (dry run), then import all rows after a confirmation.

All or nothing: when any row is bad, every bad row is listed with its line number
and the fix, and nothing is imported.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from incident.core.errors import UserError
from incident.core.i18n import t
from incident.core.store.engine import session_scope
from incident.results import import_results, load_mapping
from incident.tui.base import Localised, app_state
from incident.tui.widgets.plain import Plain


class ConfirmImport(Localised, ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmImport { align: center middle; }
    ConfirmImport > Vertical { width: 60; height: auto; border: thick $warning; background: $panel; padding: 1; }
    ConfirmImport Horizontal { height: 3; margin-top: 1; }
    ConfirmImport Button { margin-right: 2; }
    """
    BINDINGS = [Binding("escape", "no", "key.back", id="confirm-no")]

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Plain(self.text)  # file names and counts: literal text
            with Horizontal():
                yield Button(t("results.import_do"), id="confirm-yes", variant="warning")
                yield Button(t("form.cancel"), id="confirm-no-btn")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_no(self) -> None:
        self.dismiss(False)


class ImportResultsDialog(Localised, ModalScreen[bool]):
    DEFAULT_CSS = """
    ImportResultsDialog { align: center middle; }
    ImportResultsDialog > Vertical {
        width: 78; max-width: 100%; height: 22; max-height: 100%;
        border: thick $primary; background: $panel; padding: 0 1;
    }
    ImportResultsDialog .row { height: 1; margin-top: 1; }
    ImportResultsDialog .row Label { width: 24; }
    ImportResultsDialog Input { border: none; height: 1; padding: 0 1; width: 1fr; background: $boost; }
    ImportResultsDialog Input:focus { border: none; background: $accent 30%; }
    ImportResultsDialog #import-out { height: 1fr; margin-top: 1; }
    ImportResultsDialog #import-buttons { height: 3; }
    ImportResultsDialog Button { margin-right: 1; }
    """
    BINDINGS = [Binding("escape", "close", "key.back", id="import-close")]

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code
        self.checked: tuple[str, str] | None = None
        self.pending = 0

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"{t('results.import_title')} · {self.code}"
            with Horizontal(classes="row"):
                yield Label(t("results.import_file"))
                yield Input(id="import-file", placeholder="/path/to/lab.csv")
            with Horizontal(classes="row"):
                yield Label(t("results.import_mapping"))
                yield Input(id="import-mapping", placeholder="mapping.toml")
            with VerticalScroll(id="import-out"):
                yield Static("", id="import-report")
            with Horizontal(id="import-buttons"):
                yield Button(t("results.import_check"), id="import-check", variant="primary")
                yield Button(t("results.import_do"), id="import-do", disabled=True)
                yield Button(t("form.cancel"), id="import-cancel")

    def on_mount(self) -> None:
        self.query_one("#import-file", Input).focus()

    def _paths(self) -> tuple[str, str]:
        return self.query_one("#import-file", Input).value.strip(), self.query_one(
            "#import-mapping", Input
        ).value.strip()

    def on_input_changed(self, _event: Input.Changed) -> None:
        self.checked = None
        self.query_one("#import-do", Button).disabled = True

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.run_import(*self._paths(), dry_run=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "import-check":
            self.run_import(*self._paths(), dry_run=True)
        elif event.button.id == "import-do" and self.checked:
            text = t("results.import_confirm", results=self.pending, code=self.code)
            self.app.push_screen(ConfirmImport(text), self._confirmed)
        else:
            self.dismiss(False)

    def _confirmed(self, yes: bool | None) -> None:
        if yes and self.checked:
            self.run_import(*self.checked, dry_run=False)

    def action_close(self) -> None:
        self.dismiss(False)

    @work(thread=True, exclusive=True, exit_on_error=False, group="import")
    def run_import(self, file: str, mapping: str, *, dry_run: bool) -> None:
        outcome: tuple[str, object, tuple[str, str] | None]  # ("ok", report, inputs) or ("error", text, None)
        try:
            if not file:
                raise UserError("errors.tui.empty", where=t("results.import_file"))
            m = load_mapping(mapping or None)
            with session_scope(app_state(self).engine) as session:
                rep = import_results(
                    session,
                    self.code,
                    file,
                    actor=app_state(self).settings.user,
                    mapping=m,
                    dry_run=dry_run,
                    progress=self._progress_reporter(),
                )
            outcome = ("ok", rep, (file, mapping))
        except UserError as exc:
            outcome = ("error", exc.render(), None)
        self.app.call_from_thread(self._show, outcome, dry_run)

    def _progress_reporter(self):
        """Shows, from the import's thread, how much of the file is read, in steps of ten percent (a
        file of the incident's substance takes about 10 ms a row: seconds for a thousand rows)."""
        last = [-1]
        report = self.query_one("#import-report", Static)

        def tell(fraction: float) -> None:
            step = int(fraction * 10)
            if step != last[0]:
                last[0] = step
                self.app.call_from_thread(report.update, t("results.import_progress", pct=10 * step))

        return tell

    def _show(self, outcome, dry_run: bool) -> None:
        report = self.query_one("#import-report", Static)
        if outcome[0] == "error":
            report.update(f"[red]{_escape(outcome[1])}[/red]")
            self.query_one("#import-do", Button).disabled = True
            return
        rep = outcome[1]
        summary = t(
            "results.import_ok", results=rep.results, samples=rep.samples_created, encoding=rep.encoding
        )
        lines = [summary] + [f"  {k}: {v}" for k, v in sorted(rep.by_parameter.items())]
        report.update("\n".join(lines))
        if dry_run:
            self.checked, self.pending = outcome[2], rep.results
            self.query_one("#import-do", Button).disabled = False
        else:
            self.app.notify(t("results.import_done", results=rep.results, file=rep.file))
            self.dismiss(True)


def _escape(text: str) -> str:
    return text.replace("[", r"\[")
