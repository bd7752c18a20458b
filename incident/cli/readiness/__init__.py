"""Commands of the readiness room: inventory, calibrations, kits, check-out and whether teams can be fielded."""

from __future__ import annotations

from incident.cli.readiness import commands

__all__ = ["register"]


def register(sub) -> None:
    """Add this room's commands to the ``incident`` parser."""
    for module in (commands,):
        module.register(sub)
