"""Drills: exercise scenarios on a synthetic spill, the exercise clock and injects, HSEEP ratings and the after-action report.

This ``__init__`` is the room's public API: front ends and other rooms import
from here, never from the private modules behind it. Names load on first use
(see :mod:`incident.core.api`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident.core.api import lazy_exports

if TYPE_CHECKING:
    from incident.drills.aar import export_aar
    from incident.drills.control import end_drill, start_drill, tick
    from incident.drills.exercise import InjectView, TickResult, clock_line, injects, set_speed, take_sample
    from incident.drills.metrics import DrillStatus, add_corrective_action, compare, drill_status, mark, rate

_API: dict[str, str] = {
    "DrillStatus": "incident.drills.metrics",
    "InjectView": "incident.drills.exercise",
    "TickResult": "incident.drills.exercise",
    "add_corrective_action": "incident.drills.metrics",
    "clock_line": "incident.drills.exercise",
    "compare": "incident.drills.metrics",
    "drill_status": "incident.drills.metrics",
    "end_drill": "incident.drills.control",
    "export_aar": "incident.drills.aar",
    "injects": "incident.drills.exercise",
    "mark": "incident.drills.metrics",
    "rate": "incident.drills.metrics",
    "set_speed": "incident.drills.exercise",
    "start_drill": "incident.drills.control",
    "take_sample": "incident.drills.exercise",
    "tick": "incident.drills.control",
}

__all__ = [
    "DrillStatus",
    "InjectView",
    "TickResult",
    "add_corrective_action",
    "clock_line",
    "compare",
    "drill_status",
    "end_drill",
    "export_aar",
    "injects",
    "mark",
    "rate",
    "set_speed",
    "start_drill",
    "take_sample",
    "tick",
]

__getattr__ = lazy_exports(__name__, _API)
