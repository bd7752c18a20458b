"""The incident overview: what the dashboard shows, as plain data.

This ``__init__`` is the room's public API: front ends and other rooms import
from here, never from the private modules behind it. Names load lazily (PEP
562), so importing the room costs nothing until a use case is called.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from incident.overview.board import DashboardData, dashboard
    from incident.overview.log_text import describe

_API: dict[str, str] = {
    "DashboardData": "incident.overview.board",
    "dashboard": "incident.overview.board",
    "describe": "incident.overview.log_text",
}

__all__ = [
    "DashboardData",
    "dashboard",
    "describe",
]


def __getattr__(name: str) -> Any:
    try:
        module = _API[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
