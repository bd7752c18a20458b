"""Equipment, consumables and kits from an inventory file (TOML; see incident/data/demo/inventory.toml)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import Field, Strict, model_validator
from sqlmodel import Session, select

from incident.core import accounts, log
from incident.core.datafiles import (
    flush_new,
    read_toml,
)
from incident.core.errors import UserError
from incident.core.inputs import Day, InputModel, refuse
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

Category = Literal["instrument", "vehicle", "ppe", "sampler", "other"]
Condition = Literal["working", "degraded", "broken", "lost"]
CATEGORIES: tuple[str, ...] = get_args(Category)
CONDITIONS: tuple[str, ...] = get_args(Condition)


# ---------------------------------------------------------------- the file's models

_Text = Annotated[str, Strict()]
_Name = Annotated[str, Strict(), Field(min_length=1)]
_Amount = Annotated[float, Strict(), Field(ge=0)]


class CalibrationEntry(InputModel):
    name: _Name
    interval_days: Annotated[int, Strict()] = Field(ge=1, le=36_500)
    last_done: Day = None

    @property
    def next_due(self) -> date | None:
        return self.last_done + timedelta(days=self.interval_days) if self.last_done else None

    @model_validator(mode="after")
    def _in_the_calendar(self) -> CalibrationEntry:
        try:
            self.next_due  # noqa: B018  (the sum must exist)
        except OverflowError:
            raise refuse(
                "errors.readiness.last_done_days_past",
                "past the calendar",
                field="last_done",
                last=str(self.last_done),
                interval=self.interval_days,
            ) from None
        return self


class EquipmentEntry(InputModel):
    asset_tag: _Name
    category: Category
    type: _Name
    model: _Text = ""
    serial: _Text = ""
    location: _Text = ""
    holder: _Text = ""
    condition: Condition = "working"
    in_service: Annotated[bool, Strict()] = True
    notes: _Text = ""
    calibration: list[CalibrationEntry] = []


class ConsumableEntry(InputModel):
    item: _Name
    lot: _Text = ""
    quantity: _Amount
    unit: _Text = "pcs"
    expires_on: Day = None
    min_stock: _Amount = 0.0
    location: _Text = ""


class TemplateItem(InputModel):
    kind: Literal["equipment", "consumable"]
    type: _Name
    quantity: Annotated[float, Strict(), Field(gt=0)] = 1.0


class KitTemplateEntry(InputModel):
    name: _Name
    name_zh: _Text | None = None
    items: list[TemplateItem] = []


class KitConsumable(InputModel):
    item: _Name
    lot: _Text = ""
    quantity: Annotated[float, Strict(), Field(gt=0)] = 1.0


class KitEntry(InputModel):
    name: _Name
    template: _Name
    location: _Text = ""
    equipment: list[_Text] = []
    consumables: list[KitConsumable] = []


class InventoryFile(InputModel):
    """An inventory file: ``[[equipment]]`` (with its calibrations), ``[[consumable]]``,
    ``[[kit_template]]`` and ``[[kit]]``."""

    equipment: list[EquipmentEntry] = []
    consumable: list[ConsumableEntry] = []
    kit_template: list[KitTemplateEntry] = []
    kit: list[KitEntry] = []


def load_inventory(session: Session, path: str | Path, *, actor: str) -> dict[str, int]:
    from incident.core.inputs import SourceMap, parse, toml_where

    accounts.require(session, "equipment.update")
    data = read_toml(path)
    at = toml_where(SourceMap(Path(path).read_text(encoding="utf-8", errors="replace")), str(path))
    doc = parse(InventoryFile, data, where=at, source=str(path))
    tags: dict[str, Equipment] = {}
    for i, eq in enumerate(doc.equipment):
        where = at(("equipment", i))
        if eq.asset_tag in tags:
            raise UserError("errors.readiness.asset_tag_used_twice", where=where, tag=repr(eq.asset_tag))
        item = Equipment(**eq.model_dump(exclude={"calibration"}))
        session.add(item)
        flush_new(session, where, f"equipment {eq.asset_tag!r}")
        tags[eq.asset_tag] = item
        for cal in eq.calibration:
            session.add(
                CalibrationSchedule(
                    equipment_id=row_id(item),
                    name=cal.name,
                    interval_days=cal.interval_days,
                    last_done=cal.last_done,
                    next_due=cal.next_due,
                )
            )
    lots: dict[tuple[str, str], Consumable] = {}
    for c in doc.consumable:
        row = Consumable(**c.model_dump())
        session.add(row)
        session.flush()
        lots[(row.item, row.lot)] = row
    templates: dict[str, KitTemplate] = {}
    for i, t in enumerate(doc.kit_template):
        tpl = KitTemplate(name=t.name, name_zh=t.name_zh)
        session.add(tpl)
        flush_new(session, at(("kit_template", i)), f"kit template {tpl.name!r}")
        templates[tpl.name] = tpl
        for it in t.items:
            session.add(
                KitTemplateItem(
                    template_id=row_id(tpl), item_kind=it.kind, item_type=it.type, quantity=it.quantity
                )
            )
    kits = 0
    for i, k in enumerate(doc.kit):
        where = at(("kit", i))
        if k.template not in templates:
            raise UserError("errors.readiness.template_not_defined", where=where, tname=repr(k.template))
        kit = Kit(name=k.name, template_id=row_id(templates[k.template]), location=k.location)
        session.add(kit)
        flush_new(session, where, f"kit {kit.name!r}")
        for tag in k.equipment:
            if tag not in tags:
                raise UserError("errors.readiness.equipment_not_inventory", where=where, tag=repr(tag))
            session.add(KitItem(kit_id=row_id(kit), equipment_id=tags[tag].id, quantity=1))
        for kc in k.consumables:
            key = (kc.item, kc.lot)
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
                    quantity=kc.quantity,
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
