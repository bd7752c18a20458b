"""Commands of the results room: samples, results and corrections, imports, QC, custody, termination."""

from __future__ import annotations

from incident.cli.results import commands

__all__ = ["register"]


def register(sub) -> None:
    """Add this room's commands to the ``incident`` parser."""
    for module in (commands,):
        module.register(sub)
