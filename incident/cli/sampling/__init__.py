"""Commands of the sampling room: the monitoring plan, rounds, crews, assignment and dispatch, and field work."""

from __future__ import annotations

from incident.cli.sampling import commands, fieldwork

__all__ = ["register"]


def register(sub) -> None:
    """Add this room's commands to the ``incident`` parser."""
    for module in (
        commands,
        fieldwork,
    ):
        module.register(sub)
