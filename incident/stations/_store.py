"""Stations registry and ingest: packets and CSV rows become stored readings, or counted refusals.

Why batches: a listener with 100 stations sends ~100 packets a minute and a replay file may hold a
year; readings are inserted with one executemany per batch, duplicates (a replayed packet) ignored
by the unique (station, time, parameter, interval) index. Each batch is one log entry (source,
counts), since the hash-chained log is for evidence, not for every minute value.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Insert, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from incident.core import log
from incident.core.clock import as_utc, utcnow
from incident.core.errors import UserError
from incident.core.store.engine import session_scope
from incident.core.store.tables import Station, StationReading, StationRejection, row_id
from incident.stations._hj212 import (
    DATA_COMMANDS,
    PARAMETER_CODES,
    is_station_code,
    parse_packet,
)

STATIONS_CHAIN = "stations"
MAX_FUTURE = timedelta(minutes=10)  # a station clock this far ahead of ours is wrong


@dataclass(frozen=True)
class StationInfo:
    id: int
    mn: str
    name: str
    river_network_id: int | None
    reach_id: str | None
    km: float | None
    parameters: tuple[str, ...]
    water_class: str


def _info(row: Station) -> StationInfo:
    assert row.id is not None
    return StationInfo(
        row.id,
        row.mn,
        row.name,
        row.river_network_id,
        row.reach_id,
        row.km,
        tuple(json.loads(row.parameters_json)),
        row.water_class,
    )


def add_station(
    session: Session,
    mn: str,
    *,
    actor: str,
    name: str = "",
    river_network_id: int | None = None,
    reach_id: str | None = None,
    km: float | None = None,
    parameters: Iterable[str] = (),
    water_class: str = "III",
) -> StationInfo:
    """Register a station by its MN code, its place on a stored river network and its parameters."""
    from incident.core.networks import load_network
    from incident.core.standards import check_class

    if not is_station_code(mn):
        raise UserError("stations.add.bad_mn", where="MN", mn=mn)
    if session.exec(select(Station).where(Station.mn == mn)).first() is not None:
        raise UserError("stations.add.exists", where="MN", mn=mn)
    params = tuple(dict.fromkeys(p.strip() for p in parameters if p.strip()))
    unknown = [p for p in params if p not in PARAMETER_CODES]
    if unknown or not params:
        raise UserError(
            "stations.add.bad_parameters",
            field="parameters",
            found=", ".join(unknown) or "-",
            known=", ".join(PARAMETER_CODES),
        )
    water_class = check_class(water_class, where="--class")
    if (reach_id is None) != (km is None):
        raise UserError("stations.add.reach_km", where="--reach/--km")
    if reach_id is not None:
        if river_network_id is None:
            raise UserError("stations.add.no_network", field="river")
        assert km is not None
        if not math.isfinite(km):
            raise UserError("stations.add.reach_km", field="km")
        load_network(session, river_network_id).offset_for_km(reach_id, km)  # refuses a km off the reach
    row = Station(
        mn=mn,
        name=name,
        river_network_id=river_network_id,
        reach_id=reach_id,
        km=km,
        parameters_json=json.dumps(list(params)),
        water_class=water_class,
        created_at=utcnow(),
        created_by=actor,
    )
    session.add(row)
    session.flush()
    log.append(
        session,
        chain=STATIONS_CHAIN,
        actor=actor,
        kind="station.registered",
        summary=f"Station {mn} registered ({reach_id or '-'} km {km if km is not None else '-'})",
        payload={"mn": mn, "reach": reach_id, "km": km, "parameters": list(params), "class": water_class},
    )
    return _info(row)


def list_stations(session: Session) -> list[StationInfo]:
    return [_info(r) for r in session.exec(select(Station).order_by(col(Station.mn)))]


def get_station(session: Session, mn: str) -> StationInfo:
    row = session.exec(select(Station).where(Station.mn == mn)).first()
    if row is None:
        raise UserError("stations.unknown", where="MN", mn=mn)
    return _info(row)


# ---------------------------------------------------------------- ingest


@dataclass
class IngestReport:
    source: str
    packets: int = 0
    readings: int = 0  # rows offered to the store (duplicates of stored rows are ignored)
    stored: int = 0
    ignored_values: int = 0  # codes the project does not map
    rejected: Counter[Any] = field(default_factory=Counter[Any])  # reason -> count
    touched: set[tuple[int, str]] = field(default_factory=set)  # (station id, parameter) with new data
    first_at: datetime | None = None
    last_at: datetime | None = None

    @property
    def n_rejected(self) -> int:
        return sum(self.rejected.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "packets": self.packets,
            "readings": self.readings,
            "stored": self.stored,
            "ignored_values": self.ignored_values,
            "rejected": self.n_rejected,
            "rejected_by_reason": dict(self.rejected),
        }


class Ingestor:
    """Turns packets into reading rows for one unit of work; keeps the station table in memory."""

    def __init__(self, session: Session, report: IngestReport, *, max_age: timedelta | None = None) -> None:
        self.session = session
        self.report = report
        self.max_age = max_age
        self.stations = {r.mn: (row_id(r), r.water_class) for r in session.exec(select(Station))}
        self.rows: list[dict[str, Any]] = []
        self.rejections: list[dict[str, Any]] = []
        self.now = utcnow()

    def reject(self, where: str, err: UserError, packet: str, mn: str | None = None) -> None:
        reason = err.problem
        self.report.rejected[reason.split(":")[0][:60]] += 1
        self.rejections.append(
            {"at": self.now, "source": where, "mn": mn, "reason": err.render()[:500], "packet": packet[:200]}
        )

    def packet(self, raw: bytes | str, where: str) -> None:
        self.report.packets += 1
        text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else raw
        try:
            p = parse_packet(raw)
        except UserError as err:
            self.reject(where, err, text)
            return
        try:
            if not p.is_data:
                raise UserError(
                    "stations.ingest.not_data", where="CN", cn=p.cn, commands=", ".join(DATA_COMMANDS)
                )
            if p.mn not in self.stations:
                raise UserError("stations.unknown", where="MN", mn=p.mn)
            assert p.data_time is not None and p.interval is not None
            self.check_time(p.data_time)
        except UserError as err:
            self.reject(where, err, text, p.mn)
            return
        station_id, _ = self.stations[p.mn]
        for r in p.readings:
            if r.parameter is None:
                self.report.ignored_values += 1
                continue
            self.add(station_id, p.data_time, r.parameter, p.interval, r.value, r.flag)

    def check_time(self, at: datetime) -> None:
        if at > self.now + MAX_FUTURE or (self.max_age is not None and at < self.now - self.max_age):
            raise UserError(
                "stations.ingest.time_far",
                where="DataTime",
                at=at.isoformat(timespec="minutes"),
                now=self.now.isoformat(timespec="minutes"),
            )

    def add(
        self, station_id: int, at: datetime, parameter: str, interval: str, value: float | None, flag: str
    ) -> None:
        self.rows.append(
            {
                "station_id": station_id,
                "at": at,
                "parameter": parameter,
                "interval": interval,
                "value": value,
                "flag": flag,
                "received_at": self.now,
            }
        )
        self.report.readings += 1
        self.report.touched.add((station_id, parameter))
        self.report.first_at = at if self.report.first_at is None else min(self.report.first_at, at)
        self.report.last_at = at if self.report.last_at is None else max(self.report.last_at, at)

    def flush(self, *, actor: str) -> None:
        if self.rows:
            self.report.stored += insert_readings(self.session, self.rows)
            self.rows = []
        if self.rejections:
            self.session.execute(insert(StationRejection), self.rejections)
            self.rejections = []


def insert_readings(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert reading rows, ignoring ones already stored; returns how many were new."""
    dialect = session.get_bind().dialect.name
    stmt: Insert
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        stmt = postgresql_insert(StationReading).on_conflict_do_nothing()
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(StationReading).on_conflict_do_nothing()
    result = session.connection().execute(stmt, rows)
    return result.rowcount if result.rowcount >= 0 else len(rows)


