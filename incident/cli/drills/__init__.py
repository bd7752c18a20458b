"""Commands of the drills room: start an exercise, injects, ENDEX and the after-action report."""

from __future__ import annotations

from incident.cli.drills import commands

__all__ = ["register"]


def register(sub) -> None:
    """Add this room's commands to the ``incident`` parser."""
    for module in (commands,):
        module.register(sub)
