"""Help: keys, screens, where to find things."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from incident.i18n import t
from incident.tui.base import Localised


class HelpScreen(Localised, ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 96; height: 90%; max-height: 26;
        border: thick $primary; background: $panel; padding: 0 1;
    }
    HelpScreen Button { margin-top: 1; }
    """
    BINDINGS = [Binding("escape,q,f1,question_mark", "close", "key.back", id="close-help")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body") as v:
            v.border_title = t("help.title")
            yield Static(t("help.body"), id="help-text")
            yield Button(t("help.close"), id="help-close", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
