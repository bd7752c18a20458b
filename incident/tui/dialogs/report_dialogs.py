"""Dialogs for the reports screen: confirm an irreversible release, ask for a name or a file."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input

from incident.core.i18n import t
from incident.tui.base import Localised
from incident.tui.widgets.plain import Plain

_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 90%; max-width: 76; height: auto; max-height: 16;
    border: thick $warning; background: $panel; padding: 1 2;
}}
{name} Horizontal {{ height: auto; margin-top: 1; align-horizontal: right; }}
{name} Button {{ margin-left: 2; }}
{name} Input {{ margin-top: 1; }}
"""


class ConfirmReleaseDialog(Localised, ModalScreen[bool]):
    """Yes/no before releasing: a released report can never be changed."""

    DEFAULT_CSS = _CSS.format(name="ConfirmReleaseDialog")
    BINDINGS = [Binding("escape", "cancel", "key.back", id="cancel-release")]

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Plain(self.message, id="confirm-message")
            with Horizontal():
                yield Button(t("reports.cancel"), id="cancel", variant="default")
                yield Button(t("reports.release"), id="confirm", variant="error")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()  # the safe choice has the focus

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm")

    def action_cancel(self) -> None:
        self.dismiss(False)


class TextPromptDialog(Localised, ModalScreen[str | None]):
    """One line of text (a reviewer's name, a file path); Enter accepts, Esc cancels."""

    DEFAULT_CSS = _CSS.format(name="TextPromptDialog")
    BINDINGS = [Binding("escape", "cancel", "key.back", id="cancel-prompt")]

    def __init__(self, prompt: str, value: str = "") -> None:
        super().__init__()
        self.prompt = prompt
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Plain(self.prompt, id="prompt-text")
            yield Input(value=self.value, id="prompt-input", select_on_focus=False)
            with Horizontal():
                yield Button(t("reports.cancel"), id="cancel")
                yield Button(t("reports.ok"), id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._accept()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self._accept()
        else:
            self.dismiss(None)

    def _accept(self) -> None:
        text = self.query_one(Input).value.strip()
        self.dismiss(text or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
