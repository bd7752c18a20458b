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

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from incident.core.errors import UserError
from incident.core.i18n import t


@dataclass(frozen=True)
class ActionOutcome:
    summary: str  # one line for people (log, step panel)
    data: dict[str, Any] = field(default_factory=dict)  # JSON-serialisable details


ActionFunc = Callable[[Session, str, dict[str, Any], str], ActionOutcome]

#: action name -> i18n label key. The contract with the features that implement them.
KNOWN_ACTIONS: dict[str, str] = {
    "forecast.run": "actions.forecast_run",
    "plan.propose": "actions.plan_propose",
    "crews.assign": "actions.crews_assign",
    "report.draft": "actions.report_draft",
    "termination.check": "actions.termination_check",
    "readiness.check": "actions.readiness_check",
}

#: parameters an action accepts, with their allowed values (None: any value).
ACTION_PARAMS: dict[str, dict[str, tuple[Any, ...] | None]] = {
    "forecast.run": {"horizon_h": None, "ensemble": None},
    "plan.propose": {"reason": None},
    "crews.assign": {"round": None},
    "report.draft": {"kind": ("flash", "monitoring", "summary")},
    "termination.check": {},
    "readiness.check": {"kit": None},
}

#: parameters an action cannot run without.
REQUIRED_PARAMS: dict[str, tuple[str, ...]] = {"report.draft": ("kind",)}

_registry: dict[str, tuple[ActionFunc, str]] = {}
_builtins_installed = False


def _install_builtins() -> None:
    """Register the features' real implementations once (lazily: they import the whole app)."""
    global _builtins_installed
    if not _builtins_installed:
        _builtins_installed = True
        from incident.playbook import builtin_actions

        builtin_actions.install()


def register_action(name: str, func: ActionFunc, label_key: str | None = None) -> None:
    """Install the implementation of ``name`` (replaces an earlier one)."""
    label = label_key or KNOWN_ACTIONS.get(name)
    if label is None:
        raise ValueError(f"action {name!r} needs a label key (it is not one of KNOWN_ACTIONS)")
    _registry[name] = (func, label)


def unregister_action(name: str) -> None:
    _registry.pop(name, None)


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
            f"unknown action {name!r}",
            where="action",
            fix=f"use one of: {', '.join(sorted(known_action_names()))}",
        )
    if name not in _registry:
        raise UserError(
            t("actions.not_available", name=action_label(name)),
            where=f"action {name}",
            fix=t("actions.not_available_fix"),
        )
    func, _label = _registry[name]
    outcome = func(session, incident_code, dict(params or {}), actor)
    if not isinstance(outcome, ActionOutcome):
        raise TypeError(f"action {name!r} returned {type(outcome).__name__}, not ActionOutcome")
    return outcome