def _log_batch(session: Session, report: IngestReport, actor: str) -> None:
    log.append(
        session,
        chain=STATIONS_CHAIN,
        actor=actor,
        kind="stations.ingested",
        summary=f"{report.source}: {report.stored} reading(s) stored, {report.n_rejected} packet(s) refused",
        payload=report.as_dict(),
    )


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    try:
        with path.open("rb") as head:
            gz = head.read(2) == b"\x1f\x8b"
        opener = gzip.open if gz else open
        with opener(path, "rb") as fh:
            for lineno, line in enumerate(fh, start=1):
                if line.strip():
                    yield lineno, line.strip()
    except FileNotFoundError:
        raise UserError("stations.ingest.no_file", where=str(path), path=path) from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise UserError("stations.ingest.unreadable", where=str(path), error=str(exc)) from None


BATCH = 5000


def ingest_file(engine: Engine, path: str | Path, *, actor: str) -> IngestReport:
    """Replay HJ 212 packets from a file (one per line, gzip allowed)."""
    path = Path(path)
    report = IngestReport(source=str(path))
    with session_scope(engine) as session:
        ing = Ingestor(session, report)
        for lineno, raw in _lines(path):
            ing.packet(raw, f"{path.name}:{lineno}")
            if len(ing.rows) >= BATCH:
                ing.flush(actor=actor)
        ing.flush(actor=actor)
        _log_batch(session, report, actor)
    return report


