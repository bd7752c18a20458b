"""Commands of the evidence room: verify the log, seals, backups, accounts and keys, serve in a browser."""

from __future__ import annotations

from incident.cli.evidence import accounts, reliability

__all__ = ["register"]


def register(sub) -> None:
    """Add this room's commands to the ``incident`` parser."""
    for module in (
        reliability,
        accounts,
    ):
        module.register(sub)
