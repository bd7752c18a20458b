"""The exercise marker every screen of a drill carries: "■ EXERCISE / 演练 · T+01:23 · ×10 ■".

Hidden for real incidents. The clock is loaded once (a short worker) and then, in a drill
only, ticks on screen every second without the database; it reloads every 15 s so a speed
change made elsewhere (another terminal, the CLI) shows up.
"""

from __future__ import annotations

from textual import work
from textual.widgets import Static

from incident.core.clock import ExerciseClock, exercise_clock, fmt_elapsed
from incident.core.i18n import t
from incident.tui.base import app_state


class ExerciseBanner(Static):
    DEFAULT_CSS = """
    ExerciseBanner {
        height: 1;
        width: 100%;
        background: $warning;
        color: $text;
        text-style: bold;
        content-align: center middle;
        display: none;
    }
    """

    def __init__(self, code: str | None) -> None:
        super().__init__("", id="exercise-banner")
        self.code = code
        self.is_exercise = False
        self.clock: ExerciseClock | None = None
        self._ticks: int | None = None  # seconds the clock has ticked on screen (None: not started)

    #: seconds between reloads of the clock (a speed change made elsewhere)
    RELOAD_S = 15

    def on_mount(self) -> None:
        if self.code:
            self.load()

    def _each_second(self) -> None:
        self._ticks = (self._ticks or 0) + 1
        if self._ticks % self.RELOAD_S == 0:
            self.load()
        self.show_clock()

    @work(thread=True, exclusive=True, exit_on_error=False, group="exercise-banner")
    def load(self) -> None:
        from incident.core.incidents import get_incident
        from incident.core.store.engine import session_scope

        if not self.code:  # started only for an incident (on_mount)
            return
        with session_scope(app_state(self).engine) as session:
            inc = get_incident(session, self.code)
            is_exercise, clock = inc.is_exercise, exercise_clock(inc)
        self.app.call_from_thread(self.set_clock, is_exercise, clock)

    def set_clock(self, is_exercise: bool, clock: ExerciseClock | None) -> None:
        self.is_exercise, self.clock = is_exercise, clock
        self.display = is_exercise
        if is_exercise and self._ticks is None:
            # one 1 s timer, and only in a drill: a stopped timer's pending sleep keeps its widget
            # (and so the closed screen) alive until it was due (issue 19)
            self._ticks = 0
            self.set_interval(1, self._each_second)
        self.show_clock()

    def text(self) -> str:
        if self.clock is None:
            return t("drill.banner_plain")
        if self.clock.ended:
            speed = t("drill.ended")
        elif self.clock.paused:
            speed = t("drill.paused")
        else:
            speed = f"×{self.clock.speed:g}"
        return t("drill.banner", clock=fmt_elapsed(self.clock.elapsed_min()), speed=speed)

    def show_clock(self) -> None:
        if self.is_exercise:
            self.update(self.text())
