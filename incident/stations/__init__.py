"""Automatic water-quality stations (issue 20): HJ 212-2017 feeds, detection, alerts.

The public API of the room; the modules behind it are private.
"""

from __future__ import annotations

from incident.stations._hj212 import (
    DATA_COMMANDS,
    FLAGS,
    WATER_CODES,
    Packet,
    Reading,
    build_data_segment,
    crc16,
    frame,
    parse_packet,
)

__all__ = [
    "DATA_COMMANDS",
    "FLAGS",
    "WATER_CODES",
    "Packet",
    "Reading",
    "build_data_segment",
    "crc16",
    "frame",
    "parse_packet",
]
