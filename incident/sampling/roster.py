"""Responders and crews from a roster file (TOML; see incident/data/demo/roster.toml)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, Strict, field_validator
from sqlmodel import Session, col, select

from incident.core import log
from incident.core.clock import utcnow
from incident.core.datafiles import (
    flush_new,
    read_toml,
)
from incident.core.errors import UserError
from incident.core.incidents import get_incident, refuse_if_ended
from incident.core.inputs import Day, InputModel, SourceMap, parse, refuse, toml_where
from incident.core.store.tables import Crew, CrewMember, Equipment, Kit, Qualification, Responder, row_id


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
        raise UserError("errors.roster.not_exercise", where=inc.code, code=inc.code)
    refuse_if_ended(inc, "a roster change")
    real = {c.name: c for c in session.exec(select(Crew).where(col(Crew.exercise_id).is_(None)))}
    wanted = names if names is not None else sorted(real)
    bad = [n for n in wanted if n not in real and f"Crew {n}" not in real]
    if bad:
        raise UserError(
            "errors.roster.no_real_crew", field="copy", bad=", ".join(bad), names=", ".join(sorted(real))
        )
    have = set(session.exec(select(Crew.name).where(Crew.exercise_id == inc.id)).all())
    twice = [
        n for n in wanted if exercise_crew_name((real.get(n) or real[f"Crew {n}"]).name, inc.code) in have
    ]
    if twice:
        raise UserError("errors.roster.twice", field="copy", code=inc.code, names=", ".join(twice))
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
            session.add(CrewMember(crew_id=row_id(crew), responder_id=m.responder_id))
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


# ---------------------------------------------------------------- the file's models

_Text = Annotated[str, Strict()]
_Name = Annotated[str, Strict(), Field(min_length=1)]


class QualificationEntry(InputModel):
    kind: _Name
    certificate_no: _Text = ""
    expires_on: Day = None


class ResponderEntry(InputModel):
    key: _Name
    name: _Name
    name_zh: _Text | None = None
    phone: _Text = ""
    home_unit: _Text = ""
    role: _Text = ""
    qualifications: list[QualificationEntry] = []


class CrewEntry(InputModel):
    name: _Name
    name_zh: _Text | None = None
    leader: _Text | None = None
    base_name: _Text = ""
    base_lat: Annotated[float, Strict()] = Field(ge=-90, le=90)
    base_lon: Annotated[float, Strict()] = Field(ge=-180, le=180)
    vehicle: _Text | None = None
    kit: _Text | None = None
    members: list[_Text] = []

    @field_validator("members")
    @classmethod
    def _once(cls, value: list[str]) -> list[str]:
        for member in value:
            if value.count(member) > 1:
                raise refuse("errors.sampling.member_listed_twice", "listed twice", member=repr(member))
        return value


class RosterFile(InputModel):
    """A roster file: ``[[responder]]`` (with qualifications) and ``[[crew]]``."""

    responder: list[ResponderEntry] = []
    crew: list[CrewEntry] = []


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
            raise UserError("errors.roster.not_exercise", where=inc.code, code=inc.code)
        refuse_if_ended(inc, "a roster change")
    data = read_toml(path)
    at = toml_where(SourceMap(Path(path).read_text(encoding="utf-8", errors="replace")), str(path))
    doc = parse(RosterFile, data, where=at, source=str(path))
    keys: dict[str, Responder] = {}
    for i, r in enumerate(doc.responder):
        if r.key in keys:
            raise UserError(
                "errors.sampling.duplicate_responder_key",
                where=at(("responder", i, "key")),
                key_name=repr(r.key),
            )
        person = Responder(name=r.name, name_zh=r.name_zh, phone=r.phone, home_unit=r.home_unit, role=r.role)
        session.add(person)
        session.flush()
        keys[r.key] = person
        for q in r.qualifications:
            session.add(
                Qualification(
                    responder_id=row_id(person),
                    kind=q.kind,
                    certificate_no=q.certificate_no,
                    expires_on=q.expires_on,
                )
            )
    crews = 0
    for i, c in enumerate(doc.crew):
        where = at(("crew", i))
        if c.leader is not None and c.leader not in keys:
            raise UserError(
                "errors.sampling.leader_not_responder_key", where=where, leader_key=repr(c.leader)
            )
        vehicle = kit = None
        if c.vehicle:
            vehicle = session.exec(select(Equipment).where(Equipment.asset_tag == c.vehicle)).first()
            if vehicle is None:
                raise UserError("errors.sampling.vehicle_not_inventory", where=where, vehicle=repr(c.vehicle))
        if c.kit:
            kit = session.exec(select(Kit).where(Kit.name == c.kit)).first()
            if kit is None:
                raise UserError("errors.sampling.kit_not_inventory", where=where, kit=repr(c.kit))
        crew = Crew(
            name=exercise_crew_name(c.name, inc.code) if inc else c.name,
            exercise_id=inc.id if inc else None,
            leader_id=keys[c.leader].id if c.leader else None,
            base_name=c.base_name,
            base_lat=c.base_lat,
            base_lon=c.base_lon,
            vehicle_id=vehicle.id if vehicle else None,
            kit_id=kit.id if kit else None,
            status="available",
            status_changed_at=utcnow(),
        )
        session.add(crew)
        flush_new(session, where, f"crew {c.name!r}")
        for member in c.members:
            if member not in keys:
                raise UserError("errors.sampling.member_not_responder_key", where=where, member=repr(member))
            session.add(CrewMember(crew_id=row_id(crew), responder_id=row_id(keys[member])))
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
