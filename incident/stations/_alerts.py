"""Detection on stored readings, and early-warning alerts with their evidence and likely source.

One event, one alert: an event at another parameter or another station of the same river network
whose first abnormal reading falls within MERGE_WINDOW of the alert's joins it (deduplication).
When two or more stations have seen it, the source trace (models.trace via the plume room) runs on
their series: excess over baseline above 3σ is a detection, below it a non-detect with 3σ as its
limit, so quiet stations upstream rule candidates out.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from incident.core import log
from incident.core.clock import as_utc, utcnow
from incident.core.store.tables import Station, StationAlert, StationReading
from incident.stations._hj212 import PARAMETER_CODES, WATER_CODES

if TYPE_CHECKING:  # numpy stays out of start-up: the module imports it inside functions
    import numpy as np
    from sqlalchemy.engine import Engine

    from models.detect import Detection, DetectorSettings, Event
from incident.stations._store import STATIONS_CHAIN

LOOKBACK = timedelta(days=3)  # readings a detection looks at (the diurnal profile needs 2 days)
MERGE_WINDOW = timedelta(hours=12)
JOINABLE = ("open", "acknowledged", "promoted")  # statuses whose alert a new event may join
EVIDENCE_READINGS = 24
TRACE_WINDOW = timedelta(hours=12)  # readings before the first abnormal one that go to the trace
INTERVAL_ORDER = ("realtime", "minute", "hourly", "daily")
RISK_SOURCE_KM = 5.0  # a registered risk source this close to a candidate place is listed
RISK_SOURCE_CANDIDATES = 3  # the top candidates whose neighbourhood is searched

#: which way pollution moves each parameter; the floor of σ (instrument resolution)
DIRECTION = {"dissolved_oxygen": -1, "ph": 0, "water_temperature": 0}
SIGMA_FLOOR = {"ph": 0.02, "water_temperature": 0.05, "conductivity": 2.0, "turbidity": 1.0}
#: GB 3838-2002 Table 1 limits for station parameters the standards file does not carry
#: (dissolved oxygen is a lower limit; permanganate index and total nitrogen upper limits)
EXTRA_LIMITS = {
    "dissolved_oxygen": {"I": 7.5, "II": 6.0, "III": 5.0, "IV": 3.0, "V": 2.0},
    "permanganate_index": {"I": 2.0, "II": 4.0, "III": 6.0, "IV": 10.0, "V": 15.0},
    "total_nitrogen": {"I": 0.2, "II": 0.5, "III": 1.0, "IV": 1.5, "V": 2.0},
}


def class_limit(parameter: str, water_class: str) -> float | None:
    from incident.core.standards import parameters

    known = parameters().get(parameter)
    if known is not None:
        return known.limit_for(water_class)
    return EXTRA_LIMITS.get(parameter, {}).get(water_class)


def settings_for(parameter: str) -> DetectorSettings:
    from models.detect import DetectorSettings

    return DetectorSettings(
        direction=DIRECTION.get(parameter, 1), sigma_floor=SIGMA_FLOOR.get(parameter, 0.0)
    )


def _hours(at: datetime) -> float:
    """Hours since a local (UTC+8) midnight: the detector's clock, so t mod 24 is the local hour."""
    return (as_utc(at).timestamp() + 8 * 3600.0) / 3600.0


@dataclass
class Series:
    station: Station
    parameter: str
    at: list[datetime]
    t_h: np.ndarray
    value: np.ndarray
    breaks: np.ndarray
    detection: Detection


def load_series(session: Session, station: Station, parameter: str, until: datetime) -> Series | None:
    return make_series(station, parameter, read_rows(session, station, parameter, until))


def read_rows(session: Session, station: Station, parameter: str, until: datetime) -> list[Any]:
    """The readings detection looks at: (at, value, flag, interval), LOOKBACK up to `until`."""
    return list(
        session.exec(
            select(StationReading.at, StationReading.value, StationReading.flag, StationReading.interval)
            .where(StationReading.station_id == station.id)
            .where(StationReading.at > until - LOOKBACK)
            .where(StationReading.at <= until)
            .where(StationReading.parameter == parameter)
            .order_by(col(StationReading.at))
        ).all()
    )


