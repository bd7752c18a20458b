"""Confirm accepting or rejecting a model calibration (both are logged and final)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input

from incident.core.i18n import t
from incident.tui.base import Localised
from incident.tui.widgets.plain import Plain


class DecisionDialog(Localised, ModalScreen[tuple[bool, str] | None]):
    """Returns (confirmed, reason) or None when cancelled."""

    DEFAULT_CSS = """
    DecisionDialog { align: center middle; }
    DecisionDialog > Vertical {
        width: 70; max-width: 95%; height: auto; border: thick $warning; background: $panel; padding: 0 1;
    }
    DecisionDialog Horizontal { height: auto; margin-top: 1; }
    DecisionDialog Button { margin-right: 2; }
    """
    BINDINGS = [Binding("escape", "cancel", "key.back", id="decision-cancel")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical() as v:
            v.border_title = t("uncertainty.confirm_title")
            yield Plain(self.question, id="decision-question")
            yield Input(placeholder=t("uncertainty.reason"), id="decision-reason", select_on_focus=False)
            with Horizontal():
                yield Button(t("uncertainty.confirm"), id="decision-yes", variant="warning")
                yield Button(t("uncertainty.cancel"), id="decision-no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "decision-yes":
            self.dismiss((True, self.query_one(Input).value.strip()))
        else:
            self.dismiss(None)

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.query_one("#decision-yes", Button).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)
