"""Inventory as one CSV file, for spreadsheets: export, and import that is all-or-nothing.

One row per record; the ``record`` column says which kind, and each kind uses
its own columns (others are left empty):

- ``equipment``: asset_tag*, category*, type*, model, serial, location, holder,
  condition (working|degraded|broken|lost, default working), in_service
  (yes|no, default yes), notes
- ``calibration``: asset_tag*, schedule*, interval_days*, last_done, next_due
  (default last_done + interval_days)
- ``consumable``: item*, lot, quantity*, unit (default pcs), expires_on,
  min_stock (default 0), location, notes is ignored

(* = required.) Dates are YYYY-MM-DD. Import adds new records and updates
existing ones (equipment by asset_tag, calibration by asset_tag + schedule,
consumables by item + lot); it never deletes. A quantity change is recorded
as a stock movement. Every row is checked first: if any row is wrong,
nothing is imported and every bad row is listed with its line number.
The file is written as UTF-8 with a byte-order mark so spreadsheet programs
show Chinese text correctly; either form is read.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationError, field_validator, model_validator
from sqlmodel import Session, col, select

from incident.core import accounts, log
from incident.core.clock import utcnow
from incident.core.errors import UserError, ValidationErrors
from incident.core.inputs import InputModel, refusals, refuse
from incident.core.store.tables import CalibrationSchedule, Consumable, Equipment, StockMovement, row_id
from incident.readiness.inventory import CATEGORIES, CONDITIONS

COLUMNS = [
    "record",
    "asset_tag",
    "category",
    "type",
    "model",
    "serial",
    "location",
    "holder",
    "condition",
    "in_service",
    "schedule",
    "interval_days",
    "last_done",
    "next_due",
    "item",
    "lot",
    "quantity",
    "unit",
    "expires_on",
    "min_stock",
    "notes",
]
RECORDS = ("equipment", "calibration", "consumable")
#: a calibration interval longer than a century is a typo
MAX_INTERVAL_DAYS = 36_500
_YES = {"yes": True, "y": True, "true": True, "1": True, "no": False, "n": False, "false": False, "0": False}


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _num(value: float) -> str:
    return f"{value:g}"


def export_csv(session: Session, path: str | Path) -> dict[str, int]:
    path = Path(path)
    rows: list[dict[str, str]] = []
    equipment = list(session.exec(select(Equipment).order_by(col(Equipment.asset_tag))))
    tags = {e.id: e.asset_tag for e in equipment}
    for e in equipment:
        rows.append(
            {
                "record": "equipment",
                "asset_tag": e.asset_tag,
                "category": e.category,
                "type": e.type,
                "model": e.model,
                "serial": e.serial,
                "location": e.location,
                "holder": e.holder,
                "condition": e.condition,
                "in_service": "yes" if e.in_service else "no",
                "notes": e.notes,
            }
        )
    schedules = list(session.exec(select(CalibrationSchedule).order_by(col(CalibrationSchedule.id))))
    for s in sorted(schedules, key=lambda s: (tags[s.equipment_id], s.id)):
        rows.append(
            {
                "record": "calibration",
                "asset_tag": tags[s.equipment_id],
                "schedule": s.name,
                "interval_days": str(s.interval_days),
                "last_done": _day(s.last_done),
                "next_due": _day(s.next_due),
            }
        )
    lots = list(session.exec(select(Consumable).order_by(col(Consumable.item), col(Consumable.lot))))
    for c in lots:
        rows.append(
            {
                "record": "consumable",
                "item": c.item,
                "lot": c.lot,
                "quantity": _num(c.quantity),
                "unit": c.unit,
                "expires_on": _day(c.expires_on),
                "min_stock": _num(c.min_stock),
                "location": c.location,
            }
        )
    from incident.core.files import atomic_writer

    with atomic_writer(path, newline="", encoding="utf-8-sig", what="inventory CSV") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return {"equipment": len(equipment), "calibration": len(schedules), "consumable": len(lots)}


# ---------------------------------------------------------------- import


@dataclass
class _Row:
    line: int
    record: str
    values: dict[str, Any] = field(default_factory=dict)


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[UserError] = []

    def bad(self, line: int, column: str, message_key: str, /, **params: Any) -> None:
        """Note a problem: ``message_key`` is an ``errors.readiness`` catalog key, ``params`` its values."""
        self.problems.append(UserError(message_key, where=f"{self.source}:{line} column {column}", **params))


# ---------------------------------------------------------------- the rows' models


def _one_of(value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise refuse("errors.readiness.not_known", "not known", value=repr(value), value2=", ".join(choices))
    return value


def _iso_day(value: object) -> object:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise refuse("errors.readiness.not_date_3", "not a date", value=repr(value)) from None
    return value


_Day = Annotated[date | None, BeforeValidator(_iso_day)]


class EquipmentRow(InputModel):
    asset_tag: str = Field(min_length=1)
    category: str = Field(default="", validate_default=True)
    type: str = Field(min_length=1)
    model: str = ""
    serial: str = ""
    location: str = ""
    holder: str = ""
    notes: str = ""
    condition: str = "working"
    in_service: bool = True

    @field_validator("category")
    @classmethod
    def _category(cls, value: str) -> str:
        return _one_of(value, CATEGORIES)

    @field_validator("condition")
    @classmethod
    def _condition(cls, value: str) -> str:
        return _one_of(value, CONDITIONS)

    @field_validator("in_service", mode="before")
    @classmethod
    def _yes_no(cls, value: object) -> object:
        if isinstance(value, str):
            if value.strip().casefold() not in _YES:
                raise refuse("errors.readiness.not_yes_no", "not yes or no", value=repr(value))
            return _YES[value.strip().casefold()]
        return value


class CalibrationRow(InputModel):
    asset_tag: str = Field(min_length=1)
    schedule: str = Field(min_length=1)
    interval_days: int = Field(ge=1, le=MAX_INTERVAL_DAYS)
    last_done: _Day = None
    next_due: _Day = None

    @model_validator(mode="after")
    def _due(self) -> CalibrationRow:
        if self.next_due is None and self.last_done is not None:
            try:
                due = self.last_done + timedelta(days=self.interval_days)
            except OverflowError:
                raise refuse(
                    "errors.readiness.next_due_past_calendar", "past the calendar", field="last_done"
                ) from None
            object.__setattr__(self, "next_due", due)  # the model is frozen; this is its own default
        return self


class ConsumableRow(InputModel):
    item: str = Field(min_length=1)
    lot: str = ""
    quantity: float = Field(ge=0)
    unit: str = "pcs"
    expires_on: _Day = None
    min_stock: float = Field(default=0.0, ge=0)
    location: str = ""


_ROW_MODELS: dict[str, type[InputModel]] = {
    "equipment": EquipmentRow,
    "calibration": CalibrationRow,
    "consumable": ConsumableRow,
}


def _read(path: Path, check: _Checker) -> list[_Row]:
    try:
        fh = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise UserError(
            "errors.readiness.cannot_read_file_3", where=str(path), strerror=exc.strerror
        ) from exc
    rows: list[_Row] = []
    with fh:
        try:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            unknown = [h for h in header if h not in COLUMNS]
            if "record" not in header:
                raise UserError(
                    "errors.readiness.header_has_no_record",
                    where=f"{path}:1",
                    columns=",".join(COLUMNS),
                )
            if unknown:
                check.bad(
                    1,
                    ", ".join(unknown),
                    "errors.readiness.unknown_column_s",
                    value=", ".join(map(repr, unknown)),
                )
            for raw in reader:
                line = reader.line_num
                if None in raw:
                    check.bad(line, "—", "errors.readiness.value_s_more_than", len_value=len(raw[None]))
                if not any((v or "").strip() for k, v in raw.items() if k is not None and isinstance(v, str)):
                    continue  # blank line
                record = (raw.get("record") or "").strip()
                if record not in RECORDS:
                    check.bad(
                        line,
                        "record",
                        "errors.readiness.record_not_known",
                        record=repr(record),
                        value=", ".join(RECORDS),
                    )
                    continue
                row = _parse(check, raw, line, record)
                if row is not None:
                    rows.append(row)
        except UnicodeDecodeError as exc:
            raise UserError("errors.readiness.file_not_utf_text", where=str(path)) from exc
        except csv.Error as exc:
            raise UserError(
                "errors.readiness.not_valid_csv", where=f"{path}:{reader.line_num}", exc=exc
            ) from exc
    return rows


def _parse(c: _Checker, raw: dict[str, str], line: int, record: str) -> _Row | None:
    """The row as its record's model (the cells it has; other records' columns are not its business)."""
    model = _ROW_MODELS[record]
    cells = {
        k: v.strip() for k, v in raw.items() if k in model.model_fields and isinstance(v, str) and v.strip()
    }
    try:
        parsed = model.model_validate(cells)
    except ValidationError as exc:
        c.problems += refusals(
            exc, where=lambda loc: f"{c.source}:{line} column {loc[0] if loc else '—'}", field_name=_no_field
        )
        return None
    return _Row(line, record, parsed.model_dump())


def _no_field(loc: tuple[Any, ...]) -> str:
    return ""  # the column is named in ``where``


def import_csv(session: Session, path: str | Path, *, actor: str, dry_run: bool = False) -> dict[str, int]:
    """Check every row, then apply all of them (or, with ``dry_run``, none). Returns counts."""
    if not dry_run:  # a dry run changes nothing: anyone may check a file
        accounts.require(session, "equipment.update")
    path = Path(path)
    check = _Checker(str(path))
    rows = _read(path, check)
    existing = {e.asset_tag: e for e in session.exec(select(Equipment))}
    in_file: set[str] = set()
    seen: dict[tuple[Any, ...], int] = {}
    for row in rows:
        v = row.values
        if row.record == "equipment":
            record_key: tuple[Any, ...] = ("equipment", v["asset_tag"])
        elif row.record == "calibration":
            record_key = ("calibration", v["asset_tag"], (v["schedule"] or "").casefold())
        else:
            record_key = ("consumable", v["item"], v["lot"])
        if None not in record_key and record_key in seen:
            check.bad(row.line, "—", "errors.readiness.same_line", record=row.record, value=seen[record_key])
        seen.setdefault(record_key, row.line)
        if row.record == "equipment" and v["asset_tag"]:
            in_file.add(v["asset_tag"])
    for row in rows:
        tag = row.values.get("asset_tag")
        if row.record == "calibration" and tag and tag not in existing and tag not in in_file:
            check.bad(row.line, "asset_tag", "errors.readiness.not_inventory_file", tag=repr(tag))
    if check.problems:
        raise ValidationErrors(str(path), check.problems)
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    changes: list[dict[str, Any]] = []
    now = utcnow()

    def note(row: _Row, what: str, diff: dict[str, Any]) -> None:
        counts[what] += 1
        if diff:
            changes.append({"line": row.line, "record": row.record, "change": what, **diff})

    for row in sorted(rows, key=lambda r: RECORDS.index(r.record)):
        v = row.values
        if row.record == "equipment":
            eq = existing.get(v["asset_tag"])
            if eq is None:
                eq = Equipment(**v)
                session.add(eq)
                session.flush()
                existing[eq.asset_tag] = eq
                note(row, "added", {"key": eq.asset_tag})
            else:
                diff = {k: [getattr(eq, k), val] for k, val in v.items() if getattr(eq, k) != val}
                for k, (_, val) in diff.items():
                    setattr(eq, k, val)
                session.add(eq)
                note(
                    row,
                    "updated" if diff else "unchanged",
                    {"key": eq.asset_tag, "fields": diff} if diff else {},
                )
        elif row.record == "calibration":
            eq = existing[v["asset_tag"]]
            sched = next(
                (
                    s
                    for s in session.exec(
                        select(CalibrationSchedule).where(CalibrationSchedule.equipment_id == eq.id)
                    )
                    if s.name.casefold() == v["schedule"].casefold()
                ),
                None,
            )
            fields = {k: v[k] for k in ("interval_days", "last_done", "next_due")}
            key = f"{eq.asset_tag} {v['schedule']}"
            if sched is None:
                session.add(CalibrationSchedule(equipment_id=row_id(eq), name=v["schedule"], **fields))
                note(row, "added", {"key": key})
            else:
                diff = {k: [getattr(sched, k), val] for k, val in fields.items() if getattr(sched, k) != val}
                for k, (_, val) in diff.items():
                    setattr(sched, k, val)
                session.add(sched)
                note(row, "updated" if diff else "unchanged", {"key": key, "fields": diff} if diff else {})
        else:
            lot = session.exec(
                select(Consumable).where(Consumable.item == v["item"], Consumable.lot == v["lot"])
            ).first()
            key = f"{v['item']} {v['lot']}".strip()
            if lot is None:
                lot = Consumable(**v)
                session.add(lot)
                session.flush()
                session.add(
                    StockMovement(
                        consumable_id=row_id(lot),
                        at=now,
                        delta=lot.quantity,
                        reason=f"import {path.name} line {row.line}",
                        by=actor,
                    )
                )
                note(row, "added", {"key": key})
            else:
                diff = {k: [getattr(lot, k), val] for k, val in v.items() if getattr(lot, k) != val}
                if "quantity" in diff:
                    session.add(
                        StockMovement(
                            consumable_id=row_id(lot),
                            at=now,
                            delta=v["quantity"] - lot.quantity,
                            reason=f"import {path.name} line {row.line}",
                            by=actor,
                        )
                    )
                for k, (_, val) in diff.items():
                    setattr(lot, k, val)
                session.add(lot)
                note(row, "updated" if diff else "unchanged", {"key": key, "fields": diff} if diff else {})
    session.flush()
    if dry_run:
        session.rollback()
        return counts
    log.append(
        session,
        chain=log.CENTRE_CHAIN,
        actor=actor,
        kind="inventory.imported",
        summary=f"Inventory imported from {path.name}: {counts['added']} added, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged",
        payload={"file": str(path), **counts, "changes": changes},
        at=now,
    )
    return counts