def make_series(station: Station, parameter: str, rows: list[Any]) -> Series | None:
    """Detection on rows read by `read_rows` (no database: runs outside any transaction)."""
    import numpy as np

    from models.detect import detect

    if not rows:
        return None
    finest = min((r[3] for r in rows), key=INTERVAL_ORDER.index)
    rows = [r for r in rows if r[3] == finest]
    at = [as_utc(r[0]) for r in rows]
    valid = [r[2] == "N" and r[1] is not None for r in rows]
    value = np.array([r[1] if ok else np.nan for r, ok in zip(rows, valid, strict=True)], dtype=float)
    flags = [r[2] for r in rows]
    breaks = np.zeros(len(rows), dtype=bool)
    for i in range(1, len(rows)):
        # the first valid reading after maintenance or calibration restarts the level
        if valid[i] and flags[i - 1] in ("M", "C"):
            breaks[i] = True
    t_h = np.array([_hours(a) for a in at])
    det = detect(
        t_h,
        value,
        settings_for(parameter),
        limit=class_limit(parameter, station.water_class),
        breaks=breaks,
    )
    return Series(station, parameter, at, t_h, value, breaks, det)


def _evidence(series: Series, ev: Event) -> dict[str, Any]:
    det = series.detection
    lo = max(0, ev.start - 6)
    hi = min(len(series.at), max(ev.alarm + 1, lo + EVIDENCE_READINGS))
    unit = WATER_CODES[PARAMETER_CODES[series.parameter]].unit

    def num(x: Any) -> float | None:
        x = float(x)
        return round(x, 6) if math.isfinite(x) else None

    return {
        "station_mn": series.station.mn,
        "station": series.station.name,
        "reach": series.station.reach_id,
        "km": series.station.km,
        "parameter": series.parameter,
        "unit": unit,
        "kind": ev.kind,
        "sign": ev.sign,
        "first_abnormal_at": series.at[ev.start].isoformat(),
        "detected_at": series.at[ev.alarm].isoformat(),
        "value": num(series.value[ev.alarm]),
        "baseline": num(det.baseline[ev.alarm]),
        "sigma": num(det.sigma[ev.alarm]),
        "cusum": num(det.stat_up[ev.alarm] if ev.sign > 0 else det.stat_down[ev.alarm]),
        "over_limit": ev.over_limit,
        "limit": class_limit(series.parameter, series.station.water_class),
        "readings": [
            {
                "at": series.at[i].isoformat(),
                "value": num(series.value[i]),
                "baseline": num(det.baseline[i]),
                "z": num(det.z[i]),
                "cusum": num(det.stat_up[i] if ev.sign > 0 else det.stat_down[i]),
            }
            for i in range(lo, hi)
        ],
    }


def _next_code(session: Session, year: int) -> str:
    from sqlalchemy import func

    n = session.exec(
        select(func.count()).select_from(StationAlert).where(col(StationAlert.code).like(f"ALR-{year}-%"))
    ).one()
    return f"ALR-{year}-{n + 1:04d}"


def scan(
    session: Session, touched: set[tuple[int, str]], *, actor: str, until: datetime | None = None
) -> list[str]:
    """Run detection on the (station id, parameter) series given; open or extend alerts.

    Idempotent: an event already in an alert's evidence is not added again. Returns the codes of
    alerts opened or extended."""
    changed: list[str] = []
    stations = {s.id: s for s in session.exec(select(Station))}
    for station_id, parameter in sorted(touched):
        station = stations.get(station_id)
        if station is None or parameter not in json.loads(station.parameters_json):
            continue
        end = until or _latest(session, station_id, parameter)
        if end is None:
            continue
        series = load_series(session, station, parameter, end)
        if series is None:
            continue
        for ev in series.detection.events:
            code = _raise(session, series, ev, actor=actor, stations=stations)
            if code and code not in changed:
                changed.append(code)
    return changed


def scan_engine(
    engine: Engine, touched: set[tuple[int, str]], *, actor: str, until: datetime | None = None
) -> list[str]:
    """`scan`, holding the database's write lock only briefly (SQLite sessions take it at BEGIN):
    each series is read in its own short unit of work, detection runs outside any transaction, and
    only a series with events opens a write (to raise or extend its alert). So a listener's writes
    wait at most one series read, never a whole pass."""
    from incident.core.store.engine import session_scope

    with session_scope(engine) as session:
        stations = {s.id: s for s in session.exec(select(Station))}
    changed: list[str] = []
    for station_id, parameter in sorted(touched):
        station = stations.get(station_id)
        if station is None or parameter not in json.loads(station.parameters_json):
            continue
        with session_scope(engine) as session:
            end = until or _latest(session, station_id, parameter)
            rows = read_rows(session, station, parameter, end) if end is not None else []
        series = make_series(station, parameter, rows)
        if series is None or not series.detection.events:
            continue
        with session_scope(engine) as session:
            for ev in series.detection.events:
                code = _raise(session, series, ev, actor=actor, stations=stations)
                if code and code not in changed:
                    changed.append(code)
    return changed


