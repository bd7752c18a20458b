"""The incident overview: what the dashboard shows, as plain data.

This ``__init__`` is the room's public API: front ends and other rooms import
from here, never from the private modules behind it. Names load on first use
(see :mod:`incident.core.api`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident.core.api import lazy_exports

if TYPE_CHECKING:
    from incident.overview.board import DashboardData, dashboard

_API: dict[str, str] = {
    "DashboardData": "incident.overview.board",
    "dashboard": "incident.overview.board",
}

__all__ = [
    "DashboardData",
    "dashboard",
]

__getattr__ = lazy_exports(__name__, _API)
