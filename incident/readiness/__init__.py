"""Readiness: equipment inventory, kits, check-out/check-in, calibration and upkeep, and whether the centre can field N teams.

This ``__init__`` is the room's public API: front ends and other rooms import
from here, never from the private modules behind it. Names load on first use
(see :mod:`incident.core.api`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident.core.api import lazy_exports

if TYPE_CHECKING:
    from incident.readiness.checkout import check_in, check_out, open_checkouts
    from incident.readiness.inventory import load_inventory
    from incident.readiness.inventory_csv import export_csv, import_csv
    from incident.readiness.rules import (
        DueItem,
        Rollup,
        check_readiness_action,
        dispatch_refusals,
        due_items,
        kit_ready,
        parse_day_arg,
        rollup,
        today_local,
    )
    from incident.readiness.upkeep import (
        EquipmentDetail,
        equipment_detail,
        move_stock,
        record_calibration,
        record_maintenance,
    )

_API: dict[str, str] = {
    "DueItem": "incident.readiness.rules",
    "EquipmentDetail": "incident.readiness.upkeep",
    "Rollup": "incident.readiness.rules",
    "check_in": "incident.readiness.checkout",
    "check_out": "incident.readiness.checkout",
    "check_readiness_action": "incident.readiness.rules",
    "dispatch_refusals": "incident.readiness.rules",
    "due_items": "incident.readiness.rules",
    "equipment_detail": "incident.readiness.upkeep",
    "export_csv": "incident.readiness.inventory_csv",
    "import_csv": "incident.readiness.inventory_csv",
    "kit_ready": "incident.readiness.rules",
    "load_inventory": "incident.readiness.inventory",
    "move_stock": "incident.readiness.upkeep",
    "open_checkouts": "incident.readiness.checkout",
    "parse_day_arg": "incident.readiness.rules",
    "record_calibration": "incident.readiness.upkeep",
    "record_maintenance": "incident.readiness.upkeep",
    "rollup": "incident.readiness.rules",
    "today_local": "incident.readiness.rules",
}

__all__ = [
    "DueItem",
    "EquipmentDetail",
    "Rollup",
    "check_in",
    "check_out",
    "check_readiness_action",
    "dispatch_refusals",
    "due_items",
    "equipment_detail",
    "export_csv",
    "import_csv",
    "kit_ready",
    "load_inventory",
    "move_stock",
    "open_checkouts",
    "parse_day_arg",
    "record_calibration",
    "record_maintenance",
    "rollup",
    "today_local",
]

__getattr__ = lazy_exports(__name__, _API)
