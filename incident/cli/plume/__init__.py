"""Commands of the plume room: check a river file, forecast, dispersion estimators, uncertainty and recalibration."""

from __future__ import annotations

from incident.cli.plume import dispersion, forecast, river, uncertainty

__all__ = ["register"]


def register(sub) -> None:
    """Add this room's commands to the ``incident`` parser."""
    for module in (
        river,
        forecast,
        dispersion,
        uncertainty,
    ):
        module.register(sub)
