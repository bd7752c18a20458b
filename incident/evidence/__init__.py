"""Evidence: verifying the tamper-evident log chain, and backups that carry it.

This ``__init__`` is the room's public API: front ends and other rooms import
from here, never from the private modules behind it. Names load on first use
(see :mod:`incident.core.api`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident.core.api import lazy_exports

if TYPE_CHECKING:
    from incident.evidence.backup import export_incident, import_backup
    from incident.evidence.integrity import verify

_API: dict[str, str] = {
    "export_incident": "incident.evidence.backup",
    "import_backup": "incident.evidence.backup",
    "verify": "incident.evidence.integrity",
}

__all__ = [
    "export_incident",
    "import_backup",
    "verify",
]

__getattr__ = lazy_exports(__name__, _API)