def _latest(session: Session, station_id: int, parameter: str) -> datetime | None:
    from sqlalchemy import func

    return session.exec(
        select(func.max(StationReading.at))
        .where(StationReading.station_id == station_id)
        .where(StationReading.parameter == parameter)
    ).one()


def _raise(
    session: Session, series: Series, ev: Event, *, actor: str, stations: dict[int | None, Station]
) -> str | None:
    first = series.at[ev.start]
    evidence = _evidence(series, ev)
    key = (series.station.mn, series.parameter, evidence["first_abnormal_at"])
    network = series.station.river_network_id
    for alert in session.exec(select(StationAlert)):
        members = json.loads(alert.evidence_json)
        if any((m["station_mn"], m["parameter"], m["first_abnormal_at"]) == key for m in members):
            return None  # already known, whatever became of its alert
        if alert.status not in JOINABLE:
            continue  # a dismissed or closed alert absorbs nothing new
        same_place = any(
            m["station_mn"] == series.station.mn
            or (network is not None and _network_of(stations, m["station_mn"]) == network)
            for m in members
        )
        starts = [datetime.fromisoformat(m["first_abnormal_at"]) for m in members]
        if same_place and min(starts) - MERGE_WINDOW <= first <= max(starts) + MERGE_WINDOW:
            members.append(evidence)
            alert.evidence_json = json.dumps(members)
            alert.updated_at = utcnow()
            if as_utc(first) < as_utc(alert.first_abnormal_at):
                alert.first_abnormal_at = first
            n_stations = len({m["station_mn"] for m in members})
            summary = (
                f"Alert {alert.code}: {series.station.mn} {series.parameter} joins ({n_stations} station(s))"
            )
            if n_stations >= 2 and series.station.mn not in {m["station_mn"] for m in members[:-1]}:
                candidates = _trace(session, alert, members, stations)
                alert.candidates_json = json.dumps(candidates)
                alert.risk_sources_json = json.dumps(
                    risk_sources_for(session, candidates, series.station.river_network_id)
                )
            session.add(alert)
            log.append(
                session,
                chain=STATIONS_CHAIN,
                actor=actor,
                kind="stations.alert.extended",
                summary=summary,
                payload={
                    "code": alert.code,
                    "added": {
                        k: evidence[k]
                        for k in (
                            "station_mn",
                            "parameter",
                            "first_abnormal_at",
                            "detected_at",
                            "value",
                            "baseline",
                        )
                    },
                },
            )
            return alert.code
    now = utcnow()
    alert = StationAlert(
        code=_next_code(session, as_utc(first).year),
        first_abnormal_at=first,
        detected_at=series.at[ev.alarm],
        opened_at=now,
        station_mn=series.station.mn,
        parameter=series.parameter,
        value=evidence["value"] if evidence["value"] is not None else math.nan,
        baseline=evidence["baseline"] if evidence["baseline"] is not None else math.nan,
        evidence_json=json.dumps([evidence]),
        updated_at=now,
    )
    session.add(alert)
    session.flush()
    log.append(
        session,
        chain=STATIONS_CHAIN,
        actor=actor,
        kind="stations.alert.opened",
        summary=f"Alert {alert.code}: {series.station.mn} {series.parameter} {evidence['value']} (baseline {evidence['baseline']})",
        payload={
            k: evidence[k]
            for k in (
                "station_mn",
                "parameter",
                "first_abnormal_at",
                "detected_at",
                "value",
                "baseline",
                "sigma",
                "cusum",
                "kind",
            )
        },
    )
    return alert.code


def _network_of(stations: dict[int | None, Station], mn: str) -> int | None:
    for s in stations.values():
        if s.mn == mn:
            return s.river_network_id
    return None


