"""Help: keys, screens, where to find things."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button

from incident.core.i18n import t
from incident.tui.base import Localised
from incident.tui.widgets.plain import Plain


class HelpScreen(Localised, ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 96; height: 90%; max-height: 26;
        border: thick $primary; background: $panel; padding: 0 1;
    }
    HelpScreen Button { margin-top: 1; }
    HelpScreen #help-screen-keys { margin-top: 1; color: $accent; }
    """
    BINDINGS = [Binding("escape,q,f1,question_mark", "close", "key.back", id="close-help")]

    def __init__(self, under: Screen | None = None) -> None:
        super().__init__()
        self.under = under  # the screen help was opened from: its own keys are listed

    def screen_keys(self) -> str:
        """The keys of the screen underneath, read from its BINDINGS (so help never
        drifts from the real keys), hidden footer ones included."""
        if self.under is None:
            return ""
        lines = []
        seen = set()
        for bindings in self.under._bindings.key_to_bindings.values():
            for b in bindings:
                # Textual's own (tab, copy) have no id; every incident binding has one
                if b.id is None or not b.description or (b.action, b.description) in seen:
                    continue
                seen.add((b.action, b.description))
                keys = self.app.get_key_display(b)
                lines.append(f"  {keys:<9} {b.description}")
        if not lines:
            return ""
        return f"{t('tui.help_screen_keys')}\n" + "\n".join(lines) + "\n"

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body") as v:
            v.border_title = t("help.title")
            keys = self.screen_keys()
            if keys:
                yield Plain(keys, id="help-screen-keys", markup=False)
            yield Plain(t("help.body"), id="help-text", markup=False)
            yield Button(t("help.close"), id="help-close", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
