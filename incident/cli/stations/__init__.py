"""Commands of the stations room: automatic-station feeds (HJ 212), alerts, the listener."""

from __future__ import annotations

from incident.cli.stations import commands

__all__ = ["register"]


def register(sub) -> None:
    """Add this room's commands to the ``incident`` parser."""
    for module in (commands,):
        module.register(sub)
