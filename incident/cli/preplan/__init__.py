"""Commands of the pre-plan room: risk sources × intakes computed ahead."""

from __future__ import annotations

from incident.cli.preplan import commands

__all__ = ["register"]


def register(sub) -> None:
    """Add this room's commands to the ``incident`` parser."""
    for module in (commands,):
        module.register(sub)
