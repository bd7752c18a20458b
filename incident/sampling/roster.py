"""Responders and crews from a roster file (TOML; see incident/data/demo/roster.toml)."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from incident.core import log
from incident.core.clock import utcnow
from incident.core.datafiles import (
    flush_new,
    optional,
    parse_day,
    read_toml,
    require,
    strings_of,
    tables_of,
)
from incident.core.errors import UserError
from incident.core.incidents import get_incident, refuse_if_ended
from incident.core.store.tables import Crew, CrewMember, Equipment, Kit, Qualification, Responder


def exercise_crew_name(name: str, code: str) -> str:
    """An exercise crew's name: the player's crew name with the exercise code (names are unique)."""
    return f"{name} ({code})"


def copy_crews_to_exercise(session: Session, code: str, names: list[str] | None, *, actor: str) -> list[str]:
    """Give exercise ``code`` its own crews, copied from real ones (all when ``names`` is None).

    The copies have the same people, base, vehicle and kit (read, never checked out), and their
    own status: nothing done in the exercise touches the real crews or real readiness.
    """
    inc = get_incident(session, code)
    if not inc.is_exercise:
        raise UserError(f"{inc.code} is not an exercise", where=inc.code, fix="give the drill's EX- code")
    refuse_if_ended(inc, "a roster change")
    real = {c.name: c for c in session.exec(select(Crew).where(Crew.exercise_id.is_(None)))}  # type: ignore[union-attr]
    wanted = names if names is not None else sorted(real)
    bad = [n for n in wanted if n not in real and f"Crew {n}" not in real]
    if bad:
        raise UserError(
            f"no real crew {', '.join(bad)}", where="--copy", fix=f"use some of: {', '.join(sorted(real))}"
        )
    have = set(session.exec(select(Crew.name).where(Crew.exercise_id == inc.id)).all())
    twice = [
        n for n in wanted if exercise_crew_name((real.get(n) or real[f"Crew {n}"]).name, inc.code) in have
    ]
    if twice:
        raise UserError(
            f"already in {inc.code}'s roster: {', '.join(twice)}", where="--copy", fix="copy each crew once"
        )
    made = []
    for n in wanted:
        src = real.get(n) or real[f"Crew {n}"]
        crew = Crew(
            name=exercise_crew_name(src.name, inc.code),
            leader_id=src.leader_id,
            base_name=src.base_name,
            base_lat=src.base_lat,
            base_lon=src.base_lon,
            vehicle_id=src.vehicle_id,
            kit_id=src.kit_id,
            status="available",
            status_changed_at=utcnow(),
            exercise_id=inc.id,
        )
        session.add(crew)
        flush_new(session, inc.code, f"crew {crew.name!r}")
        for m in session.exec(select(CrewMember).where(CrewMember.crew_id == src.id)):
            session.add(CrewMember(crew_id=crew.id, responder_id=m.responder_id))
        made.append(crew.name)
    session.flush()
    log.append(
        session,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind="roster.exercise",
        incident_id=inc.id,
        summary=f"Exercise roster: {len(made)} crew(s) copied from the real roster: {', '.join(made)}",
        payload={"crews": made, "copied_from": [n for n in wanted]},
    )
    return made


def load_roster(
    session: Session, path: str | Path, *, actor: str, exercise: str | None = None
) -> dict[str, int]:
    """Create responders and crews; equipment/kits must already exist. Returns counts.

    With ``exercise`` (an EX- code) the crews are that exercise's own, fictional players:
    their names carry the code and they never count towards real readiness.
    """
    inc = get_incident(session, exercise) if exercise else None
    if inc is not None:
        if not inc.is_exercise:
            raise UserError(f"{inc.code} is not an exercise", where=inc.code, fix="give the drill's EX- code")
        refuse_if_ended(inc, "a roster change")
    data = read_toml(path)
    keys: dict[str, Responder] = {}
    for i, entry in enumerate(tables_of(data, "responder", str(path))):
        where = f"{path}: responder #{i + 1}"
        key = require(entry, "key", str, where)
        if key in keys:
            raise UserError(f"duplicate responder key {key!r}", where=where, fix="make keys unique")
        person = Responder(
            name=require(entry, "name", str, where),
            name_zh=optional(entry, "name_zh", str, where),
            phone=optional(entry, "phone", str, where, ""),
            home_unit=optional(entry, "home_unit", str, where, ""),
            role=optional(entry, "role", str, where, ""),
        )
        session.add(person)
        session.flush()
        keys[key] = person
        for q in tables_of(entry, "qualifications", where):
            session.add(
                Qualification(
                    responder_id=person.id,
                    kind=require(q, "kind", str, where),
                    certificate_no=optional(q, "certificate_no", str, where, ""),
                    expires_on=parse_day(q.get("expires_on"), where=f"{where} qualification"),
                )
            )
    crews = 0
    for i, entry in enumerate(tables_of(data, "crew", str(path))):
        where = f"{path}: crew #{i + 1}"
        name = require(entry, "name", str, where)
        leader_key = optional(entry, "leader", str, where)
        if leader_key is not None and leader_key not in keys:
            raise UserError(
                f"leader {leader_key!r} is not a responder key",
                where=where,
                fix="use a key from [[responder]]",
            )
        vehicle = kit = None
        if optional(entry, "vehicle", str, where):
            vehicle = session.exec(select(Equipment).where(Equipment.asset_tag == entry["vehicle"])).first()
            if vehicle is None:
                raise UserError(
                    f"vehicle {entry['vehicle']!r} is not in the inventory",
                    where=where,
                    fix="load the inventory first, or fix the asset tag",
                )
        if optional(entry, "kit", str, where):
            kit = session.exec(select(Kit).where(Kit.name == entry["kit"])).first()
            if kit is None:
                raise UserError(
                    f"kit {entry['kit']!r} is not in the inventory", where=where, fix="fix the kit name"
                )
        crew = Crew(
            name=exercise_crew_name(name, inc.code) if inc else name,
            exercise_id=inc.id if inc else None,
            leader_id=keys[leader_key].id if leader_key else None,
            base_name=optional(entry, "base_name", str, where, ""),
            base_lat=require(entry, "base_lat", (int, float), where),
            base_lon=require(entry, "base_lon", (int, float), where),
            vehicle_id=vehicle.id if vehicle else None,
            kit_id=kit.id if kit else None,
            status="available",
            status_changed_at=utcnow(),
        )
        session.add(crew)
        flush_new(session, where, f"crew {name!r}")
        members = strings_of(entry, "members", where)
        for member in members:
            if members.count(member) > 1:
                raise UserError(
                    f"member {member!r} is listed twice", where=where, fix="list each member once"
                )
            if member not in keys:
                raise UserError(
                    f"member {member!r} is not a responder key",
                    where=where,
                    fix="use keys from [[responder]]",
                )
            session.add(CrewMember(crew_id=crew.id, responder_id=keys[member].id))
        crews += 1
    log.append(
        session,
        chain=log.incident_chain(inc.code) if inc else log.CENTRE_CHAIN,
        incident_id=inc.id if inc else None,
        actor=actor,
        kind="roster.loaded",
        summary=f"Roster loaded from {Path(path).name}: {len(keys)} responders, {crews} crews",
        payload={"file": str(path), "responders": len(keys), "crews": crews},
    )
    return {"responders": len(keys), "crews": crews}
