"""Commands of the playbook room: list and check playbooks, run steps, record decisions."""

from __future__ import annotations

from incident.cli.playbook import commands

__all__ = ["register"]


def register(sub) -> None:
    """Add this room's commands to the ``incident`` parser."""
    for module in (commands,):
        module.register(sub)
