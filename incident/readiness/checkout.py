"""Kits and instruments out to crews and back.

A check-out is refused when the kit or item is not ready (out of
calibration, broken, missing items...) unless the person gives an override
reason; the reason is kept on the Checkout row and written to the log, on
the centre chain and, during an incident, on the incident's chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from incident.core import log
from incident.core.clock import utcnow
from incident.core.errors import UserError
from incident.core.incidents import get_incident
from incident.core.store.tables import Checkout, Crew, Equipment, Incident, Kit, row_id
from incident.readiness.inventory import CONDITIONS
from incident.readiness.rules import Snapshot, load_config, today_local


@dataclass
class Target:
    kind: str  # equipment | kit
    name: str
    equipment: Equipment | None = None
    kit: Kit | None = None


def resolve_target(session: Session, name: str) -> Target:
    """An asset tag or a kit name."""
    eq = session.exec(select(Equipment).where(Equipment.asset_tag == name)).first()
    if eq is not None:
        return Target("equipment", eq.asset_tag, equipment=eq)
    kit = session.exec(select(Kit).where(Kit.name == name)).first()
    if kit is not None:
        return Target("kit", kit.name, kit=kit)
    raise UserError("errors.readiness.no_asset_tag_kit", where="TAG|KIT", name=repr(name))


def find_crew(session: Session, name: str) -> Crew:
    crew = session.exec(select(Crew).where(Crew.name == name)).first()
    if crew is None:
        names = ", ".join(repr(c.name) for c in session.exec(select(Crew).order_by(col(Crew.name))))
        raise UserError(
            "errors.readiness.no_crew", field="crew", name=repr(name), value=names or "(no crews yet)"
        )
    return crew


def open_checkout(session: Session, target: Target) -> Checkout | None:
    q = select(Checkout).where(col(Checkout.in_at).is_(None))
    if target.equipment is not None:  # kind "equipment"
        q = q.where(Checkout.equipment_id == target.equipment.id)
    elif target.kit is not None:
        q = q.where(Checkout.kit_id == target.kit.id)
    else:
        raise ValueError(f"{target.name!r} names neither equipment nor a kit")
    return session.exec(q).first()


def _chains(inc: Incident | None) -> list[tuple[str, int | None]]:
    chains: list[tuple[str, int | None]] = [(log.CENTRE_CHAIN, None)]
    if inc is not None:
        chains.append((log.incident_chain(inc.code), inc.id))
    return chains


def check_out(
    session: Session,
    target_name: str,
    *,
    crew: str,
    actor: str,
    incident: str | None = None,
    override: str | None = None,
    on: date | None = None,
) -> dict[str, Any]:
    target = resolve_target(session, target_name)
    crew_row = find_crew(session, crew)
    inc = get_incident(session, incident) if incident else None
    if override is not None and not override.strip():
        raise UserError("errors.readiness.override_reason_empty", field="override")
    current = open_checkout(session, target)
    snap = Snapshot(session, on or today_local(), load_config())
    if current is not None:
        raise UserError(
            "errors.readiness.already_checked_out",
            where="TAG|KIT",
            name=target.name,
            value=snap.crew_name(current.crew_id),
        )
    if target.kind == "equipment":
        eq = target.equipment
        assert eq is not None
        kit_id = snap.kit_of_equipment.get(row_id(eq))
        if kit_id is not None and kit_id in snap.open_kit:
            co = snap.open_kit[kit_id]
            raise UserError(
                "errors.readiness.out_kit",
                where="TAG|KIT",
                asset_tag=eq.asset_tag,
                name=snap.kits[kit_id].name,
                value=snap.crew_name(co.crew_id),
            )
        if eq.condition == "lost":
            raise UserError("errors.readiness.recorded_lost", where="TAG|KIT", asset_tag=eq.asset_tag)
        problems = [f.text for f in snap.equipment_findings(eq) if f.level == "block"]
    else:
        kit = target.kit
        assert kit is not None
        kr = snap.kit_readiness(kit)
        problems = list(kr.blocking)
        for ki in snap.kit_items.get(row_id(kit), []):
            if ki.equipment_id is not None and ki.equipment_id in snap.open_equipment:
                co = snap.open_equipment[ki.equipment_id]
                tag = snap.equipment[ki.equipment_id].asset_tag
                raise UserError(
                    "errors.readiness.kit_out_own",
                    where="TAG|KIT",
                    tag=tag,
                    name=kit.name,
                    value=snap.crew_name(co.crew_id),
                )
    if problems and override is None:
        raise UserError(
            "errors.readiness.not_ready", where="TAG|KIT", name=target.name, problems="; ".join(problems)
        )
    now = utcnow()
    row = Checkout(
        incident_id=inc.id if inc else None,
        crew_id=row_id(crew_row),
        equipment_id=target.equipment.id if target.equipment else None,
        kit_id=target.kit.id if target.kit else None,
        out_at=now,
        out_by=actor,
        override_reason=override.strip() if (override and problems) else None,
    )
    session.add(row)
    holders = _equipment_of(snap, target)
    for eq in holders:
        eq.holder = crew_row.name
        session.add(eq)
    session.flush()
    summary = f"{target.name} checked out to {crew_row.name}"
    if inc is not None:
        summary += f" for {inc.code}"
    if row.override_reason:
        summary += f" — OVERRIDE ({'; '.join(problems)}): {row.override_reason}"
    payload = {
        "checkout_id": row.id,
        "target": target.name,
        "target_kind": target.kind,
        "crew": crew_row.name,
        "incident": inc.code if inc else None,
        "problems": problems,
        "override_reason": row.override_reason,
    }
    for chain, incident_id in _chains(inc):
        log.append(
            session,
            chain=chain,
            actor=actor,
            kind="equipment.checked_out",
            summary=summary,
            payload=payload,
            incident_id=incident_id,
            at=now,
        )
    return {
        "checkout_id": row.id,
        "target": target.name,
        "crew": crew_row.name,
        "incident": inc.code if inc else None,
        "override_reason": row.override_reason,
        "problems": problems,
    }


def _equipment_of(snap: Snapshot, target: Target) -> list[Equipment]:
    if target.equipment is not None:
        return [target.equipment]
    assert target.kit is not None
    return [
        snap.equipment[ki.equipment_id]
        for ki in snap.kit_items.get(row_id(target.kit), [])
        if ki.equipment_id is not None
    ]


def check_in(
    session: Session,
    target_name: str,
    *,
    actor: str,
    condition: str | None = None,
    notes: str = "",
) -> dict[str, Any]:
    """Return a kit or item; ``condition`` records damage found on return (equipment only)."""
    target = resolve_target(session, target_name)
    row = open_checkout(session, target)
    if row is None:
        raise UserError("errors.readiness.not_checked_out", where="TAG|KIT", name=target.name)
    if condition is not None:
        if condition not in CONDITIONS:
            raise UserError(
                "errors.readiness.condition_not_known",
                field="condition",
                condition=repr(condition),
                value=", ".join(CONDITIONS),
            )
        if target.kind != "equipment":
            raise UserError("errors.readiness.condition_applies_one_item", field="condition")
    snap = Snapshot(session, today_local(), load_config())
    crew_name = snap.crew_name(row.crew_id)
    inc = session.get(Incident, row.incident_id) if row.incident_id else None
    now = utcnow()
    row.in_at = now
    row.in_by = actor
    session.add(row)
    before = None
    for eq in _equipment_of(snap, target):
        eq.holder = ""
        if condition is not None:
            before = eq.condition
            eq.condition = condition
        session.add(eq)
    session.flush()
    summary = f"{target.name} checked in from {crew_name}"
    if condition is not None and condition != before:
        summary += f"; condition {before} → {condition}"
    if notes:
        summary += f" ({notes})"
    payload = {
        "checkout_id": row.id,
        "target": target.name,
        "crew": crew_name,
        "condition": condition,
        "notes": notes,
    }
    for chain, incident_id in _chains(inc):
        log.append(
            session,
            chain=chain,
            actor=actor,
            kind="equipment.checked_in",
            summary=summary,
            payload=payload,
            incident_id=incident_id,
            at=now,
        )
    return {"checkout_id": row.id, "target": target.name, "crew": crew_name, "condition": condition}


def open_checkouts(session: Session) -> list[dict[str, Any]]:
    rows = []
    for co in session.exec(
        select(Checkout).where(col(Checkout.in_at).is_(None)).order_by(col(Checkout.out_at))
    ):
        crew = session.get(Crew, co.crew_id)
        kit = session.get(Kit, co.kit_id) if co.kit_id else None
        item = None if co.kit_id else session.get(Equipment, co.equipment_id)
        what = kit.name if kit is not None else item.asset_tag if item is not None else ""
        inc = session.get(Incident, co.incident_id) if co.incident_id else None
        rows.append(
            {
                "target": what,
                "crew": crew.name if crew else "?",
                "incident": inc.code if inc else None,
                "exercise": bool(inc and inc.is_exercise),  # really out, but for a drill
                "out_at": co.out_at,
                "out_by": co.out_by,
                "override": co.override_reason,
            }
        )
    return rows
