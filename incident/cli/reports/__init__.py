"""Commands of the reports room: draft, review and release reports, exports, and statistics."""

from __future__ import annotations

from incident.cli.reports import report, stats
from incident.cli.reports.report import add_log_export_arguments, cmd_log_export

__all__ = ["add_log_export_arguments", "cmd_log_export", "register"]


def register(sub) -> None:
    """Add this room's commands to the ``incident`` parser."""
    for module in (
        report,
        stats,
    ):
        module.register(sub)
