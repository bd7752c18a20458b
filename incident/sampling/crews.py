"""Crews: who they are, what they may do, where they are, and their ICS status.

ICS 211 check-in (time, leader, headcount, home unit, departure point, travel
method, qualifications) is evidence: it goes in with ``log.record``. Resource
status is Available / Assigned / Out of service with the time of each change
(ICS 214); every change is a ``CrewStatusChange`` row plus a log entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, col, select

from incident.core import log
from incident.core.clock import as_utc, to_local, utcnow
from incident.core.errors import UserError
from incident.core.incidents import get_incident, refuse_if_ended
from incident.core.store.tables import (
    CheckIn,
    Crew,
    CrewMember,
    CrewStatusChange,
    Equipment,
    Kit,
    Qualification,
    Responder,
    row_id,
)

STATUSES = ("available", "assigned", "out_of_service")
# every crew needs this to sample at all; a point may require more
BASE_QUALIFICATION = "water_sampling"

KitCheck = Callable[..., tuple[bool, list[str]]]
CrewCheck = Callable[..., list[str]]  # (session, crew_id) -> why the crew may not go ([] = ready)


@dataclass
class Member:
    name: str
    name_zh: str | None
    role: str
    phone: str
    qualifications: dict[str, date | None]  # kind -> expiry (valid ones only)
    expired: dict[str, date | None] = field(default_factory=dict)


@dataclass
class CrewInfo:
    id: int
    name: str
    leader: str
    leader_phone: str
    members: list[Member]
    base_name: str
    base_lat: float
    base_lon: float
    vehicle: str | None
    kit_id: int | None
    kit: str | None
    status: str
    status_changed_at: datetime | None
    checked_in_at: datetime | None = None  # for the incident asked about

    @property
    def headcount(self) -> int:
        return len(self.members)

    @property
    def qualifications(self) -> set[str]:
        return {k for m in self.members for k in m.qualifications}

    def expiring(self, on: date, within_days: int = 30) -> list[str]:
        out = []
        for m in self.members:
            for kind, exp in m.qualifications.items():
                if exp is not None and (exp - on).days <= within_days:
                    out.append(f"{m.name} {kind} expires {exp.isoformat()}")
        return out


def _today() -> date:
    return to_local(utcnow()).date()


def find_crew(session: Session, name_or_id: str | int, *, incident=None) -> Crew:
    """A crew by id or name ("A" finds "Crew A"). In an exercise, only its own crews."""
    if incident is not None and incident.is_exercise:
        for name in (str(name_or_id), f"Crew {name_or_id}"):
            for candidate in (name, f"{name} ({incident.code})"):
                row = session.exec(
                    select(Crew).where(Crew.name == candidate, Crew.exercise_id == incident.id)
                ).first()
                if row is not None:
                    return row
        own = session.exec(select(Crew.name).where(Crew.exercise_id == incident.id)).all()
        raise UserError(
            "errors.crews.not_in_exercise" if own else "errors.crews.exercise_no_roster",
            crew=repr(name_or_id),
            code=incident.code,
            names=", ".join(own),
        )
    row = None
    if isinstance(name_or_id, int) or str(name_or_id).isdigit():
        row = session.get(Crew, int(name_or_id))
    if row is None:
        row = session.exec(select(Crew).where(Crew.name == str(name_or_id))).first()
    if row is None:
        # friendly: "A" finds "Crew A"
        row = session.exec(select(Crew).where(Crew.name == f"Crew {name_or_id}")).first()
    if row is None:
        names = ", ".join(c.name for c in session.exec(select(Crew).order_by(col(Crew.name))))
        raise UserError(
            "errors.sampling.no_crew",
            name_or_id=repr(name_or_id),
            value=names or "(no crews: load a roster)",
        )
    return row


def crew_info(
    session: Session, crew: Crew, *, on: date | None = None, incident_id: int | None = None
) -> CrewInfo:
    on = on or _today()
    members = []
    rows = session.exec(
        select(Responder)
        .join(CrewMember, col(CrewMember.responder_id) == col(Responder.id))
        .where(CrewMember.crew_id == crew.id)
    ).all()
    leader = session.get(Responder, crew.leader_id) if crew.leader_id else None
    for r in sorted(rows, key=lambda r: (r.id != crew.leader_id, r.id)):
        valid: dict[str, date | None] = {}
        expired: dict[str, date | None] = {}
        for q in session.exec(select(Qualification).where(Qualification.responder_id == r.id)):
            (valid if q.expires_on is None or q.expires_on >= on else expired)[q.kind] = q.expires_on
        members.append(Member(r.name, r.name_zh, r.role, r.phone, valid, expired))
    vehicle = session.get(Equipment, crew.vehicle_id) if crew.vehicle_id else None
    kit = session.get(Kit, crew.kit_id) if crew.kit_id else None
    checked = None
    if incident_id is not None:
        ci = session.exec(
            select(CheckIn)
            .where(CheckIn.crew_id == crew.id, CheckIn.incident_id == incident_id)
            .order_by(col(CheckIn.at).desc())
        ).first()
        checked = as_utc(ci.at) if ci else None
    return CrewInfo(
        id=row_id(crew),
        name=crew.name,
        leader=leader.name if leader else "",
        leader_phone=leader.phone if leader else "",
        members=members,
        base_name=crew.base_name,
        base_lat=crew.base_lat,
        base_lon=crew.base_lon,
        vehicle=vehicle.asset_tag if vehicle else None,
        kit_id=crew.kit_id,
        kit=kit.name if kit else None,
        status=crew.status,
        status_changed_at=as_utc(crew.status_changed_at) if crew.status_changed_at else None,
        checked_in_at=checked,
    )


def list_crews(
    session: Session, *, on: date | None = None, code: str | None = None, roster: int | None = None
) -> list[CrewInfo]:
    """The real crews, or (``roster`` = an exercise's incident id) that exercise's own crews."""
    incident_id = get_incident(session, code).id if code else None
    query = select(Crew).where(
        Crew.exercise_id == roster if roster is not None else col(Crew.exercise_id).is_(None)
    )
    return [
        crew_info(session, c, on=on, incident_id=incident_id)
        for c in session.exec(query.order_by(col(Crew.name)))
    ]


def set_status(
    session: Session,
    crew_name: str | int,
    status: str,
    *,
    actor: str,
    code: str | None = None,
    note: str = "",
    at: datetime | None = None,
) -> CrewStatusChange:
    """Change a crew's ICS status; the time of each change is kept (row + log)."""
    status = status.strip().lower().replace(" ", "_").replace("-", "_")
    if status not in STATUSES:
        raise UserError(
            "errors.sampling.unknown_crew_status",
            where="status",
            status=repr(status),
            value=", ".join(STATUSES),
        )
    if status == "out_of_service" and not note.strip():
        raise UserError("errors.sampling.taking_crew_out_service", field="note")
    inc = get_incident(session, code) if code else None
    if inc is not None:
        refuse_if_ended(inc, "a crew status change")
    if isinstance(crew_name, int) or str(crew_name).isdigit():
        crew = find_crew(session, crew_name)
        if inc is not None and inc.is_exercise and crew.exercise_id != inc.id:
            raise UserError(
                "errors.crews.not_in_roster",
                where=inc.code,
                crew=crew.name,
                code=inc.code,
                names=", ".join(session.exec(select(Crew.name).where(Crew.exercise_id == inc.id)).all()),
            )
    else:
        crew = find_crew(session, crew_name, incident=inc)
    at = as_utc(at or utcnow())
    previous = crew.status
    change = CrewStatusChange(
        crew_id=row_id(crew),
        incident_id=inc.id if inc else None,
        status=status,
        at=at,
        by=actor,
        note=note,
    )
    session.add(change)
    crew.status, crew.status_changed_at = status, at
    session.add(crew)
    session.flush()
    log.append(
        session,
        chain=log.incident_chain(inc.code) if inc else log.CENTRE_CHAIN,
        actor=actor,
        kind="crew.status",
        incident_id=inc.id if inc else None,
        summary=f"{crew.name}: {previous} → {status}" + (f" ({note})" if note else ""),
        # the log entry is dated when it is written (the log only moves forward);
        # the time the status changed, possibly earlier, is in the payload and the row
        payload={"crew": crew.name, "from": previous, "to": status, "note": note, "at": at},
    )
    return change


def status_history(session: Session, crew_name: str | int) -> list[CrewStatusChange]:
    crew = find_crew(session, crew_name)
    return list(
        session.exec(
            select(CrewStatusChange)
            .where(CrewStatusChange.crew_id == crew.id)
            .order_by(col(CrewStatusChange.at))
        )
    )


def check_in(
    session: Session,
    code: str,
    crew_name: str | int,
    *,
    actor: str,
    leader: str | None = None,
    headcount: int | None = None,
    departure_point: str | None = None,
    travel_method: str = "vehicle",
    at: datetime | None = None,
    on: date | None = None,
    lat: float | None = None,
    lon: float | None = None,
) -> CheckIn:
    """ICS 211 check-in of a crew to an incident; defaults come from the roster.

    With ``lat``/``lon`` (WGS84) the crew's routes start there from now on.
    """
    inc = get_incident(session, code)
    refuse_if_ended(inc, "a check-in")
    crew = find_crew(session, crew_name, incident=inc)
    info = crew_info(session, crew, on=on)
    if headcount is not None and headcount < 1:
        raise UserError("errors.sampling.headcount_not_number_people", field="headcount", headcount=headcount)
    if (lat is None) != (lon is None) or (
        lat is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180)  # type: ignore[operator]
    ):
        raise UserError("errors.crews.bad_position", where="--lat/--lon", lat=repr(lat), lon=repr(lon))
    if crew.status == "out_of_service":
        raise UserError("errors.sampling.out_service", name=crew.name, name2=repr(crew.name))
    row = CheckIn(
        incident_id=row_id(inc),
        crew_id=row_id(crew),
        at=as_utc(at or utcnow()),
        leader=leader or info.leader,
        headcount=headcount if headcount is not None else info.headcount,
        home_unit=_home_unit(session, crew),
        departure_point=departure_point or info.base_name,
        travel_method=travel_method,
        assignment=_routed(session, inc.id, crew.id),  # type: ignore[arg-type]
        qualifications=", ".join(sorted(info.qualifications)),
        lat=lat,
        lon=lon,
    )
    log.record(
        session,
        row,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind="crew.checked_in",
        incident_id=inc.id,
        summary=f"{crew.name} checked in (ICS 211): leader {row.leader}, {row.headcount} people, "
        f"from {row.departure_point}",
        extra={"at": row.at},
    )
    return row


