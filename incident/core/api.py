"""Lazy public APIs for the rooms.

A room's ``__init__`` lists its public names in a table (name -> private module)
and takes its module ``__getattr__`` from :func:`lazy_exports`: a name is imported
on first use (PEP 562), so importing a room costs nothing until a use case is
called, and the CLI's ``--help`` and the TUI's first frame stay light.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, table: Mapping[str, str]) -> Callable[[str], Any]:
    """The ``__getattr__`` of ``package``: load ``name`` from ``table[name]`` and keep it."""

    def __getattr__(name: str) -> Any:
        try:
            module = table[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
