"""The Textual application and its factory.

The engine and settings are passed in (never created at import time), so
tests build the app on a temporary store: ``make_app(engine=..., settings=...)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from sqlalchemy.engine import Engine
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from incident.core.config import Settings
from incident.core.i18n import set_language, t
from incident.plume import IncidentForecast
from incident.tui.base import Localised
from incident.tui.commands import IncidentCommands
from incident.tui.screens.drill import DrillActions
from incident.tui.screens.fieldwork import FieldworkActions
from incident.tui.screens.sampling import SamplingActions
from incident.tui.tasks import TaskActions

if TYPE_CHECKING:
    from incident.tui.screens.results import ResultsScreen


class IncidentApp(TaskActions, DrillActions, SamplingActions, FieldworkActions, Localised, App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "incident"
    COMMANDS = App.COMMANDS | {IncidentCommands}
    BINDINGS = [
        Binding("f1,question_mark", "help", "key.help", id="help", tooltip="cmd.help_show_help"),
        Binding("d", "dashboard", "key.dashboard", id="dashboard", show=False),
        # Footer space at 80 columns goes to each screen's own keys: the global keys below
        # are hidden there (F1 help lists them all, and the current screen's keys).
        Binding("i", "incidents", "key.incidents", id="incidents", show=False),
        Binding("f", "forecast", "key.forecast", id="forecast", show=False),
        Binding("R", "readiness", "key.readiness", id="readiness", show=False),
        Binding("m", "plan_show", "key.plan", id="plan", show=False),
        Binding("c", "crew_board", "key.crews", id="crews", show=False),
        Binding("v", "results", "key.results", id="results", show=False),
        Binding("b", "reports", "key.reports", id="reports", show=False),
        Binding("w", "stations", "stations_tui.key_stations", id="stations", show=False),
        Binding("l", "switch_language", "key.language", id="language", show=False),
        Binding("ctrl+p", "command_palette", "key.palette", id="palette", show=False),
        Binding("q", "quit", "key.quit", id="quit", show=False),
    ]

    def __init__(self, engine: Engine, settings: Settings, incident_code: str | None = None) -> None:
        set_language(settings.lang)
        super().__init__()
        self.engine = engine
        self.settings = settings
        self.incident_code = incident_code

    def notify(self, message: str, *, markup: bool = False, **kwargs) -> None:
        """Notifications carry user text (names, notes, error messages): always shown literally,
        also when a screen's ``notify`` passes Textual's default ``markup=True``."""
        del markup
        super().notify(message, markup=False, **kwargs)

    #: seconds between refreshes of a screen that has ``timed_refresh`` (the dashboard)
    AUTO_REFRESH_S = 30

    def on_mount(self) -> None:
        self.title = t("app.title")
        self.start_drill_timer()  # injects and lab results of a drill arrive on its clock
        self.start_alert_watch()  # station alerts, also those a separate listener process writes
        # one app-level timer, not one per screen: it refreshes whatever screen has ``timed_refresh``
        # (the dashboard: elapsed time, deadlines, arrivals, what others logged from another terminal)
        self.set_interval(self.AUTO_REFRESH_S, self._timed_refresh)
        if self.incident_code:
            self.action_dashboard()
        else:
            self.action_incidents()

    def _timed_refresh(self) -> None:
        # not named ``_refresh_screen`` (the tasks mixin's: reload after a task), nor
        # ``_auto_refresh``/``auto_refresh``: Textual's DOMNode has both (an attribute
        # set to None in __init__ would shadow the method, and the timer would call nothing)
        refresh = getattr(self.screen, "timed_refresh", None)
        if refresh is not None:
            refresh()

    # -- navigation -------------------------------------------------------
    # The stack is [Textual's default screen, home (the dashboard or the incident list), at most one
    # full screen opened from a key or the palette, then whatever that screen opens itself (a
    # drill-down, a dialog)]. Opening another full screen pops down to home first and switches, so
    # going from screen to screen never grows the stack nor keeps the screens left (issue 19).
    HOME_DEPTH = 2

    def _pop_to(self, depth: int) -> None:
        # (each closed screen releases what Textual keeps of its widgets: Localised, base.py)
        while len(self.screen_stack) > depth:
            self.pop_screen()

    def show_home(self, screen: Screen) -> None:
        """Make ``screen`` the home screen, closing everything above it."""
        self._pop_to(self.HOME_DEPTH)
        if len(self.screen_stack) == self.HOME_DEPTH:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def show_screen(self, screen: Screen) -> None:
        """Open a full screen above home, in place of the one open there (if any)."""
        self._pop_to(self.HOME_DEPTH + 1)
        if len(self.screen_stack) == self.HOME_DEPTH + 1:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def action_dashboard(self) -> None:
        from incident.tui.screens.dashboard import DashboardScreen

        if self.incident_code is None:
            self.notify(t("app.no_incident"), severity="warning")
            return
        self.show_home(DashboardScreen(self.incident_code))

    def action_incidents(self) -> None:
        from incident.tui.screens.incidents import IncidentListScreen

        self.show_home(IncidentListScreen())

    def action_incident_new(self) -> None:
        from incident.tui.dialogs.incident_forms import open_new_incident

        open_new_incident(self)

    def action_spill_amend(self) -> None:
        from incident.tui.dialogs.incident_forms import open_amend_spill

        if self.incident_code is None:
            self.notify(t("app.no_incident"), severity="warning")
            return
        open_amend_spill(self, self.incident_code)

    def open_incident(self, code: str) -> None:
        self.incident_code = code
        self.action_dashboard()

    def action_forecast(self) -> None:
        from incident.tui.screens.forecast import ForecastScreen

        if self.incident_code is None:
            self.notify(t("app.no_incident"), severity="warning")
            return
        self.show_screen(ForecastScreen(self.incident_code))

    def action_forecast_ensemble(self) -> None:
        from incident.tui.screens.forecast import ForecastScreen

        if self.incident_code is None:
            self.notify(t("app.no_incident"), severity="warning")
            return
        self.show_screen(ForecastScreen(self.incident_code, ensemble=True))

    def action_model_calibrate(self) -> None:
        from incident.tui.screens.calibration import CalibrationScreen

        if self.incident_code is None:
            self.notify(t("app.no_incident"), severity="warning")
            return
        self.show_screen(CalibrationScreen(self.incident_code))

    def action_source_trace(self) -> None:
        from incident.tui.screens.trace import TraceScreen

        self.show_screen(TraceScreen())

    # -- automatic stations and their alerts (incident/tui/screens/stations.py) --------
    def start_alert_watch(self) -> None:
        from incident.tui.screens.stations import AlertWatch

        self.alert_watch = AlertWatch(self)
        self.alert_watch.start()

    def _stations(self, then: str | None = None) -> None:
        from incident.tui.screens.stations import StationsScreen

        if isinstance(self.screen, StationsScreen):
            if then:
                getattr(self.screen, f"action_{then}")()
            return
        self.push_screen(StationsScreen(then=then))

    def action_stations(self) -> None:
        self._stations()

    def action_alert_ack(self) -> None:
        self._stations("ack")

    def action_alert_dismiss(self) -> None:
        self._stations("dismiss_alert")

    def action_alert_open(self) -> None:
        self._stations("open_incident")

    def get_forecast(self, code: str, extra_points: list | tuple = ()) -> IncidentForecast:
        """The incident's stored forecast covering these points (call from a worker thread).

        The latest stored forecast is reused when the spill, river and calibration are
        unchanged and it has the points; otherwise a new one is run and stored.
        """
        from incident.core.store.engine import session_scope
        from incident.plume import forecast_for

        with session_scope(self.engine) as session:
            stored = forecast_for(session, code, actor=self.settings.user, extra_points=list(extra_points))
        return stored.to_forecast()

    def latest_forecast(self, code: str) -> IncidentForecast | None:
        """The incident's latest stored forecast, or None (to overlay on result plots)."""
        from incident.core.store.engine import session_scope
        from incident.plume import latest_forecast

        with session_scope(self.engine) as session:
            stored = latest_forecast(session, code)
        return stored.to_forecast() if stored is not None else None

    def action_readiness(self) -> None:
        from incident.tui.screens.readiness import ReadinessScreen

        if isinstance(self.screen, ReadinessScreen):
            self.screen.load()
        else:
            self.show_screen(ReadinessScreen())

    def action_readiness_calibrate(self) -> None:
        from incident.tui.readiness_actions import open_calibrate

        open_calibrate(self)

    def action_readiness_checkout(self) -> None:
        from incident.tui.readiness_actions import open_checkout

        open_checkout(self)

    def action_readiness_checkin(self) -> None:
        from incident.tui.readiness_actions import open_checkin

        open_checkin(self)

    # -- the playbook ----------------------------------------------------
    def _playbook(self, then: str | None = None) -> None:
        from incident.tui.screens.playbook import PlaybookScreen

        if self.incident_code is None:
            self.notify(t("app.no_incident"), severity="warning")
            return
        if isinstance(self.screen, PlaybookScreen) and self.screen.code == self.incident_code:
            if then:
                getattr(self.screen, f"action_{then}")()
            return
        self.show_screen(PlaybookScreen(self.incident_code, then=then))

    def action_playbook(self) -> None:
        self._playbook()

    def action_step_done(self) -> None:
        self._playbook("done")

    def action_step_skip(self) -> None:
        self._playbook("skip")

    def action_step_undo(self) -> None:
        self._playbook("undo")

    def action_step_action(self) -> None:
        self._playbook("run_action")

    def action_help(self) -> None:
        from incident.tui.dialogs.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):  # F1 on help closes it (its own binding)
            self.push_screen(HelpScreen(self.screen))

    def action_show_log(self) -> None:
        from incident.tui.screens.log import LogScreen

        if self.incident_code:
            self.show_screen(LogScreen(self.incident_code))

    # -- reports (incident/tui/screens/reports.py) -------------------------
    def _open_reports(self, *then: str) -> None:
        """Show the reports screen (pushing it if needed), then run one of its actions."""
        from incident.tui.screens.reports import ReportsScreen

        if isinstance(self.screen, ReportsScreen):
            if then:
                getattr(self.screen, f"action_{then[0]}")(*then[1:])
            return
        if self.incident_code is None:
            self.notify(t("app.no_incident"), severity="warning")
            return
        self.show_screen(ReportsScreen(self.incident_code, then=then or None))

    def action_reports(self) -> None:
        self._open_reports()

    def action_report_draft(self, kind: str) -> None:
        self._open_reports("draft", kind)

    def action_report_review(self) -> None:
        self._open_reports("review")

    def action_report_release(self) -> None:
        self._open_reports("release")

    def action_report_export(self) -> None:
        self._open_reports("export")

    def action_log_export_214(self) -> None:
        self._open_reports("log_export")

    # -- results (issue 6): a forecast, when the forecast feature sets one, is overlaid on plots
    def _results_screen(self) -> ResultsScreen | None:
        from incident.tui.screens.results import ResultsScreen

        if self.incident_code is None:
            self.notify(t("app.no_incident"), severity="warning")
            return None
        if not isinstance(self.screen, ResultsScreen):
            self.show_screen(
                ResultsScreen(self.incident_code, forecast=self.latest_forecast(self.incident_code))
            )
        return cast(ResultsScreen, self.screen)  # the one shown now

    def action_results(self) -> None:
        self._results_screen()

    def action_result_add(self) -> None:
        if (screen := self._results_screen()) is not None:
            self.call_after_refresh(screen.action_add)

    def action_result_import(self) -> None:
        if (screen := self._results_screen()) is not None:
            self.call_after_refresh(screen.action_import)

    def action_termination_check(self) -> None:
        from incident.tui.dialogs.termination import TerminationDialog

        if self.incident_code is None:
            self.notify(t("app.no_incident"), severity="warning")
            return
        self.push_screen(TerminationDialog(self.incident_code))

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

        merged = type(self)._merged_bindings
        assert merged is not None  # Textual merges each App subclass's bindings when it is defined
        self._bindings = merged.copy()
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