def _routed(session: Session, incident_id: int, crew_id: int) -> str:
    from incident.sampling.ics211 import route_text

    return route_text(session, incident_id, crew_id)


def _home_unit(session: Session, crew: Crew) -> str:
    leader = session.get(Responder, crew.leader_id) if crew.leader_id else None
    return leader.home_unit if leader else ""


def eligibility(
    session: Session,
    crew: CrewInfo,
    required_qualification: str | None,
    *,
    on: date | None = None,
    kit_check: KitCheck | None = None,
    crew_check: CrewCheck | None = None,
) -> list[str]:
    """Reasons the crew may not go to a point needing ``required_qualification`` ([] = eligible)."""
    reasons = []
    if crew_check is not None:
        reasons += [f"NOT READY: {r}" for r in crew_check(session, crew.id, on=on)]
    if crew.status == "out_of_service":
        reasons.append("out of service")
    quals = crew.qualifications
    if BASE_QUALIFICATION not in quals:
        reasons.append(f"nobody holds a valid {BASE_QUALIFICATION} certificate")
    if required_qualification and required_qualification not in quals:
        reasons.append(f"nobody holds a valid {required_qualification} certificate")
    reasons += kit_reasons(session, crew, on=on, kit_check=kit_check)
    return reasons


def kit_reasons(
    session: Session, crew: CrewInfo, *, on: date | None = None, kit_check: KitCheck | None = None
) -> list[str]:
    if crew.kit_id is None:
        return ["no kit assigned"]
    check = kit_check or default_kit_check()
    ready, blocking = check(session, crew.kit_id, on=on)
    return [] if ready else [f"kit {crew.kit}: {b}" for b in blocking] or [f"kit {crew.kit} not ready"]


def default_kit_check() -> KitCheck:
    """``incident.readiness.rules.kit_ready`` (imported late: it is another feature)."""
    try:
        from incident.readiness import kit_ready
    except ImportError as exc:
        raise UserError("errors.sampling.kit_readiness_cannot_checked") from exc
    return kit_ready


def default_crew_check() -> CrewCheck:
    """``incident.readiness.dispatch_refusals``: the team's readiness (crew, kit, vehicle)."""
    from incident.readiness import dispatch_refusals

    return dispatch_refusals


def skip_kit_check(_session: Session, _kit_id: int, *, on: date | None = None) -> tuple[bool, list[str]]:
    """Chosen explicitly by the user (--skip-kit-check): kits are taken as ready."""
    return True, []
