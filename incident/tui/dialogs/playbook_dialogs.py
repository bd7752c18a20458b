"""Dialogs of the playbook screen: a reason for skipping, a yes/no confirmation."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from incident.core.i18n import t
from incident.tui.base import Localised
from incident.tui.widgets.plain import Plain

_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 90%; max-width: 70; height: auto;
    border: thick $primary; background: $panel; padding: 0 1;
}}
{name} .dialog-text {{ margin: 1 0; }}
{name} .dialog-scroll {{ height: auto; max-height: 70vh; }}
{name} .dialog-error {{ color: $error; height: auto; }}
{name} Horizontal {{ height: auto; align-horizontal: right; }}
{name} Button {{ margin-left: 1; }}
"""


class SkipReasonDialog(Localised, ModalScreen[str | None]):
    """Ask why a step is skipped; returns the reason, or None when cancelled."""

    DEFAULT_CSS = _CSS.format(name="SkipReasonDialog")
    BINDINGS = [Binding("escape", "cancel", "key.cancel", id="skip-cancel")]

    def __init__(self, step_title: str) -> None:
        super().__init__()
        self.step_title = step_title

    def compose(self) -> ComposeResult:
        with Vertical(id="skip-dialog") as v:
            v.border_title = t("playbook.skip_title", title=self.step_title)
            yield Plain(t("playbook.skip_prompt"), classes="dialog-text")
            yield Input(placeholder=t("playbook.skip_placeholder"), id="skip-reason", select_on_focus=False)
            yield Plain("", id="skip-error", classes="dialog-error")
            with Horizontal():
                yield Button(t("key.cancel"), id="skip-cancel-btn")
                yield Button(t("playbook.skip_ok"), id="skip-ok", variant="warning")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def _submit(self) -> None:
        reason = self.query_one(Input).value.strip()
        if not reason:
            self.query_one("#skip-error", Static).update(t("playbook.skip_empty"))
            self.query_one(Input).focus()
            return
        self.dismiss(reason)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "skip-ok":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDialog(Localised, ModalScreen[bool]):
    """A yes/no question; Enter or y confirms, Esc or n cancels."""

    DEFAULT_CSS = _CSS.format(name="ConfirmDialog")
    BINDINGS = [
        Binding("escape,n", "answer(False)", "key.no", id="confirm-no"),
        Binding("y", "answer(True)", "key.yes", id="confirm-yes"),
    ]

    def __init__(self, title: str, question: str, ok_label: str) -> None:
        super().__init__()
        self.title_text = title
        self.question = question
        self.ok_label = ok_label

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog") as v:
            v.border_title = self.title_text
            # long questions scroll: the buttons always stay on screen at 24 rows
            with VerticalScroll(classes="dialog-scroll"):
                yield Plain(self.question, classes="dialog-text")
            with Horizontal():
                yield Button(t("key.cancel"), id="confirm-cancel")
                yield Button(self.ok_label, id="confirm-ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#confirm-ok", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-ok")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)
