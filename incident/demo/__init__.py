"""The demo: loads the Jade River demo incident, crews and kit into a fresh store.

This ``__init__`` is the room's public API: front ends and other rooms import
from here, never from the private modules behind it. Names load on first use
(see :mod:`incident.core.api`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident.core.api import lazy_exports

if TYPE_CHECKING:
    from incident.demo.seed import DEMO_RIVER, ensure_demo

_API: dict[str, str] = {
    "DEMO_RIVER": "incident.demo.seed",
    "ensure_demo": "incident.demo.seed",
}

__all__ = [
    "DEMO_RIVER",
    "ensure_demo",
]

__getattr__ = lazy_exports(__name__, _API)
