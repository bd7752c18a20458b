"""The demo: loads the Jade River demo incident, crews and kit into a fresh store.

This ``__init__`` is the room's public API: front ends and other rooms import
from here, never from the private modules behind it. Names load lazily (PEP
562), so importing the room costs nothing until a use case is called.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    try:
        module = _API[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