def ingest_packets(
    engine: Engine,
    packets: Iterable[tuple[str, bytes | str]],
    *,
    actor: str,
    source: str,
    max_age: timedelta | None = None,
) -> IngestReport:
    """Store packets given as (where, raw) in one unit of work (the listener's batches)."""
    report = IngestReport(source=source)
    with session_scope(engine) as session:
        ing = Ingestor(session, report, max_age=max_age)
        for where, raw in packets:
            ing.packet(raw, where)
        ing.flush(actor=actor)
        _log_batch(session, report, actor)
    return report


CSV_COLUMNS = ("mn", "time", "parameter", "value")


def ingest_csv(engine: Engine, path: str | Path, *, actor: str) -> IngestReport:
    """Readings from CSV: mn, time (local), parameter (key or HJ 212 code), value[, flag][, interval].

    Unlike a stream of packets, a CSV is checked whole: any bad row refuses the file (nothing stored)."""
    from pydantic import ValidationError

    from incident.core.errors import ValidationErrors
    from incident.core.inputs import refusals
    from incident.stations._hj212 import StationCsvRow

    fields = set(StationCsvRow.model_fields)
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError("stations.ingest.no_file", where=str(path), path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError("stations.ingest.unreadable", where=str(path), error=str(exc)) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise UserError(
            "stations.csv.columns",
            where=f"{path}: line 1",
            missing=", ".join(missing),
            columns=", ".join(CSV_COLUMNS),
        )
    report = IngestReport(source=str(path))
    problems: list[UserError] = []
    with session_scope(engine) as session:
        ing = Ingestor(session, report)
        for lineno, raw in enumerate(reader, start=2):
            row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
            where = f"{path}: line {lineno}"
            cells = {k: v for k, v in row.items() if k in fields and (v or k in CSV_COLUMNS)}
            try:
                parsed = StationCsvRow.model_validate(cells)
            except ValidationError as exc:
                problems += refusals(exc, where=_column_at(where), field_name=_no_field)
                continue
            try:
                if parsed.mn not in ing.stations:
                    raise UserError("stations.unknown", where=f"{where}: mn", mn=parsed.mn)
                ing.check_time(as_utc(parsed.time))
                ing.add(
                    ing.stations[parsed.mn][0],
                    as_utc(parsed.time),
                    parsed.parameter,
                    parsed.interval,
                    parsed.value,
                    parsed.flag,
                )
            except UserError as err:
                problems.append(err)
        if problems:
            raise ValidationErrors(str(path), problems)
        ing.flush(actor=actor)
        _log_batch(session, report, actor)
    return report


def _column_at(where: str) -> Any:
    """``readings.csv: line 4: value`` for a problem in a row's column."""
    return lambda loc: f"{where}: {loc[0]}" if loc else where


def _no_field(loc: tuple[Any, ...]) -> str:
    return ""  # the column is named in ``where``


def rejection_counts(session: Session) -> dict[str, int]:
    from sqlalchemy import func

    rows = session.exec(select(StationRejection.mn, func.count()).group_by(StationRejection.mn)).all()
    return {mn or "?": n for mn, n in rows}


def station_day(session: Session, mn: str, day_start: datetime) -> list[StationReading]:
    """Every reading of one station over 24 h from ``day_start`` (one index range scan)."""
    station = get_station(session, mn)
    start = as_utc(day_start)
    q = (
        select(StationReading)
        .where(StationReading.station_id == station.id)
        .where(StationReading.at >= start)
        .where(StationReading.at < start + timedelta(days=1))
        .order_by(col(StationReading.at))
    )
    return list(session.exec(q))
