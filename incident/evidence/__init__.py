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
    from incident.evidence.seal import (
        Seal,
        countersign_file,
        read_seal_file,
        seal_chain,
        seal_heads,
        seals_dir,
        write_seal_file,
    )

_API: dict[str, str] = {
    "Seal": "incident.evidence.seal",
    "countersign_file": "incident.evidence.seal",
    "export_incident": "incident.evidence.backup",
    "import_backup": "incident.evidence.backup",
    "read_seal_file": "incident.evidence.seal",
    "seal_chain": "incident.evidence.seal",
    "seal_heads": "incident.evidence.seal",
    "seals_dir": "incident.evidence.seal",
    "verify": "incident.evidence.integrity",
    "write_seal_file": "incident.evidence.seal",
}

__all__ = [
    "Seal",
    "countersign_file",
    "export_incident",
    "import_backup",
    "read_seal_file",
    "seal_chain",
    "seal_heads",
    "seals_dir",
    "verify",
    "write_seal_file",
]

__getattr__ = lazy_exports(__name__, _API)
