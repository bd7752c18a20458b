"""The Textual application and its factory.

The engine and settings are passed in (never created at import time), so
tests build the app on a temporary store: ``make_app(engine=..., settings=...)``.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from textual.app import App
from textual.binding import Binding

from incident.config import Settings
from incident.i18n import set_language, t
from incident.tui.base import Localised
from incident.tui.commands import IncidentCommands


class IncidentApp(Localised, App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "incident"
    COMMANDS = App.COMMANDS | {IncidentCommands}
    BINDINGS = [
        Binding("f1,question_mark", "help", "key.help", id="help", tooltip="cmd.help_show_help"),
        Binding("d", "dashboard", "key.dashboard", id="dashboard"),
        Binding("i", "incidents", "key.incidents", id="incidents"),
        Binding("l", "switch_language", "key.language", id="language", show=False),
        Binding("ctrl+p", "command_palette", "key.palette", id="palette", show=False),
        Binding("q", "quit", "key.quit", id="quit"),
    ]

    def __init__(self, engine: Engine, settings: Settings, incident_code: str | None = None) -> None:
        set_language(settings.lang)
        super().__init__()
        self.engine = engine
        self.settings = settings
        self.incident_code = incident_code

    def on_mount(self) -> None:
        self.title = t("app.title")
        if self.incident_code:
            self.action_dashboard()
        else:
            self.action_incidents()

    # -- navigation -------------------------------------------------------
    def action_dashboard(self) -> None:
        from incident.tui.screens.dashboard import DashboardScreen

        if self.incident_code is None:
            self.notify(t("app.no_incident"), severity="warning")
            return
        self.switch_screen(DashboardScreen(self.incident_code)) if self.screen_stack[
            1:
        ] else self.push_screen(DashboardScreen(self.incident_code))

    def action_incidents(self) -> None:
        from incident.tui.screens.incidents import IncidentListScreen

        self.switch_screen(IncidentListScreen()) if self.screen_stack[1:] else self.push_screen(
            IncidentListScreen()
        )

    def open_incident(self, code: str) -> None:
        self.incident_code = code
        self.action_dashboard()

    def action_help(self) -> None:
        from incident.tui.dialogs.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_show_log(self) -> None:
        from incident.tui.screens.log import LogScreen

        if self.incident_code:
            self.push_screen(LogScreen(self.incident_code))

    def action_verify_log(self) -> None:
        from incident.tui.dialogs.verify import VerifyDialog

        if self.incident_code is None:
            self.notify(t("app.no_incident"), severity="warning")
            return
        self.push_screen(VerifyDialog(self.incident_code))

    def action_switch_language(self) -> None:
        self.settings.lang = "zh" if self.settings.lang == "en" else "en"
        set_language(self.settings.lang)
        from incident.tui.base import localise_bindings

        self._bindings = type(self)._merged_bindings.copy()
        localise_bindings(self)
        self.title = t("app.title")
        # rebuild the current main screen in the new language
        current = self.screen
        rebuild = getattr(current, "rebuild", None)
        if rebuild is not None:
            self.switch_screen(rebuild())
        self.refresh_bindings()


def make_app(*, engine: Engine, settings: Settings, incident_code: str | None = None) -> IncidentApp:
    return IncidentApp(engine=engine, settings=settings, incident_code=incident_code)
