"""The action registry: names, their parameters, and the functions installed for them.

Kept apart from :mod:`incident.playbook.actions` so that the built-in actions can
register themselves without importing the module that installs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from incident.core.i18n import t


@dataclass(frozen=True)
class ActionOutcome:
    summary: str  # one line for people, in English (the log's archive text)
    data: dict[str, Any] = field(default_factory=dict)  # JSON-serialisable details
    #: the line language-neutral: a catalog key and its values (shown in the reader's language)
    key: str = ""
    params: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, key: str, data: dict[str, Any] | None = None, **params: object) -> ActionOutcome:
        values = {k: str(v) for k, v in params.items()}
        return cls(t(key, lang="en", **values), dict(data or {}), key, values)

    def text(self, lang: str | None = None) -> str:
        """The outcome in ``lang`` (default: the current language)."""
        return t(self.key, lang=lang, **self.params) if self.key else self.summary


def outcome_text(stored: dict[str, Any], lang: str | None = None) -> str:
    """An outcome kept with a step (``key``/``params``, else only its English ``summary``)."""
    key = stored.get("key")
    if key:
        return t(str(key), lang=lang, **dict(stored.get("params") or {}))
    return str(stored.get("summary", ""))


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


def register_action(name: str, func: ActionFunc, label_key: str | None = None) -> None:
    """Install the implementation of ``name`` (replaces an earlier one)."""
    label = label_key or KNOWN_ACTIONS.get(name)
    if label is None:
        raise ValueError(f"action {name!r} needs a label key (it is not one of KNOWN_ACTIONS)")
    _registry[name] = (func, label)


def unregister_action(name: str) -> None:
    _registry.pop(name, None)
