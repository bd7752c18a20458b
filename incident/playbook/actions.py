"""Actions a playbook step can call: a registry of named services.

Playbooks name actions (``action = { name = "forecast.run" }``); the
features that implement them register a function under that name when the
application is assembled. The names below are the contract between the
playbook engine and those features, so the validator can refuse a typo in a
playbook even before the implementation is installed. Running an action whose
implementation is not registered is refused with a clear message, never
faked.

An action function is ``func(session, incident_code, params, actor) ->
ActionOutcome``: it works inside the caller's unit of work (one session) and
logs its own domain events; the playbook runner records the outcome on the
step and logs ``step.action``.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from incident.core.errors import UserError
from incident.core.i18n import t
from incident.playbook.registry import (  # noqa: F401  (re-exported: the registry's public face)
    ACTION_PARAMS,
    KNOWN_ACTIONS,
    REQUIRED_PARAMS,
    ActionFunc,
    ActionOutcome,
    _registry,
    outcome_text,
    register_action,
    unregister_action,
)

_builtins_installed = False


def _install_builtins() -> None:
    """Register the features' real implementations once (lazily: they import the whole app)."""
    global _builtins_installed
    if not _builtins_installed:
        _builtins_installed = True
        from incident.playbook import builtin_actions

        builtin_actions.install()


def known_action_names() -> set[str]:
    """Names a playbook may use: the contract plus anything registered."""
    return set(KNOWN_ACTIONS) | set(_registry)


def is_available(name: str) -> bool:
    _install_builtins()
    return name in _registry


def action_label(name: str, lang: str | None = None) -> str:
    key = _registry[name][1] if name in _registry else KNOWN_ACTIONS.get(name)
    return t(key, lang=lang) if key else name


def run_action(
    session: Session, incident_code: str, name: str, params: dict[str, Any] | None, actor: str
) -> ActionOutcome:
    """Run a registered action; refuse unknown or not-installed ones with a reason."""
    _install_builtins()
    if name not in known_action_names():
        raise UserError(
            "errors.playbook.unknown_action",
            where="action",
            name=repr(name),
            value=", ".join(sorted(known_action_names())),
        )
    if name not in _registry:
        raise UserError("actions.not_available", where=f"action {name}", name=action_label(name))
    func, _label = _registry[name]
    outcome = func(session, incident_code, dict(params or {}), actor)
    if not isinstance(outcome, ActionOutcome):
        raise TypeError(f"action {name!r} returned {type(outcome).__name__}, not ActionOutcome")
    return outcome
