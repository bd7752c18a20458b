"""ICS 211, the incident check-in list: every crew checked in to the incident, with every FEMA column.

Blocks: 1 incident name, 2 check-in location, 3 start date/time; per resource
(block 4): state, agency, category, kind, type, resource name or identifier,
order/request number, date/time of check-in, leader's name, total number of
personnel, contact information, (block 5) home unit/agency, (6) departure point
and date/time, (7) method of travel, (8) incident assignment, (9) other
qualifications, (10) sent to RESTAT time and initials; 11 prepared by (name,
position/title, signature, date/time).

The incident assignment comes from the crew's dispatched route (ICS 204
lines: round and ordered stops), since a crew checks in before it is routed;
"sent to RESTAT" is when the check-in was logged, and by whom. The check-in
rows themselves are evidence and are never rewritten.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from incident.core import log
from incident.core.clock import as_utc, fmt_local, utcnow
from incident.core.incidents import EXERCISE_FILE_MARK, get_incident
from incident.core.store.tables import (
    Assignment,
    CheckIn,
    Crew,
    Equipment,
    Kit,
    Responder,
    SamplingPoint,
    SamplingRound,
    row_id,
)
from incident.sampling.ics_forms import SIGNATURE_LINE

STATUS_TEXT = {"available": "Available", "assigned": "Assigned", "out_of_service": "Out of service"}


@dataclass
class Ics211Row:
    state: str  # the resource's ICS status now (Available / Assigned / Out of service)
    agency: str
    category: str
    kind: str
    type: str
    resource: str  # name or identifier (crew, vehicle tag)
    order_request: str
    checked_in_at: datetime
    leader: str
    total_persons: int
    contact: str
    home_unit: str
    departure_point: str
    departure_at: datetime | None
    travel_method: str
    assignment: str
    qualifications: str
    restat_at: datetime | None
    restat_initials: str


@dataclass
class Ics211Form:
    code: str
    is_exercise: bool
    incident_name: str
    location: str
    start_at: datetime | None
    prepared_by: str
    position: str
    prepared_at: datetime
    rows: list[Ics211Row] = field(default_factory=list)


def initials(name: str) -> str:
    parts = [p for p in name.replace("-", " ").split() if p]
    return "".join(p[0].upper() for p in parts) if parts else ""


def route_text(session: Session, incident_id: int, crew_id: int) -> str:
    """The crew's latest dispatched route: ``round 1: S1 → S3 → W1 (first ETA 10:05)`` (``route:`` without rounds)."""
    rows = list(
        session.exec(
            select(Assignment).where(Assignment.incident_id == incident_id, Assignment.crew_id == crew_id)
        )
    )
    if not rows:
        return ""
    latest = max(as_utc(a.created_at) for a in rows)
    route = sorted((a for a in rows if as_utc(a.created_at) == latest), key=lambda a: a.stop)
    points = {
        p.id: p.number
        for p in session.exec(
            select(SamplingPoint).where(col(SamplingPoint.id).in_([a.point_id for a in route]))
        )
    }
    rnd = session.get(SamplingRound, route[0].round_id) if route[0].round_id else None
    head = f"round {rnd.number}: " if rnd is not None else "route: "
    return (
        head
        + " → ".join(points.get(a.point_id, "?") for a in route)
        + f" (first ETA {fmt_local(route[0].eta, with_date=False)})"
    )


def _restat(session: Session, code: str) -> dict[int, tuple[datetime, str]]:
    """Check-in id → (logged at, by whom) from the incident's log."""
    out: dict[int, tuple[datetime, str]] = {}
    for e in log.entries(session, log.incident_chain(code)):
        if e.kind != "crew.checked_in":
            continue
        try:
            payload = json.loads(e.payload_json)
        except ValueError:
            continue
        if (
            isinstance(payload, dict)
            and payload.get("table") == "checkin"
            and isinstance(payload.get("id"), int)
        ):
            out[payload["id"]] = (as_utc(e.at), e.actor)
    return out


def build_ics211(
    session: Session, code: str, *, prepared_by: str, position: str = "", location: str = ""
) -> Ics211Form:
    inc = get_incident(session, code)
    checkins = list(
        session.exec(select(CheckIn).where(CheckIn.incident_id == inc.id).order_by(col(CheckIn.at)))
    )
    restat = _restat(session, inc.code)
    person = session.exec(select(Responder).where(Responder.name == prepared_by)).first()
    form = Ics211Form(
        code=inc.code,
        is_exercise=inc.is_exercise,
        incident_name=f"{inc.code} · {inc.title}",
        location=location or _default_location(checkins),
        start_at=as_utc(checkins[0].at) if checkins else None,
        prepared_by=prepared_by,
        position=position or (person.role.replace("_", " ") if person is not None else ""),
        prepared_at=utcnow(),
    )
    for c in checkins:
        crew = session.get(Crew, c.crew_id)
        leader = session.get(Responder, crew.leader_id) if crew and crew.leader_id else None
        vehicle = session.get(Equipment, crew.vehicle_id) if crew and crew.vehicle_id else None
        kit = session.get(Kit, crew.kit_id) if crew and crew.kit_id else None
        at, by = restat.get(row_id(c)) or (None, "")
        name = crew.name if crew else f"crew #{c.crew_id}"
        form.rows.append(
            Ics211Row(
                state=STATUS_TEXT.get(crew.status, crew.status) if crew else "",
                agency=c.home_unit or (leader.home_unit if leader else ""),
                category="Personnel and vehicle" if vehicle else "Personnel",
                kind="Emergency water-monitoring team",
                type=kit.name if kit else "no kit",
                resource=name + (f" / {vehicle.asset_tag}" if vehicle else ""),
                order_request=f"{inc.code}-CI{c.id:03d}",
                checked_in_at=as_utc(c.at),
                leader=c.leader,
                total_persons=c.headcount,
                contact=leader.phone if leader and leader.phone else "",
                home_unit=(crew.base_name if crew else "") or c.home_unit,
                departure_point=c.departure_point,
                departure_at=as_utc(c.at),
                travel_method=c.travel_method,
                assignment=route_text(session, row_id(inc), c.crew_id)
                or c.assignment
                or "awaiting assignment",
                qualifications=c.qualifications,
                restat_at=at,
                restat_initials=initials(by),
            )
        )
    return form


