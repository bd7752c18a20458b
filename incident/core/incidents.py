"""Incidents: create, find, list. Exercises never mix with real incidents."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, select

from incident.core import log
from incident.core.clock import utcnow
from incident.core.errors import UserError
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
    n = session.exec(select(func.count()).select_from(Incident).where(Incident.code.like(like))).one()
    return f"{prefix}-{year}-{n + 1:04d}"


def _check_numbers(spec: NewIncident) -> None:
    """Coordinates in range and amounts finite and not negative; never a guess."""
    for name, low, high in (("source_lat", -90.0, 90.0), ("source_lon", -180.0, 180.0)):
        value = getattr(spec, name)
        if value is not None and not (math.isfinite(value) and low <= value <= high):
            raise UserError(
                f"{name} {value!r} is not a {name.split('_')[1]}itude",
                where=name,
                fix=f"give WGS84 decimal degrees between {low:g} and {high:g} (e.g. 24.68539, 109.32543)",
            )
    if (spec.source_lat is None) != (spec.source_lon is None):
        raise UserError(
            "only one of latitude and longitude is given",
            where="source_lat/source_lon",
            fix="give both, or neither if the source position is not known yet",
        )
    for name, unit in (("mass_kg", "kg"), ("release_duration_h", "h"), ("decay_per_day", "per day")):
        value = getattr(spec, name)
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise UserError(
                f"{name} {value!r} is not a usable amount",
                where=name,
                fix=f"give a finite number of {unit}, 0 or more (leave it empty if unknown)",
            )


def create_incident(session: Session, spec: NewIncident, *, actor: str) -> Incident:
    if not spec.title.strip():
        raise UserError("the incident has no title", where="title", fix="describe the event in a few words")
    if spec.medium not in MEDIA:
        raise UserError(
            f"unknown medium {spec.medium!r}", where="medium", fix=f"use one of {', '.join(MEDIA)}"
        )
    if spec.pollutant_class is not None and spec.pollutant_class not in POLLUTANT_CLASSES:
        raise UserError(
            f"unknown pollutant class {spec.pollutant_class!r}",
            where="pollutant_class",
            fix=f"use one of {', '.join(POLLUTANT_CLASSES)}",
        )
    if spec.mass_kg is not None and spec.mass_kg < 0:
        raise UserError(
            f"mass {spec.mass_kg:g} kg is negative",
            where="mass_kg",
            fix="give the amount lost as a positive number of kilograms (0 if unknown)",
        )
    _check_numbers(spec)
    now = utcnow()
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
                f"the source is {snap.distance_off_m / 1000:.1f} km from the river (nearest: reach {snap.reach_id})",
                where="source_lat/source_lon",
                fix="check the coordinates are WGS84 decimal degrees (GPS, not GCJ-02 map coordinates)",
            )
        row.source_reach, row.source_km, row.source_offset_m = snap.reach_id, snap.km, snap.distance_off_m
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
    return list(session.exec(q.order_by(Incident.alert_at.desc())))


def get_incident(session: Session, code_or_id: str | int) -> Incident:
    row = None
    if isinstance(code_or_id, int) or str(code_or_id).isdigit():
        row = session.get(Incident, int(code_or_id))
    if row is None:
        row = session.exec(select(Incident).where(Incident.code == str(code_or_id))).first()
    if row is None:
        raise UserError(f"no incident {code_or_id!r}", fix="run `incident list` to see incident codes")
    return row


# ---------------------------------------------------------------- exercises: marked exports, read-only after ENDEX

EXERCISE_FILE_MARK = "EXERCISE"


def exercise_path(path: str | Path, is_exercise: bool) -> Path:
    """The file an export of an exercise is written to: its name carries EXERCISE (prefixed when missing)."""
    p = Path(path)
    if is_exercise and EXERCISE_FILE_MARK not in p.name.upper():
        return p.with_name(f"{EXERCISE_FILE_MARK}-{p.name}")
    return p


def refuse_if_ended(inc: Incident, action: str) -> None:
    """After ENDEX an exercise is read-only: ``action`` (dispatch, a result, a plan change...) is refused."""
    if inc.is_exercise and inc.status == "closed":
        raise UserError(
            f"exercise {inc.code} has ended (ENDEX): it is read-only, {action} refused",
            where=inc.code,
            fix="exports and the after-action report still work; start a new drill to play again",
        )
