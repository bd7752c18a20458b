"""Automatic water-quality stations (issue 20): HJ 212-2017 feeds, detection, early-warning alerts.

The public API of the room (use cases for the CLI, the TUI and the bench); the modules behind it
are private. Heavy imports (numpy, the plume model) happen inside the functions that need them.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

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
from incident.stations._store import (
    IngestReport,
    StationInfo,
    add_station,
    get_station,
    list_stations,
    rejection_counts,
    station_day,
)

__all__ = [
    "DATA_COMMANDS",
    "FLAGS",
    "WATER_CODES",
    "IngestReport",
    "Packet",
    "Reading",
    "StationInfo",
    "add_station",
    "alerts",
    "build_data_segment",
    "crc16",
    "frame",
    "get_station",
    "ingest",
    "ingest_packets",
    "list_stations",
    "listener",
    "parse_packet",
    "rejection_counts",
    "station_day",
]


def _detect_after(engine, report: IngestReport, *, actor: str) -> list[str]:
    from incident.core.store.engine import session_scope
    from incident.stations._alerts import scan

    if not report.touched:
        return []
    with session_scope(engine) as session:
        return scan(session, report.touched, actor=actor)


def ingest(engine, path: str | Path, *, actor: str, detect: bool = True) -> tuple[IngestReport, list[str]]:
    """Replay a file into the store: HJ 212 packets (one a line, gzip allowed) or a CSV of readings
    (by extension .csv). Then run detection on what came in; returns the report and the codes of
    alerts opened or extended."""
    from incident.stations._store import ingest_csv, ingest_file

    path = Path(path)
    is_csv = path.suffix.lower() == ".csv" or path.name.lower().endswith(".csv.gz")
    report = ingest_csv(engine, path, actor=actor) if is_csv else ingest_file(engine, path, actor=actor)
    return report, (_detect_after(engine, report, actor=actor) if detect else [])


def ingest_packets(
    engine, packets, *, actor: str, source: str, max_age: timedelta | None = None, detect: bool = True
) -> tuple[IngestReport, list[str]]:
    """Store a batch of (where, raw packet) and run detection on the series it touched."""
    from incident.stations._store import ingest_packets as store_packets

    report = store_packets(engine, packets, actor=actor, source=source, max_age=max_age)
    return report, (_detect_after(engine, report, actor=actor) if detect else [])


def alerts(session, *, status: str | None = None) -> list[dict]:
    """Early-warning alerts as JSON-ready dicts, oldest first."""
    from incident.stations._alerts import alert_rows

    return alert_rows(session, status=status)


def listener(engine, *, actor: str, host: str = "127.0.0.1", port: int = 0, detect: bool = True):
    """An HJ 212 TCP listener (asyncio); ``await listener.start()`` / ``stop()`` or ``serve_forever()``."""
    from incident.stations._listener import Listener

    return Listener(engine, actor=actor, host=host, port=port, detect=detect, store=ingest_packets)