def _trace(
    session: Session, alert: StationAlert, members: list[dict[str, Any]], stations: dict[int | None, Station]
) -> list[dict[str, Any]]:
    """Top candidate sources from the series of every station of the network for the alert's parameter."""
    import numpy as np

    from incident.core.errors import UserError
    from incident.core.networks import load_network
    from incident.plume import trace_records

    parameter = members[0]["parameter"]
    seen = [s for s in stations.values() if s.mn in {m["station_mn"] for m in members}]
    network = seen[0].river_network_id
    if network is None:
        return []
    net = load_network(session, network)
    first = min(datetime.fromisoformat(m["first_abnormal_at"]) for m in members)
    last = max(datetime.fromisoformat(m["detected_at"]) for m in members)
    until = last + timedelta(hours=2)
    places: dict[str, tuple[str, float]] = {}
    records: list[tuple[str, datetime, float, float, bool]] = []
    for st in stations.values():
        if st.river_network_id != network or st.reach_id is None or st.km is None:
            continue
        if parameter not in json.loads(st.parameters_json):
            continue
        series = load_series(session, st, parameter, until)
        if series is None:
            continue
        det = series.detection
        keep = [i for i, a in enumerate(series.at) if first - TRACE_WINDOW <= a <= until]
        keep = keep[:: max(1, len(keep) // 60)]
        for i in keep:
            v, b, s = float(series.value[i]), float(det.baseline[i]), float(det.sigma[i])
            if not (math.isfinite(v) and math.isfinite(b) and math.isfinite(s)):
                continue
            dl = 3.0 * s
            excess = v - b
            records.append((st.mn, series.at[i], max(excess, 0.0), dl, bool(excess < dl)))
        places[st.mn] = (st.reach_id, net.offset_for_km(st.reach_id, st.km))
    if not records:
        return []
    try:
        report = trace_records(net, places, records, source=alert.code, top=5)
    except UserError:
        return []
    del np
    return [
        {
            "rank": c.rank,
            "reach": c.reach_id,
            "km": round(c.km, 2),
            "release_at": c.release.astimezone(UTC).isoformat(),
            "weight": round(c.weight, 4),
            "mass_kg": round(c.mass_kg, 3),
        }
        for c in report.candidates
    ]


def risk_sources_for(
    session: Session, candidates: list[dict[str, Any]], network_id: int | None
) -> list[dict[str, Any]]:
    """Registered risk sources (the pre-plan register) within RISK_SOURCE_KM of the top
    RISK_SOURCE_CANDIDATES candidate places, each once (with the best-ranked candidate it is near and
    its distance from it along the river), by that rank then distance."""
    from incident.core.errors import UserError
    from incident.core.networks import load_network
    from incident.preplan import risk_sources_near

    if not candidates or network_id is None:
        return []
    net = load_network(session, network_id)
    found: dict[str, dict[str, Any]] = {}
    for cand in candidates[:RISK_SOURCE_CANDIDATES]:
        lat: float | None
        lon: float | None
        try:
            lat, lon = net.point_at(cand["reach"], net.offset_for_km(cand["reach"], cand["km"]))
        except (KeyError, ValueError, UserError):
            lat = lon = None
        for src in risk_sources_near(
            session, cand["reach"], cand["km"], lat=lat, lon=lon, within_km=RISK_SOURCE_KM
        ):
            if src["id"] not in found:  # near the best-ranked candidate it is near
                found[src["id"]] = src | {"near_candidate": cand["rank"]}
    return sorted(found.values(), key=lambda r: (r["near_candidate"], r["distance_km"], r["id"]))


def _incident_code(session: Session, incident_id: int | None) -> str | None:
    from incident.core.store.tables import Incident

    row = session.get(Incident, incident_id) if incident_id is not None else None
    return row.code if row is not None else None


def alert_rows(session: Session, *, status: str | None = None) -> list[dict[str, Any]]:
    """Alerts as JSON-ready dicts (what `incident alerts list --json` prints)."""
    q = select(StationAlert).order_by(col(StationAlert.first_abnormal_at))
    if status:
        q = q.where(StationAlert.status == status)
    from incident.stations._actions import dismissal_reasons

    reasons = dismissal_reasons(session)
    out = []
    for a in session.exec(q):
        members = json.loads(a.evidence_json)
        out.append(
            {
                "code": a.code,
                "status": a.status,
                "station_mn": a.station_mn,
                "parameter": a.parameter,
                "first_abnormal_at": as_utc(a.first_abnormal_at).isoformat(),
                "detected_at": as_utc(a.detected_at).isoformat(),
                "value": a.value,
                "baseline": a.baseline,
                "stations": sorted({m["station_mn"] for m in members}),
                "parameters": sorted({m["parameter"] for m in members}),
                "evidence": members,
                "candidates": json.loads(a.candidates_json),
                "risk_sources": json.loads(a.risk_sources_json),
                "incident": _incident_code(session, a.incident_id),
                "dismissed_reason": reasons.get(a.code),
            }
        )
    return out
