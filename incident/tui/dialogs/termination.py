"""Termination check (HJ 589 §10): the draft proposal and its evidence. It never ends the incident."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown, Static

from incident.core.errors import UserError
from incident.core.i18n import get_language, t
from incident.core.store.engine import session_scope
from incident.results import check_termination
from incident.tui.base import Localised, app_state
from incident.tui.widgets.plain import Plain


class TerminationDialog(Localised, ModalScreen[None]):
    DEFAULT_CSS = """
    TerminationDialog { align: center middle; }
    TerminationDialog > VerticalScroll {
        width: 100%; max-width: 110; height: 100%; border: thick $primary; background: $panel; padding: 0 1;
    }
    TerminationDialog #term-verdict { height: auto; text-style: bold; }
    """
    BINDINGS = [Binding("escape,q", "close", "key.back", id="term-close")]

    def __init__(self, code: str, *, water_class: str = "III") -> None:
        super().__init__()
        self.code = code
        self.water_class = water_class

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="term-body") as body:
            body.border_title = t("results.term_title")
            yield Plain(t("app.loading"), id="term-verdict")
            yield Markdown("", id="term-md")

    def on_mount(self) -> None:
        self.run_check()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def run_check(self) -> None:
        outcome: tuple[bool | None, str]  # (proposable, the check's text), None after a refusal
        try:
            with session_scope(app_state(self).engine) as session:
                check = check_termination(
                    session,
                    self.code,
                    water_class=self.water_class,
                    actor=app_state(self).settings.user,
                    lang=get_language(),
                )
            outcome = (check.proposable, check.markdown)
        except UserError as exc:
            outcome = (None, exc.render())
        self.app.call_from_thread(self._show, outcome)

    def _show(self, outcome) -> None:
        verdict = self.query_one("#term-verdict", Static)
        ok, text = outcome
        if ok is None:
            verdict.update(text)
            verdict.styles.color = "red"
            return
        verdict.update(t("results.term_proposable") if ok else t("results.term_not_yet"))
        verdict.styles.color = "green" if ok else "yellow"
        self.query_one("#term-md", Markdown).update(text)
        self.query_one("#term-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)
