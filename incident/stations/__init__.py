"""Automatic water-quality stations (issue 20): HJ 212-2017 feeds, detection, early-warning alerts.

The public API of the room (use cases for the CLI, the TUI and the bench); the modules behind it
are private. Heavy imports (numpy, the plume model) happen inside the functions that need them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from incident.stations._listener import Listener

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
    "ALERT_STATUSES",
    "acknowledge_alert",
    "add_station",
    "alerts",
    "detect_series",
    "dismiss_alert",
    "open_incident_from_alert",
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
    "sparkline",
    "station_day",
    "station_overview",
]


def _detect_after(engine: Engine, report: IngestReport, *, actor: str) -> list[str]:
    return detect_series(engine, report.touched, actor=actor)


def ingest(
    engine: Engine, path: str | Path, *, actor: str, detect: bool = True
) -> tuple[IngestReport, list[str]]:
    """Replay a file into the store: HJ 212 packets (one a line, gzip allowed) or a CSV of readings
    (by extension .csv). Then run detection on what came in; returns the report and the codes of
    alerts opened or extended."""
    from incident.stations._store import ingest_csv, ingest_file

    path = Path(path)
    is_csv = path.suffix.lower() == ".csv" or path.name.lower().endswith(".csv.gz")
    report = ingest_csv(engine, path, actor=actor) if is_csv else ingest_file(engine, path, actor=actor)
    return report, (_detect_after(engine, report, actor=actor) if detect else [])


def ingest_packets(
    engine: Engine,
    packets: Iterable[tuple[str, bytes | str]],
    *,
    actor: str,
    source: str,
    max_age: timedelta | None = None,
    detect: bool = True,
) -> tuple[IngestReport, list[str]]:
    """Store a batch of (where, raw packet) and run detection on the series it touched."""
    from incident.stations._store import ingest_packets as store_packets

    report = store_packets(engine, packets, actor=actor, source=source, max_age=max_age)
    return report, (_detect_after(engine, report, actor=actor) if detect else [])


def alerts(session: Session, *, status: str | None = None) -> list[dict[str, Any]]:
    """Early-warning alerts as JSON-ready dicts, oldest first."""
    from incident.stations._alerts import alert_rows

    return alert_rows(session, status=status)


ALERT_STATUSES = ("open", "acknowledged", "dismissed", "promoted", "closed")


def acknowledge_alert(session: Session, code: str, *, actor: str) -> dict[str, Any]:
    """Mark an open alert as seen (logged); returns the alert as `alerts()` gives it."""
    from incident.stations._actions import acknowledge_alert as _ack

    return _row(session, _ack(session, code, actor=actor).code)


def dismiss_alert(session: Session, code: str, *, reason: str, actor: str) -> dict[str, Any]:
    """Dismiss an open or acknowledged alert; the reason (required) is logged."""
    from incident.stations._actions import dismiss_alert as _dismiss

    return _row(session, _dismiss(session, code, reason=reason, actor=actor).code)


def open_incident_from_alert(session: Session, code: str, *, actor: str, candidate: int = 1) -> str:
    """Open an incident from an open or acknowledged alert, its source the trace's candidate of
    rank `candidate` (or the station, without a trace); the evidence goes to the incident's log.
    Returns the incident's code."""
    from incident.stations._actions import open_incident_from_alert as _open

    return _open(session, code, actor=actor, candidate=candidate).code


def station_overview(session_or_engine: Session | Engine, *, points: int = 48) -> list[dict[str, Any]]:
    """Per station and parameter: latest reading, the last `points` values and a status (for
    screens). Given an engine (a screen's poll), each station is read in its own short unit of work
    so that a listener's writes are not held up."""
    from sqlalchemy.engine import Engine

    from incident.stations._overview import station_overview as _overview
    from incident.stations._overview import station_overview_engine

    if isinstance(session_or_engine, Engine):
        return station_overview_engine(session_or_engine, points=points)
    return _overview(session_or_engine, points=points)


def sparkline(values: list[Any], width: int = 24) -> str:
    """Block-character sparkline of the last `width` values (None: a gap)."""
    from incident.stations._overview import sparkline as _spark

    return _spark(values, width)


def _row(session: Session, code: str) -> dict[str, Any]:
    return next(r for r in alerts(session) if r["code"] == code)


def detect_series(engine: Engine, touched: set[tuple[int, str]], *, actor: str) -> list[str]:
    """Run detection on the given (station id, parameter) series, each up to its latest reading;
    returns the codes of alerts opened or extended."""
    from incident.stations._alerts import scan_engine

    if not touched:
        return []
    return scan_engine(engine, set(touched), actor=actor)


_CHILD_ENGINES: dict[str, Engine] = {}


def detect_series_at(url: str, touched: set[tuple[int, str]], actor: str) -> list[str]:
    """`detect_series` on the database at `url` (for the listener's detection process; the engine
    is made once per process)."""
    from incident.core.store.engine import make_engine

    engine = _CHILD_ENGINES.get(url)
    if engine is None:
        engine = _CHILD_ENGINES[url] = make_engine(url)
    return detect_series(engine, touched, actor=actor)


def listener(
    engine: Engine,
    *,
    actor: str,
    host: str = "127.0.0.1",
    port: int = 0,
    detect: bool = True,
    detect_s: float = 60.0,
) -> Listener:
    """An HJ 212 TCP listener (asyncio); ``await listener.start()`` / ``stop()`` or ``serve_forever()``.
    Packets are stored within about 0.2 s; detection runs every `detect_s` on the series written since."""
    from incident.stations._listener import Listener

    return Listener(
        engine,
        actor=actor,
        host=host,
        port=port,
        detect=detect,
        store=ingest_packets,
        detect_s=detect_s,
        detector=detect_series,
        detector_in_child=detect_series_at,
    )
