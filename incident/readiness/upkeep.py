"""Keeping the inventory true: calibrations, maintenance, stock movements, item history.

Every record is logged on the centre chain. Records are added, never edited:
a wrong calibration is corrected by recording the right one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, select

from incident.core import accounts, log
from incident.core.clock import utcnow
from incident.core.errors import UserError
from incident.core.store.tables import (
    CalibrationRecord,
    CalibrationSchedule,
    Checkout,
    Consumable,
    Crew,
    Equipment,
    Incident,
    Kit,
    KitItem,
    MaintenanceRecord,
    StockMovement,
    row_id,
)
from incident.readiness.inventory import CONDITIONS, equipment_by_tag
from incident.readiness.rules import Snapshot, load_config, today_local

MAINTENANCE_KINDS = ("service", "repair", "inspection")


def _require_text(value: str | None, *, where: str, fix: str) -> str:
    if value is None or not value.strip():
        raise UserError("errors.readiness.empty", where=where, fix=fix, where_name=where)
    return value.strip()


def _not_future(day: date, *, where: str) -> None:
    if day > today_local():
        raise UserError("errors.readiness.future", where=where, day=day)


# ---------------------------------------------------------------- calibration


def find_schedule(session: Session, eq: Equipment, name: str) -> CalibrationSchedule:
    schedules = list(
        session.exec(select(CalibrationSchedule).where(CalibrationSchedule.equipment_id == eq.id))
    )
    for s in schedules:
        if s.name.casefold() == name.strip().casefold():
            return s
    names = ", ".join(repr(s.name) for s in schedules) or "none"
    raise UserError(
        "errors.readiness.has_no_calibration_schedule",
        field="schedule",
        asset_tag=eq.asset_tag,
        name=repr(name),
        names=names,
    )


def record_calibration(
    session: Session,
    tag: str,
    *,
    schedule: str,
    done_on: date,
    by: str,
    passed: bool = True,
    certificate: str = "",
    notes: str = "",
    actor: str,
) -> dict[str, Any]:
    """Add a calibration record; a pass moves the schedule on, a failure stops the item."""
    accounts.require(session, "equipment.calibrate")
    eq = equipment_by_tag(session, tag)
    sched = find_schedule(session, eq, schedule)
    by = _require_text(by, where="--by", fix="name who did the calibration")
    _not_future(done_on, where="--on")
    record = CalibrationRecord(
        schedule_id=row_id(sched),
        done_on=done_on,
        by=by,
        passed=passed,
        certificate=certificate,
        notes=notes,
    )
    session.add(record)
    moved = False
    if passed and (sched.last_done is None or done_on >= sched.last_done):
        sched.last_done = done_on
        sched.next_due = done_on + timedelta(days=sched.interval_days)
        session.add(sched)
        moved = True
    session.flush()
    verdict = "passed" if passed else "FAILED"
    summary = f"Calibration {verdict}: {eq.asset_tag} {sched.name} on {done_on} by {by}"
    if moved:
        summary += f"; next due {sched.next_due}"
    if not passed:
        summary += "; the item is not ready until a calibration passes"
    log.append(
        session,
        chain=log.CENTRE_CHAIN,
        actor=actor,
        kind="equipment.calibrated",
        summary=summary,
        payload={
            "asset_tag": eq.asset_tag,
            "schedule": sched.name,
            "record_id": record.id,
            "done_on": done_on,
            "by": by,
            "passed": passed,
            "certificate": certificate,
            "next_due": sched.next_due,
        },
    )
    return {"asset_tag": eq.asset_tag, "schedule": sched.name, "passed": passed, "next_due": sched.next_due}


# ---------------------------------------------------------------- maintenance


def record_maintenance(
    session: Session,
    tag: str,
    *,
    done_on: date,
    by: str,
    kind: str = "service",
    notes: str = "",
    condition_after: str | None = None,
    in_service: bool | None = None,
    actor: str,
) -> dict[str, Any]:
    accounts.require(session, "equipment.update")
    eq = equipment_by_tag(session, tag)
    by = _require_text(by, where="--by", fix="name who did the work")
    _not_future(done_on, where="--on")
    if kind not in MAINTENANCE_KINDS:
        raise UserError(
            "errors.readiness.kind_not_known",
            field="kind",
            kind=repr(kind),
            value=", ".join(MAINTENANCE_KINDS),
        )
    if condition_after is not None and condition_after not in CONDITIONS:
        raise UserError(
            "errors.readiness.condition_not_known_3",
            field="condition",
            condition_after=repr(condition_after),
            value=", ".join(CONDITIONS),
        )
    before = {"condition": eq.condition, "in_service": eq.in_service}
    record = MaintenanceRecord(
        equipment_id=row_id(eq),
        done_on=done_on,
        by=by,
        kind=kind,
        notes=notes,
        condition_after=condition_after,
    )
    session.add(record)
    if condition_after is not None:
        eq.condition = condition_after
    if in_service is not None:
        eq.in_service = in_service
    session.add(eq)
    session.flush()
    summary = f"Maintenance ({kind}): {eq.asset_tag} on {done_on} by {by}"
    if condition_after is not None:
        summary += f"; condition {before['condition']} → {eq.condition}"
    if in_service is not None and in_service != before["in_service"]:
        summary += "; back in service" if in_service else "; taken out of service"
    log.append(
        session,
        chain=log.CENTRE_CHAIN,
        actor=actor,
        kind="equipment.maintained",
        summary=summary,
        payload={
            "asset_tag": eq.asset_tag,
            "record_id": record.id,
            "done_on": done_on,
            "by": by,
            "kind": kind,
            "notes": notes,
            "before": before,
            "after": {"condition": eq.condition, "in_service": eq.in_service},
        },
    )
    return {"asset_tag": eq.asset_tag, "condition": eq.condition, "in_service": eq.in_service}


# ---------------------------------------------------------------- stock


def move_stock(
    session: Session,
    item: str,
    *,
    delta: float,
    reason: str,
    actor: str,
    lot: str | None = None,
    expires_on: date | None = None,
    unit: str | None = None,
) -> list[dict[str, Any]]:
    """Add to or take from stock. Returns one line per lot touched.

    Taking without a lot uses the earliest-expiring unexpired lots first
    (FEFO), across several lots if needed. Adding needs a lot; a lot that does
    not exist yet is created when its expiry date (or "no expiry") is given.
    """
    accounts.require(session, "equipment.update")
    reason = _require_text(
        reason, where="--reason", fix="say why the stock changes (used at INC-…, delivery, expired…)"
    )
    if delta == 0:
        raise UserError("errors.readiness.change", field="delta")
    lots = list(session.exec(select(Consumable).where(Consumable.item == item).order_by(col(Consumable.id))))
    if not lots and not (delta > 0 and lot):
        known = sorted({c.item for c in session.exec(select(Consumable))})
        raise UserError(
            "errors.readiness.no_consumable_inventory",
            where="ITEM",
            fix="use one of: " + ", ".join(repr(k) for k in known) if known else "import an inventory first",
            item=repr(item),
        )
    plan: list[tuple[Consumable, float]] = []
    if lot is not None:
        row = next((c for c in lots if c.lot == lot), None)
        if row is None:
            if delta < 0:
                raise UserError(
                    "errors.readiness.has_no_lot",
                    field="lot",
                    lots=", ".join(repr(c.lot) for c in lots),
                    item=repr(item),
                    lot=repr(lot),
                )
            if expires_on is None:
                raise UserError("errors.readiness.lot_new", field="expires", lot=repr(lot), item=repr(item))
            template = lots[0] if lots else None
            row = Consumable(
                item=item,
                lot=lot,
                quantity=0,
                unit=unit or (template.unit if template else "pcs"),
                expires_on=expires_on,
                min_stock=max((c.min_stock for c in lots), default=0),
                location=template.location if template else "",
            )
            session.add(row)
            session.flush()
        if row.quantity + delta < 0:
            raise UserError(
                "errors.readiness.lot_has_taking_would",
                field="delta",
                lot=row.lot,
                quantity=row.quantity,
                unit=row.unit,
                value=-delta,
                value2=row.quantity + delta,
            )
        plan.append((row, delta))
    else:
        if delta > 0:
            raise UserError("errors.readiness.adding_stock_needs_lot", field="lot")
        snap = Snapshot(session, today_local(), load_config())
        need = -delta
        for row in snap.fefo_lots(item):
            take = min(need, row.quantity)
            if take > 0:
                stocked = session.get(Consumable, row_id(row))
                if stocked is None:  # the snapshot read it from this session a moment ago
                    raise ValueError(f"consumable {row.id} is gone")
                plan.append((stocked, -take))
                need -= take
            if need <= 0:
                break
        if need > 0:
            have = -delta - need
            raise UserError(
                "errors.readiness.only_date_taking_would",
                field="delta",
                have=have,
                unit=lots[0].unit,
                item=repr(item),
                value=-delta,
            )
    now = utcnow()
    out = []
    for row, change in plan:
        before = row.quantity
        row.quantity = before + change
        session.add(row)
        move = StockMovement(consumable_id=row_id(row), at=now, delta=change, reason=reason, by=actor)
        session.add(move)
        session.flush()
        log.append(
            session,
            chain=log.CENTRE_CHAIN,
            actor=actor,
            kind="stock.moved",
            summary=f"Stock {change:+g} {row.unit} {row.item} lot {row.lot}: {before:g} → {row.quantity:g} ({reason})",
            payload={
                "item": row.item,
                "lot": row.lot,
                "delta": change,
                "before": before,
                "after": row.quantity,
                "reason": reason,
                "movement_id": move.id,
            },
            at=now,
        )
        out.append(
            {"item": row.item, "lot": row.lot, "delta": change, "quantity": row.quantity, "unit": row.unit}
        )
    return out


# ---------------------------------------------------------------- item detail


@dataclass
class EquipmentDetail:
    tag: str
    category: str
    type: str
    model: str
    serial: str
    location: str
    holder: str
    condition: str
    in_service: bool
    notes: str
    kit: str | None
    state: str
    blocking: list[str]
    warnings: list[str]
    schedules: list[dict[str, Any]] = field(default_factory=list)
    calibrations: list[dict[str, Any]] = field(default_factory=list)
    maintenance: list[dict[str, Any]] = field(default_factory=list)
    checkouts: list[dict[str, Any]] = field(default_factory=list)


def equipment_detail(
    session: Session, tag: str, *, on: date | None = None, include_exercises: bool = False
) -> EquipmentDetail:
    """One item with its history. Check-outs for drills are left out unless asked for
    (exercise data never mixes with real incidents)."""
    eq = equipment_by_tag(session, tag)
    snap = Snapshot(session, on or today_local(), load_config())
    item = snap.item_readiness(snap.equipment[eq.id])
    schedules = list(
        session.exec(
            select(CalibrationSchedule)
            .where(CalibrationSchedule.equipment_id == eq.id)
            .order_by(col(CalibrationSchedule.id))
        )
    )
    names = {s.id: s.name for s in schedules}
    cal_rows = []
    if names:
        for r in session.exec(
            select(CalibrationRecord)
            .where(col(CalibrationRecord.schedule_id).in_(list(names)))
            .order_by(col(CalibrationRecord.done_on).desc(), col(CalibrationRecord.id).desc())
        ):
            cal_rows.append(
                {
                    "done_on": r.done_on,
                    "schedule": names[r.schedule_id],
                    "by": r.by,
                    "passed": r.passed,
                    "certificate": r.certificate,
                    "notes": r.notes,
                }
            )
    maint = [
        {
            "done_on": m.done_on,
            "kind": m.kind,
            "by": m.by,
            "condition_after": m.condition_after,
            "notes": m.notes,
        }
        for m in session.exec(
            select(MaintenanceRecord)
            .where(MaintenanceRecord.equipment_id == eq.id)
            .order_by(col(MaintenanceRecord.done_on).desc(), col(MaintenanceRecord.id).desc())
        )
    ]
    kit_ids = [ki.kit_id for ki in session.exec(select(KitItem).where(KitItem.equipment_id == eq.id))]
    cos = session.exec(
        select(Checkout)
        .where((col(Checkout.equipment_id) == eq.id) | (col(Checkout.kit_id).in_(kit_ids)))
        .order_by(col(Checkout.out_at).desc())
    )
    checkouts = []
    for co in cos:
        inc = session.get(Incident, co.incident_id) if co.incident_id else None
        if inc is not None and inc.is_exercise and not include_exercises:
            continue
        crew = session.get(Crew, co.crew_id)
        kit = session.get(Kit, co.kit_id) if co.kit_id else None
        checkouts.append(
            {
                "out_at": co.out_at,
                "crew": crew.name if crew else "?",
                "with_kit": kit.name if kit else None,
                "out_by": co.out_by,
                "in_at": co.in_at,
                "in_by": co.in_by,
                "override": co.override_reason,
                "incident": inc.code if inc else None,
                "exercise": bool(inc and inc.is_exercise),
            }
        )
    return EquipmentDetail(
        tag=eq.asset_tag,
        category=eq.category,
        type=eq.type,
        model=eq.model,
        serial=eq.serial,
        location=eq.location,
        holder=eq.holder,
        condition=eq.condition,
        in_service=eq.in_service,
        notes=eq.notes,
        kit=item.kit,
        state=item.state,
        blocking=item.blocking,
        warnings=item.warnings,
        schedules=[
            {
                "name": s.name,
                "interval_days": s.interval_days,
                "last_done": s.last_done,
                "next_due": s.next_due,
            }
            for s in schedules
        ],
        calibrations=cal_rows,
        maintenance=maint,
        checkouts=checkouts,
    )
