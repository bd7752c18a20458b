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
from incident.core.store.tables import Crew, CrewMember, Equipment, Kit, Qualification, Responder, row_id


def load_roster(session: Session, path: str | Path, *, actor: str) -> dict[str, int]:
    """Create responders and crews; equipment/kits must already exist. Returns counts."""
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
                    responder_id=row_id(person),
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
            name=name,
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
            session.add(CrewMember(crew_id=row_id(crew), responder_id=row_id(keys[member])))
        crews += 1
    log.append(
        session,
        chain=log.CENTRE_CHAIN,
        actor=actor,
        kind="roster.loaded",
        summary=f"Roster loaded from {Path(path).name}: {len(keys)} responders, {crews} crews",
        payload={"file": str(path), "responders": len(keys), "crews": crews},
    )
    return {"responders": len(keys), "crews": crews}
