"""Small shared pieces for screens: translated bindings, the exercise marker."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from textual.dom import DOMNode

from incident.core.i18n import t

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from textual.screen import Screen

    from incident.core.config import Settings


class AppState(Protocol):
    """What screens use of the running IncidentApp: its store, the user's settings, navigation."""

    engine: Engine
    settings: Settings

    def open_incident(self, code: str) -> None: ...

    def action_dashboard(self) -> None: ...

    def show_screen(self, screen: Screen[Any]) -> None: ...

    def open_drill_sample(self, point: str, values: dict | None = None, error: str | None = None) -> None: ...

    def drill_tick(self, code: str) -> object: ...

    def refresh_exercise_banners(self) -> None: ...


if TYPE_CHECKING:
    from textual.app import App

    class AppMixin(App[int]):
        """What the IncidentApp's action mixins may call on the app (type checking only)."""

        engine: Engine
        settings: Settings
        incident_code: str | None

        def open_incident(self, code: str) -> None: ...

        def show_screen(self, screen: Screen[Any]) -> None: ...

        def _open(self, screen_type: Any, then: str | None = None) -> None: ...

    class ScreenMixin(Screen[Any]):
        """What a screen's mixin (shared keys of several screens) may call on it (type checking only)."""

else:
    AppMixin = object
    ScreenMixin = object


def app_state(node: DOMNode) -> AppState:
    """``node.app`` as the IncidentApp it is (textual types it as a bare App)."""
    return cast("AppState", node.app)


ResultT = TypeVar("ResultT")


def when_given(action: Callable[[ResultT], object]) -> Callable[[ResultT | None], None]:
    """A ``push_screen`` callback: ``action(result)`` when the dialog returned something (a saved
    id, True, the form's values), nothing when it was cancelled."""

    def callback(result: ResultT | None) -> None:
        if result:
            action(result)

    return callback


def localise_bindings(node: DOMNode) -> None:
    """Replace i18n keys in a node's binding descriptions with translated text.

    BINDINGS are class attributes evaluated before the language is known, so
    they carry catalog keys (``key.help``) and each instance translates its
    own copy of the bindings map.
    """
    table = node._bindings.key_to_bindings  # per-instance copy (DOMNode.__init__)
    for key, bindings in list(table.items()):
        table[key] = [
            dataclasses.replace(
                b,
                description=t(b.description) if b.description else b.description,
                tooltip=t(b.tooltip) if b.tooltip else b.tooltip,
            )
            for b in bindings
        ]


def report_worker_error(node, event) -> None:
    """A failed background job is never silent: show what went wrong (the message of a
    UserError says where and how to fix it)."""
    from textual.worker import WorkerState

    if event.state == WorkerState.ERROR and event.worker.error is not None:
        error = event.worker.error
        text = error.render() if hasattr(error, "render") else f"{type(error).__name__}: {error}"
        node.app.notify(text, title=t("app.failed"), severity="error", timeout=15)


class Localised:
    """Mixin for App/Screen subclasses: translate bindings on construction, report
    failed workers (Worker.StateChanged does not bubble, so each screen listens), and
    let a closed screen's widgets go (``release_closed_widgets``)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        localise_bindings(cast(DOMNode, self))  # mixed into App and Screen classes only

    def _on_worker_state_changed(self, event) -> None:
        report_worker_error(self, event)

    def _on_unmount(self) -> None:
        # a screen's widgets have all left the DOM when the screen itself unmounts
        release_closed_widgets(cast(DOMNode, self).app)


def release_closed_widgets(app: object) -> None:
    """Let go of what Textual (8.2.x) keeps of widgets no longer on screen (issue 19).

    - The app's watchers of widgets no longer attached: every screen's Header watches
      ``app.title`` and ``app.sub_title``, and Textual prunes those watchers only when the title
      changes, which it never does here, so each closed screen's Header stayed reachable.
    - ``StylesCache.get_inner_outer`` is an ``lru_cache`` on a method: its key holds the
      StylesCache of every widget rendered, with all the lines it cached, until 1,024 newer
      ones push it out (Textualize/textual#6665): about 11 MB on the bench after 50 screen
      switches, more on a larger terminal. Its values are two Styles per pair of background
      colours, cheap to make again, so it is emptied.

    Screens (``Localised``) call this as they unmount (tests/tui/test_screen_stack.py).
    """
    from textual._styles_cache import StylesCache

    watchers = getattr(app, "__watchers", None)
    for entries in (watchers or {}).values():
        entries[:] = [(node, callback) for node, callback in entries if getattr(node, "is_attached", True)]
    clear = getattr(StylesCache.get_inner_outer, "cache_clear", None)
    if clear is not None:  # a later Textual may cache it another way
        clear()


def render_error(exc: BaseException) -> str:
    """A refusal as the user reads it: where, the problem, and the fix, labelled in their language."""
    render = getattr(exc, "render", None)
    if callable(render) and hasattr(exc, "params"):  # a keyed refusal renders in the reader's language
        return render()
    problem = getattr(exc, "problem", None)
    if problem is None:
        return f"{type(exc).__name__}: {exc}"
    problems = getattr(exc, "problems", None)
    if problems:  # several problems at once (ValidationErrors)
        return "\n".join([problem] + [f"- {render_error(p)}" for p in problems])
    where = getattr(exc, "where", None)
    text = f"{where}: {problem}" if where else problem
    fix = getattr(exc, "fix", None)
    if fix:
        text += f"\n  {t('formui.fix_label')} {fix}"
    return text
