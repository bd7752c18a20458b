"""Small shared pieces for screens: translated bindings, the exercise marker."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Protocol, cast

from textual.dom import DOMNode

from incident.core.i18n import t

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from incident.core.config import Settings


class AppState(Protocol):
    """What screens use of the running IncidentApp: its store, the user's settings, navigation."""

    engine: Engine
    settings: Settings

    def open_incident(self, code: str) -> None: ...

    def action_dashboard(self) -> None: ...


if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen

    class AppMixin(App[int]):
        """What the IncidentApp's action mixins may call on the app (type checking only)."""

        engine: Engine
        settings: Settings

        def open_incident(self, code: str) -> None: ...

        def show_screen(self, screen: Screen) -> None: ...

else:
    AppMixin = object


def app_state(node: DOMNode) -> AppState:
    """``node.app`` as the IncidentApp it is (textual types it as a bare App)."""
    return cast("AppState", node.app)


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
    """Mixin for App/Screen subclasses: translate bindings on construction, and report
    failed workers (Worker.StateChanged does not bubble, so each screen listens)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        localise_bindings(self)  # type: ignore[arg-type]

    def _on_worker_state_changed(self, event) -> None:
        report_worker_error(self, event)


def render_error(exc: BaseException) -> str:
    """A refusal as the user reads it: where, the problem, and the fix, labelled in their language."""
    render = getattr(exc, "render", None)
    if callable(render) and hasattr(exc, "params"):  # a keyed refusal renders in the reader's language
        return render()
    problem = getattr(exc, "problem", None)
    if problem is None:
        return f"{type(exc).__name__}: {exc}"
    if getattr(exc, "problems", None):  # several problems at once (ValidationErrors)
        return "\n".join([problem] + [f"- {render_error(p)}" for p in exc.problems])  # type: ignore[attr-defined]
    where = getattr(exc, "where", None)
    text = f"{where}: {problem}" if where else problem
    fix = getattr(exc, "fix", None)
    if fix:
        text += f"\n  {t('formui.fix_label')} {fix}"
    return text
