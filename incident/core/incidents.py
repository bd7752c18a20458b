"""Incidents: create, find, list. Exercises never mix with real incidents."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func
from sqlmodel import Session, col, select

from incident.core import accounts, log
from incident.core.clock import as_utc, refuse_future, utcnow
from incident.core.errors import UserError
from incident.core.files import file_path
from incident.core.networks import load_network
from incident.core.store.tables import Incident

MEDIA = ("water", "air", "soil", "other")
POLLUTANT_CLASSES = ("heavy_metal", "organic", "oil", "other")


@dataclass
class NewIncident:
    title: str
    alert_at: datetime
    river_network_id: int | None = None
    title_zh: str | None = None
    medium: str = "water"
    is_exercise: bool = False
    source_lat: float | None = None
    source_lon: float | None = None
    source_reach: str | None = None  # or a reach and km on the river instead of lat/lon
    source_km: float | None = None
    substance: str | None = None
    pollutant_class: str | None = None
    mass_kg: float | None = None
    release_start: datetime | None = None
    release_duration_h: float | None = None
    decay_per_day: float | None = None
    description: str = ""
    exercise_scenario_json: str | None = None


def _next_code(session: Session, prefix: str, year: int) -> str:
    like = f"{prefix}-{year}-%"
    n = session.exec(select(func.count()).select_from(Incident).where(col(Incident.code).like(like))).one()
    return f"{prefix}-{year}-{n + 1:04d}"


def _check_numbers(spec: NewIncident) -> None:
    """Coordinates in range and amounts finite and not negative; never a guess."""
    for name, low, high in (("source_lat", -90.0, 90.0), ("source_lon", -180.0, 180.0)):
        value = getattr(spec, name)
        if value is not None and not (math.isfinite(value) and low <= value <= high):
            if name == "source_lat":
                raise UserError(
                    "errors.core.not_latitude", field=name, name=name, value=repr(value), low=low, high=high
                )
            raise UserError(
                "errors.core.not_longitude", field=name, name=name, value=repr(value), low=low, high=high
            )
    if (spec.source_reach is None) != (spec.source_km is None):
        raise UserError("errors.incident.reach_km_pair", field="source_reach")
    if spec.source_km is not None and not math.isfinite(spec.source_km):
        raise UserError("errors.incident.km_not_number", field="source_km", km=repr(spec.source_km))
    if spec.source_reach is not None and spec.source_lat is not None:
        raise UserError("errors.incident.reach_and_latlon", field="source_lat")
    if (spec.source_lat is None) != (spec.source_lon is None):
        raise UserError("errors.core.only_one_latitude_longitude", where="source_lat/source_lon")
    for name, unit in (("mass_kg", "kg"), ("release_duration_h", "h"), ("decay_per_day", "per day")):
        value = getattr(spec, name)
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise UserError(
                "errors.core.not_usable_amount", field=name, name=name, value=repr(value), unit=unit
            )


def create_incident(session: Session, spec: NewIncident, *, actor: str) -> Incident:
    if not spec.title.strip():
        raise UserError("errors.core.incident_has_no_title", field="title")
    if spec.medium not in MEDIA:
        raise UserError(
            "errors.core.unknown_medium", field="medium", medium=repr(spec.medium), value=", ".join(MEDIA)
        )
    if spec.pollutant_class is not None and spec.pollutant_class not in POLLUTANT_CLASSES:
        raise UserError(
            "errors.core.unknown_pollutant_class",
            field="pollutant_class",
            pollutant_class=repr(spec.pollutant_class),
            value=", ".join(POLLUTANT_CLASSES),
        )
    if spec.mass_kg is not None and spec.mass_kg < 0:
        raise UserError("errors.core.mass_kg_negative", field="mass_kg", mass_kg=spec.mass_kg)
    _check_numbers(spec)
    # an exercise incident is opened by drills.start_drill, under the exercise controller's role
    accounts.require(session, "drill.control" if spec.is_exercise else "incident.open")
    now = utcnow()
    refuse_future(spec.alert_at, now=now, where="alert_at", what="the alert time")
    prefix = "EX" if spec.is_exercise else "INC"
    row = Incident(
        code=_next_code(session, prefix, spec.alert_at.year),
        created_at=now,
        created_by=actor,
        **{k: v for k, v in spec.__dict__.items()},
    )
    if spec.river_network_id is not None and spec.source_lat is not None and spec.source_lon is not None:
        net = load_network(session, spec.river_network_id)
        snap = net.snap(spec.source_lat, spec.source_lon)
        if snap.distance_off_m > 2000:
            raise UserError(
                "errors.core.source_km_river_nearest",
                where="source_lat/source_lon",
                value=snap.distance_off_m / 1000,
                reach_id=snap.reach_id,
            )
        row.source_reach, row.source_km, row.source_offset_m = snap.reach_id, snap.km, snap.distance_off_m
    if spec.source_reach is not None and spec.source_km is not None:
        if spec.river_network_id is None:
            raise UserError("errors.incident.reach_needs_river", field="river")
        net = load_network(session, spec.river_network_id)
        reach = net.reach(spec.source_reach)  # refuses an unknown reach, naming the known ones
        offset = net.offset_for_km(reach.reach_id, spec.source_km)  # refuses a km off the reach
        row.source_lat, row.source_lon = net.point_at(reach.reach_id, offset)
        row.source_reach, row.source_km, row.source_offset_m = reach.reach_id, spec.source_km, 0.0
    if row.release_start is None:
        row.release_start = spec.alert_at
    session.add(row)
    session.flush()
    log.append(
        session,
        chain=log.incident_chain(row.code),
        actor=actor,
        kind="incident.created",
        incident_id=row.id,
        summary=f"Incident {row.code} opened: {row.title}",
        payload={
            "code": row.code,
            "alert_at": row.alert_at,
            "exercise": row.is_exercise,
            "source_reach": row.source_reach,
            "source_km": row.source_km,
        },
    )
    return row


def list_incidents(
    session: Session, *, exercises: bool = False, include_closed: bool = True
) -> list[Incident]:
    """Real incidents by default; exercises only when asked for (never both mixed)."""
    q = select(Incident).where(Incident.is_exercise == exercises)
    if not include_closed:
        q = q.where(Incident.status != "closed")
    return list(session.exec(q.order_by(col(Incident.alert_at).desc())))


@cache
def _by_code() -> Any:
    """The incident-by-code statement, built once (every service call reads it; building it and its
    cache key anew each time cost a good part of entering one result, issue 19)."""
    return select(Incident).where(Incident.code == bindparam("code"))


def get_incident(session: Session, code_or_id: str | int) -> Incident:
    row = None
    if isinstance(code_or_id, int) or str(code_or_id).isdigit():
        row = session.get(Incident, int(code_or_id))
    if row is None:
        row = session.exec(_by_code(), params={"code": str(code_or_id)}).first()
    if row is None:
        raise UserError("errors.core.no_incident", code_or_id=repr(code_or_id))
    return row


# ---------------------------------------------------------------- exercises: marked exports, read-only after ENDEX

EXERCISE_FILE_MARK = "EXERCISE"


def exercise_path(path: str | Path, is_exercise: bool) -> Path:
    """The file an export of an exercise is written to: its name carries EXERCISE (prefixed when missing)."""
    p = file_path(path) if is_exercise else Path(path)  # a folder has no name to mark
    if is_exercise and EXERCISE_FILE_MARK not in p.name.upper():
        return p.with_name(f"{EXERCISE_FILE_MARK}-{p.name}")
    return p


def refuse_if_ended(inc: Incident, action: str) -> None:
    """After ENDEX an exercise is read-only: ``action`` (dispatch, a result, a plan change...) is refused."""
    if inc.is_exercise and inc.status == "closed":
        raise UserError("errors.exercise.ended", where=inc.code, code=inc.code, action=action)


@dataclass(frozen=True)
class Pollutant:
    key: str  # the parameter key results use (nitrobenzene, cadmium...)
    name: str
    name_zh: str
    pollutant_class: str  # heavy_metal | organic | oil | other: picks the playbook


def pollutants() -> list[Pollutant]:
    """The pollutants a new incident can name (incident/data/pollutants.toml), in file order."""
    from pathlib import Path

    from incident.core.datafiles import read_toml

    data = read_toml(Path(__file__).resolve().parent.parent / "data" / "pollutants.toml")
    entries: dict[str, dict[str, Any]] = {key: v for key, v in data.items() if isinstance(v, dict)}
    return [
        Pollutant(key, v.get("name", key), v.get("name_zh", v.get("name", key)), v.get("class", "other"))
        for key, v in entries.items()
    ]


SPILL_FIELDS = ("mass_kg", "release_start", "release_duration_h")


@dataclass(frozen=True)
class SpillVersion:
    version: int  # 1 = as opened; each amendment adds one
    before: dict[str, Any]  # mass_kg, release_start, release_duration_h
    after: dict[str, Any]


def spill_of(inc: Incident) -> dict[str, Any]:
    out = {name: getattr(inc, name) for name in SPILL_FIELDS}
    if out["release_start"] is not None:
        out["release_start"] = as_utc(out["release_start"])
    return out


def spill_version(session: Session, code: str) -> int:
    """1 for the spill as reported when the incident was opened, +1 per amendment (from the log)."""
    from incident.core.store.tables import LogEntry

    inc = get_incident(session, code)
    n = session.exec(
        select(func.count())
        .select_from(LogEntry)
        .where(LogEntry.chain == log.incident_chain(inc.code), LogEntry.kind == "incident.spill_amended")
    ).one()
    return int(n) + 1


def amend_spill(
    session: Session,
    code: str,
    *,
    mass_kg: float | None,
    release_start: datetime | None,
    release_duration_h: float | None,
    reason: str,
    actor: str,
) -> SpillVersion:
    """A new version of what was spilled, when and for how long: the first reported mass is
    always a guess. The incident keeps the newest values; the log keeps every version
    (before and after, with the reason), so nothing is overwritten silently."""
    inc = get_incident(session, code)
    if not reason.strip():
        raise UserError("errors.spill.no_reason", field="reason")
    spec = NewIncident(
        title=inc.title, alert_at=inc.alert_at, mass_kg=mass_kg, release_duration_h=release_duration_h
    )
    _check_numbers(spec)
    before = spill_of(inc)
    start = release_start or inc.release_start
    after = {"mass_kg": mass_kg, "release_start": as_utc(start) if start is not None else None}
    after["release_duration_h"] = release_duration_h
    if after == before:
        raise UserError("errors.spill.unchanged", field="mass_kg")
    version = spill_version(session, code) + 1
    for name, value in after.items():
        setattr(inc, name, value)
    session.add(inc)
    session.flush()
    log.append(
        session,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind="incident.spill_amended",
        incident_id=inc.id,
        summary=f"Spill amended to version {version}: {reason.strip()}",
        payload={"version": version, "before": before, "after": after, "reason": reason.strip()},
    )
    return SpillVersion(version, before, after)
