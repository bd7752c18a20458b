"""Commands about incidents themselves: open the TUI, list, show, create, the demo, the store, the log; and the bench."""

from __future__ import annotations

from incident.cli.core import bench, commands

__all__ = ["register"]


def register(sub) -> None:
    """Add this room's commands to the ``incident`` parser."""
    for module in (
        commands,
        bench,
    ):
        module.register(sub)
