"""Equipment, consumables and kits from an inventory file (TOML; see incident/data/demo/inventory.toml)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, select

from incident.core import log
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
from incident.core.store.tables import (
    CalibrationSchedule,
    Consumable,
    Equipment,
    Kit,
    KitItem,
    KitTemplate,
    KitTemplateItem,
    row_id,
)

CATEGORIES = ("instrument", "vehicle", "ppe", "sampler", "other")
CONDITIONS = ("working", "degraded", "broken", "lost")


def load_inventory(session: Session, path: str | Path, *, actor: str) -> dict[str, int]:
    data = read_toml(path)
    tags: dict[str, Equipment] = {}
    for i, entry in enumerate(tables_of(data, "equipment", str(path))):
        where = f"{path}: equipment #{i + 1}"
        tag = require(entry, "asset_tag", str, where)
        category = require(entry, "category", str, where)
        if category not in CATEGORIES:
            raise UserError(
                "errors.readiness.category_not_known",
                where=f"{where} ({tag})",
                category=repr(category),
                value=", ".join(CATEGORIES),
            )
        condition = optional(entry, "condition", str, where, "working")
        if condition not in CONDITIONS:
            raise UserError(
                "errors.readiness.condition_not_known",
                where=f"{where} ({tag})",
                condition=repr(condition),
                value=", ".join(CONDITIONS),
            )
        item = Equipment(
            asset_tag=tag,
            category=category,
            type=require(entry, "type", str, where),
            model=optional(entry, "model", str, where, ""),
            serial=optional(entry, "serial", str, where, ""),
            location=optional(entry, "location", str, where, ""),
            holder=optional(entry, "holder", str, where, ""),
            condition=condition,
            in_service=optional(entry, "in_service", bool, where, True),
            notes=optional(entry, "notes", str, where, ""),
        )
        session.add(item)
        if tag in tags:
            raise UserError("errors.readiness.asset_tag_used_twice", where=where, tag=repr(tag))
        flush_new(session, where, f"equipment {tag!r}")
        tags[tag] = item
        for cal in tables_of(entry, "calibration", where):
            cwhere = f"{where} ({tag}) calibration"
            interval = require(cal, "interval_days", int, cwhere)
            if interval <= 0:
                raise UserError("errors.readiness.interval_days", where=cwhere, interval=interval)
            last = parse_day(cal.get("last_done"), where=cwhere)
            try:
                next_due = (last + timedelta(days=interval)) if last else None
            except OverflowError:
                raise UserError(
                    "errors.readiness.last_done_days_past", where=cwhere, last=last, interval=interval
                ) from None
            session.add(
                CalibrationSchedule(
                    equipment_id=row_id(item),
                    name=require(cal, "name", str, cwhere),
                    interval_days=interval,
                    last_done=last,
                    next_due=next_due,
                )
            )
    lots: dict[tuple[str, str], Consumable] = {}
    for i, entry in enumerate(tables_of(data, "consumable", str(path))):
        where = f"{path}: consumable #{i + 1}"
        qty = require(entry, "quantity", (int, float), where)
        if qty < 0:
            raise UserError("errors.readiness.quantity", where=where, qty=qty)
        row = Consumable(
            item=require(entry, "item", str, where),
            lot=optional(entry, "lot", str, where, ""),
            quantity=float(qty),
            unit=optional(entry, "unit", str, where, "pcs"),
            expires_on=parse_day(entry.get("expires_on"), where=where),
            min_stock=float(optional(entry, "min_stock", (int, float), where, 0)),
            location=optional(entry, "location", str, where, ""),
        )
        session.add(row)
        session.flush()
        lots[(row.item, row.lot)] = row
    templates: dict[str, KitTemplate] = {}
    for i, entry in enumerate(tables_of(data, "kit_template", str(path))):
        where = f"{path}: kit_template #{i + 1}"
        tpl = KitTemplate(
            name=require(entry, "name", str, where), name_zh=optional(entry, "name_zh", str, where)
        )
        session.add(tpl)
        flush_new(session, where, f"kit template {tpl.name!r}")
        templates[tpl.name] = tpl
        for it in tables_of(entry, "items", where):
            kind = require(it, "kind", str, where)
            if kind not in ("equipment", "consumable"):
                raise UserError("errors.readiness.item_kind", where=where, kind=repr(kind))
            session.add(
                KitTemplateItem(
                    template_id=row_id(tpl),
                    item_kind=kind,
                    item_type=require(it, "type", str, where),
                    quantity=float(optional(it, "quantity", (int, float), where, 1)),
                )
            )
    kits = 0
    for i, entry in enumerate(tables_of(data, "kit", str(path))):
        where = f"{path}: kit #{i + 1}"
        tname = require(entry, "template", str, where)
        if tname not in templates:
            raise UserError("errors.readiness.template_not_defined", where=where, tname=repr(tname))
        kit = Kit(
            name=require(entry, "name", str, where),
            template_id=row_id(templates[tname]),
            location=optional(entry, "location", str, where, ""),
        )
        session.add(kit)
        flush_new(session, where, f"kit {kit.name!r}")
        for tag in strings_of(entry, "equipment", where):
            if tag not in tags:
                raise UserError("errors.readiness.equipment_not_inventory", where=where, tag=repr(tag))
            session.add(KitItem(kit_id=row_id(kit), equipment_id=tags[tag].id, quantity=1))
        for c in tables_of(entry, "consumables", where):
            key = (require(c, "item", str, where), optional(c, "lot", str, where, ""))
            if key not in lots:
                raise UserError(
                    "errors.readiness.consumable_lot_not_inventory",
                    where=where,
                    value=repr(key[0]),
                    value2=repr(key[1]),
                )
            session.add(
                KitItem(
                    kit_id=row_id(kit),
                    consumable_id=lots[key].id,
                    quantity=float(optional(c, "quantity", (int, float), where, 1)),
                )
            )
        kits += 1
    log.append(
        session,
        chain=log.CENTRE_CHAIN,
        actor=actor,
        kind="inventory.loaded",
        summary=f"Inventory loaded from {Path(path).name}: {len(tags)} equipment, {len(lots)} lots, {kits} kits",
        payload={"file": str(path), "equipment": len(tags), "consumables": len(lots), "kits": kits},
    )
    return {"equipment": len(tags), "consumables": len(lots), "kits": kits}


def equipment_by_tag(session: Session, tag: str) -> Equipment:
    row = session.exec(select(Equipment).where(Equipment.asset_tag == tag)).first()
    if row is None:
        raise UserError("errors.readiness.no_equipment_asset_tag", tag=repr(tag))
    return row