def _default_location(checkins: list[CheckIn]) -> str:
    first = next((c for c in checkins if c.lat is not None and c.lon is not None), None)
    if first is not None:
        return f"incident command post ({first.lat:.5f}, {first.lon:.5f})"
    return "incident command post"


COLUMNS = [
    "state",
    "agency",
    "category",
    "kind",
    "type",
    "resource",
    "order_request",
    "checked_in_local",
    "leader",
    "total_persons",
    "contact",
    "home_unit",
    "departure_point",
    "departure_local",
    "travel_method",
    "incident_assignment",
    "other_qualifications",
    "sent_to_restat_local",
    "restat_initials",
]


def _cells(r: Ics211Row) -> list[str]:
    return [
        r.state,
        r.agency,
        r.category,
        r.kind,
        r.type,
        r.resource,
        r.order_request,
        fmt_local(r.checked_in_at),
        r.leader,
        str(r.total_persons),
        r.contact,
        r.home_unit,
        r.departure_point,
        fmt_local(r.departure_at) if r.departure_at else "",
        r.travel_method,
        r.assignment,
        r.qualifications,
        fmt_local(r.restat_at) if r.restat_at else "",
        r.restat_initials,
    ]


def ics211_csv(form: Ics211Form) -> str:
    """One row per check-in; the form's blocks 1–3 and 11 repeated on each row."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    if form.is_exercise:
        w.writerow([f"{EXERCISE_FILE_MARK} — {form.code} — not a real incident"])
    w.writerow(["incident_name", "checkin_location", "start_local", *COLUMNS, "prepared_by", "prepared_position", "prepared_local"])  # fmt: skip
    start = fmt_local(form.start_at) if form.start_at else ""
    for r in form.rows:
        w.writerow([form.incident_name, form.location, start, *_cells(r), form.prepared_by, form.position, fmt_local(form.prepared_at)])  # fmt: skip
    return "\ufeff" + buf.getvalue()


def ics211_markdown(form: Ics211Form) -> str:
    out = []
    if form.is_exercise:
        out += [f"**{EXERCISE_FILE_MARK} — {EXERCISE_FILE_MARK} — {EXERCISE_FILE_MARK}**", ""]
    out += [
        f"# ICS 211 Incident check-in list — {form.code}",
        "",
        f"1. **Incident name:** {form.incident_name}",
        f"2. **Check-in location:** {form.location}",
        f"3. **Start date/time:** {fmt_local(form.start_at) if form.start_at else '—'} (local, UTC+8)",
        "",
        "## 4. Check-in information",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    out += ["| " + " | ".join(c.replace("|", "/") or "—" for c in _cells(r)) + " |" for r in form.rows]
    if not form.rows:
        out.append("\n_No crew has checked in yet (`incident crew checkin CODE CREW`)._")
    out += [
        "",
        f"11. **Prepared by:** {form.prepared_by or SIGNATURE_LINE} · position/title "
        f"{form.position or SIGNATURE_LINE} · signature {SIGNATURE_LINE} · date/time {fmt_local(form.prepared_at)}",
    ]
    if form.is_exercise:
        out += ["", f"**{EXERCISE_FILE_MARK}**"]
    return "\n".join(out) + "\n"


def ics211_json(form: Ics211Form) -> dict[str, Any]:
    data = asdict(form)
    data["exercise"] = data.pop("is_exercise")
    return data


def export_ics211(
    session: Session, code: str, path: str, *, actor: str, position: str = "", location: str = ""
) -> tuple[Ics211Form, str]:
    """Write ICS 211 to ``path`` (.csv or .md; an exercise's file name carries EXERCISE) and log it."""
    from pathlib import Path

    from incident.core.errors import UserError
    from incident.core.incidents import exercise_path

    suffix = Path(path).suffix.lower()
    if suffix not in (".csv", ".md"):
        raise UserError("errors.ics211.format", field="output", name=Path(path).name)
    form = build_ics211(session, code, prepared_by=actor, position=position, location=location)
    target = exercise_path(path, form.is_exercise)
    text = ics211_csv(form) if suffix == ".csv" else ics211_markdown(form)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError("errors.ics211.cannot_write", where=str(target), reason=exc.strerror) from exc
    inc = get_incident(session, code)
    log.append(
        session,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind="ics211.exported",
        incident_id=inc.id,
        summary=f"ICS 211 check-in list exported ({len(form.rows)} crews) to {target.name}",
        payload={"file": target.name, "rows": len(form.rows)},
    )
    return form, str(target)
