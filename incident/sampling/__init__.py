"""Sampling: the point layout (HJ 589 §6.2), the monitoring plan and its revisions, rounds, crews, the roster and crew assignment.

This ``__init__`` is the room's public API: front ends and other rooms import
from here, never from the private modules behind it. Names load on first use
(see :mod:`incident.core.api`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident.core.api import lazy_exports

if TYPE_CHECKING:
    from incident.sampling.assignment import (
        AssignSettings,
        current_assignments,
        dispatch,
        ics204_csv,
        ics204_markdown,
        plan_assignment,
        routes_json,
    )
    from incident.sampling.crews import (
        check_in,
        default_crew_check,
        default_kit_check,
        list_crews,
        set_status,
        skip_kit_check,
    )
    from incident.sampling.layout import PlanSettings, ProposedPoint, sub_number
    from incident.sampling.plans import (
        _locate,
        has_plan,
        incident_river,
        insert_point,
        plan_view,
        propose_plan,
        refresh_plan,
        remove_point,
        requests_for,
    )
    from incident.sampling.roster import copy_crews_to_exercise, load_roster
    from incident.sampling.rounds import list_rounds, mark_sampled, regenerate
    from incident.sampling.routing import load_roads
    from incident.sampling.strip import StripModel, build_strip, plume_along

_API: dict[str, str] = {
    "AssignSettings": "incident.sampling.assignment",
    "PlanSettings": "incident.sampling.layout",
    "ProposedPoint": "incident.sampling.layout",
    "StripModel": "incident.sampling.strip",
    "_locate": "incident.sampling.plans",
    "build_strip": "incident.sampling.strip",
    "check_in": "incident.sampling.crews",
    "copy_crews_to_exercise": "incident.sampling.roster",
    "current_assignments": "incident.sampling.assignment",
    "default_crew_check": "incident.sampling.crews",
    "default_kit_check": "incident.sampling.crews",
    "dispatch": "incident.sampling.assignment",
    "has_plan": "incident.sampling.plans",
    "ics204_csv": "incident.sampling.assignment",
    "ics204_markdown": "incident.sampling.assignment",
    "incident_river": "incident.sampling.plans",
    "insert_point": "incident.sampling.plans",
    "list_crews": "incident.sampling.crews",
    "list_rounds": "incident.sampling.rounds",
    "load_roads": "incident.sampling.routing",
    "load_roster": "incident.sampling.roster",
    "mark_sampled": "incident.sampling.rounds",
    "plan_assignment": "incident.sampling.assignment",
    "plan_view": "incident.sampling.plans",
    "plume_along": "incident.sampling.strip",
    "propose_plan": "incident.sampling.plans",
    "refresh_plan": "incident.sampling.plans",
    "regenerate": "incident.sampling.rounds",
    "remove_point": "incident.sampling.plans",
    "requests_for": "incident.sampling.plans",
    "routes_json": "incident.sampling.assignment",
    "set_status": "incident.sampling.crews",
    "skip_kit_check": "incident.sampling.crews",
    "sub_number": "incident.sampling.layout",
}

__all__ = [
    "AssignSettings",
    "PlanSettings",
    "ProposedPoint",
    "StripModel",
    "_locate",
    "build_strip",
    "check_in",
    "copy_crews_to_exercise",
    "current_assignments",
    "default_crew_check",
    "default_kit_check",
    "dispatch",
    "has_plan",
    "ics204_csv",
    "ics204_markdown",
    "incident_river",
    "insert_point",
    "list_crews",
    "list_rounds",
    "load_roads",
    "load_roster",
    "mark_sampled",
    "plan_assignment",
    "plan_view",
    "plume_along",
    "propose_plan",
    "refresh_plan",
    "regenerate",
    "remove_point",
    "requests_for",
    "routes_json",
    "set_status",
    "skip_kit_check",
    "sub_number",
]

__getattr__ = lazy_exports(__name__, _API)
