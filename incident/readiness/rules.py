"""Equipment readiness: is each kit ready, can the centre field N teams right now?

The rules (documented in the README, "Equipment readiness"):

- an **item** blocks when it is broken or lost, out of service, checked out on
  its own to a crew, never calibrated, overdue on any calibration schedule
  (``next_due`` before the check date) or its latest calibration failed; it
  warns when degraded or when a due date falls within the warning horizon;
- a **kit** is ready when, for every line of its template, enough usable
  items of that type are in the kit, and enough unexpired consumables (the
  kit's quantity, capped by what is left in the lot); a short line suggests
  the lot to top up from, earliest expiry first;
- a **team** (crew) is ready when the crew is available, its leader and
  members hold the qualifications of the requirement table
  (``incident/data/readiness.toml``), and its kit and vehicle are ready and
  not out with another crew;
- the **roll-up** counts ready teams (a kit or vehicle fields one team only)
  against the number required, and lists stock below minimum (total across
  unexpired lots) and expired lots.

Everything here reads; nothing is written except by the playbook action,
which logs the check on the incident's chain.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BeforeValidator, Field, Strict
from sqlmodel import Session, col, select

from incident.core.clock import to_local, utcnow
from incident.core.config import default_data_dir
from incident.core.errors import UserError
from incident.core.i18n import t
from incident.core.inputs import InputModel, refuse, shown
from incident.core.store.tables import (
    CalibrationRecord,
    CalibrationSchedule,
    Checkout,
    Consumable,
    Crew,
    CrewMember,
    Equipment,
    Kit,
    KitItem,
    KitTemplate,
    KitTemplateItem,
    Qualification,
    Responder,
    row_id,
)

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "data" / "readiness.toml"
HolderKind = Literal["leader", "crew"]
HOLDERS: tuple[str, ...] = get_args(HolderKind)
MAX_TEAMS = 10_000
MAX_WARNING_DAYS = 36_500  # a hundred years ahead is already no warning at all


def _holder(value: object) -> object:
    if value not in HOLDERS:
        raise refuse("errors.readiness.holder_not_known", "holder not known", holder=shown(value))
    return value


Holder = Annotated[HolderKind, BeforeValidator(_holder)]
_Name = Annotated[str, Strict(), Field(min_length=1)]


# ---------------------------------------------------------------- configuration


@dataclass(frozen=True)
class Requirement:
    template: str  # kit template name, or "*" for every field team
    kind: str  # qualification kind
    holder: str  # leader | crew


@dataclass(frozen=True)
class ReadinessConfig:
    teams_required: int = 2
    warning_days: tuple[int, ...] = (30, 7)
    requirements: tuple[Requirement, ...] = ()
    source: str = ""

    @property
    def horizon(self) -> int:
        return max(self.warning_days)

    @property
    def soon(self) -> int:
        return min(self.warning_days)


def config_path() -> Path:
    """The centre's own file ($INCIDENT_HOME/readiness.toml) when present, else the shipped one."""
    own = default_data_dir() / "readiness.toml"
    return own if own.exists() else DEFAULT_CONFIG


class QualificationRule(InputModel):
    """A ``[[qualification]]`` table: who in a team must hold a qualification, for which kits."""

    template: _Name  # kit template name, or "*" for every field team
    kind: _Name  # qualification kind as in the roster
    holder: Holder = "leader"


class ReadinessFile(InputModel):
    """The requirement table (``incident/data/readiness.toml``, or the centre's own copy)."""

    teams_required: Annotated[int, Strict()] = Field(default=2, ge=1, le=MAX_TEAMS)
    warning_days: list[Annotated[int, Strict(), Field(ge=0, le=MAX_WARNING_DAYS)]] = Field(
        default=[30, 7], min_length=1
    )
    qualification: list[QualificationRule] = []


def _place(loc: tuple[Any, ...]) -> str:
    """A field as the file's reader names it: ``qualification #2 holder``."""
    return " ".join(f"#{p + 1}" if isinstance(p, int) else str(p) for p in loc)


def load_config(path: str | Path | None = None) -> ReadinessConfig:
    from incident.core.datafiles import read_toml
    from incident.core.inputs import SourceMap, parse, toml_where

    path = Path(path) if path else config_path()
    data = read_toml(path)
    at = toml_where(SourceMap(path.read_text(encoding="utf-8", errors="replace")), str(path))
    doc = parse(ReadinessFile, data, where=at, source=str(path), field_name=_place)
    return ReadinessConfig(
        teams_required=doc.teams_required,
        warning_days=tuple(sorted(set(doc.warning_days), reverse=True)),
        requirements=tuple(Requirement(q.template, q.kind, q.holder) for q in doc.qualification),
        source=str(path),
    )


def today_local() -> date:
    """The check date by default: today in the centre's local time (UTC+8)."""
    return to_local(utcnow()).date()


def parse_day_arg(text: str, *, where: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise UserError("errors.readiness.not_date", where=where, text=repr(text)) from exc


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Finding:
    level: str  # block | warn
    text: str
    due: date | None = None
    days: int | None = None  # days from the check date to ``due``


@dataclass
class KitReadiness:
    kit_id: int
    name: str
    template: str
    template_zh: str | None
    location: str
    state: str  # ready | due_soon | not_ready
    blocking: list[str]
    warnings: list[str]
    checked_out_to: str | None = None
    soonest_days: int | None = None


@dataclass
class TeamReadiness:
    crew_id: int
    crew: str
    status: str
    leader: str | None
    kit: str | None
    vehicle: str | None
    state: str
    blocking: list[str]
    warnings: list[str]
    counted: bool = False  # counted towards "can field N teams"
    soonest_days: int | None = None


@dataclass
class ItemReadiness:
    equipment_id: int
    tag: str
    category: str
    type: str
    condition: str
    in_service: bool
    holder: str
    kit: str | None
    next_due: date | None
    state: str
    blocking: list[str]
    warnings: list[str]
    soonest_days: int | None = None


@dataclass
class LotLine:
    lot: str
    quantity: float
    expires_on: date | None
    state: str  # ok | expiring | expired
    days: int | None


@dataclass
class StockLine:
    item: str
    unit: str
    usable: float  # across unexpired lots
    minimum: float
    restock: bool
    lots: list[LotLine]


@dataclass
class Rollup:
    on: date
    teams_required: int
    teams_ready: int
    can_field: bool
    teams: list[TeamReadiness]
    kits: list[KitReadiness]
    stock: list[StockLine]
    warning_days: tuple[int, ...]
    items: list[ItemReadiness] = field(default_factory=list)
    teams_deployed: int = 0  # crews assigned to an incident now
    kits_out: int = 0  # kits checked out now

    @property
    def restock(self) -> list[StockLine]:
        return [s for s in self.stock if s.restock]

    @property
    def expired_lots(self) -> list[tuple[str, LotLine]]:
        return [
            (s.item, lot) for s in self.stock for lot in s.lots if lot.state == "expired" and lot.quantity
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "on": self.on,
            "teams_required": self.teams_required,
            "teams_ready": self.teams_ready,
            "teams_deployed": self.teams_deployed,
            "kits_out": self.kits_out,
            "can_field": self.can_field,
            "warning_days": list(self.warning_days),
            "teams": [asdict(x) for x in self.teams],
            "kits": [asdict(x) for x in self.kits],
            "restock": [asdict(s) for s in self.restock],
            "expired_lots": [{"item": item, **asdict(lot)} for item, lot in self.expired_lots],
            "stock": [asdict(s) for s in self.stock],
            "items": [asdict(i) for i in self.items],
        }


def _state(blocking: list[Finding], warnings: list[Finding]) -> str:
    if blocking:
        return "not_ready"
    return "due_soon" if warnings else "ready"


def _soonest(findings: list[Finding]) -> int | None:
    days = [f.days for f in findings if f.days is not None]
    return min(days) if days else None


def _dedupe(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(texts))


def _qualification_name(kind: str) -> str:
    """A qualification kind in words (the kind itself when the catalog does not know it)."""
    key = f"readiness.qualification.{kind}"
    text = t(key)
    return kind if text == key else text


def _fmt_qty(value: float) -> str:
    return f"{value:g}"


# ---------------------------------------------------------------- the snapshot


class Snapshot:
    """Everything the rules need, read once (a few queries, whatever the inventory size)."""

    def __init__(self, session: Session, on: date, config: ReadinessConfig) -> None:
        self.on = on
        self.config = config
        self.equipment = {e.id: e for e in session.exec(select(Equipment))}
        self.schedules: dict[int, list[CalibrationSchedule]] = defaultdict(list)
        for s in session.exec(select(CalibrationSchedule).order_by(col(CalibrationSchedule.id))):
            self.schedules[s.equipment_id].append(s)
        self.last_record: dict[int, CalibrationRecord] = {}
        records = session.exec(
            select(CalibrationRecord)
            .where(CalibrationRecord.done_on <= on)
            .order_by(col(CalibrationRecord.done_on), col(CalibrationRecord.id))
        )
        for r in records:
            self.last_record[r.schedule_id] = r
        self.lots = {c.id: c for c in session.exec(select(Consumable).order_by(col(Consumable.id)))}
        self.templates = {tpl.id: tpl for tpl in session.exec(select(KitTemplate))}
        self.template_items: dict[int, list[KitTemplateItem]] = defaultdict(list)
        for ti in session.exec(select(KitTemplateItem).order_by(col(KitTemplateItem.id))):
            self.template_items[ti.template_id].append(ti)
        self.kits = {k.id: k for k in session.exec(select(Kit).order_by(col(Kit.name)))}
        self.kit_items: dict[int, list[KitItem]] = defaultdict(list)
        self.allocated: dict[int, float] = defaultdict(float)  # lot id -> quantity packed in kits
        self.kit_of_equipment: dict[int, int] = {}
        for ki in session.exec(select(KitItem).order_by(col(KitItem.id))):
            self.kit_items[ki.kit_id].append(ki)
            if ki.consumable_id is not None:
                self.allocated[ki.consumable_id] += ki.quantity
            if ki.equipment_id is not None:
                self.kit_of_equipment[ki.equipment_id] = ki.kit_id
        # real crews only: an exercise's own roster never counts towards real readiness
        self.crews = {
            c.id: c
            for c in session.exec(
                select(Crew).where(col(Crew.exercise_id).is_(None)).order_by(col(Crew.name))
            )
        }
        self.open_equipment: dict[int, Checkout] = {}
        self.open_kit: dict[int, Checkout] = {}
        for co in session.exec(select(Checkout).where(col(Checkout.in_at).is_(None))):
            if co.equipment_id is not None:
                self.open_equipment[co.equipment_id] = co
            if co.kit_id is not None:
                self.open_kit[co.kit_id] = co
        self.people = {p.id: p for p in session.exec(select(Responder))}
        self.quals: dict[int, list[Qualification]] = defaultdict(list)
        for q in session.exec(select(Qualification)):
            self.quals[q.responder_id].append(q)
        self.members: dict[int, list[int]] = defaultdict(list)
        for m in session.exec(select(CrewMember)):
            self.members[m.crew_id].append(m.responder_id)

    def crew_name(self, crew_id: int | None) -> str:
        crew = self.crews.get(crew_id) if crew_id is not None else None
        return crew.name if crew else "?"

    def days(self, due: date) -> int:
        return (due - self.on).days

    # -- items --------------------------------------------------------------
    def equipment_findings(self, eq: Equipment, *, with_crew: int | None = None) -> list[Finding]:
        """What stops (or should worry) anyone taking this item out today."""
        out: list[Finding] = []
        tag = eq.asset_tag
        if eq.condition in ("broken", "lost"):
            out.append(
                Finding(
                    "block",
                    t(
                        "readiness.reason.condition",
                        tag=tag,
                        condition=t(f"readiness.condition.{eq.condition}"),
                    ),
                )
            )
        elif eq.condition == "degraded":
            note = f" ({eq.notes})" if eq.notes else ""
            out.append(Finding("warn", t("readiness.reason.degraded", tag=tag, note=note)))
        if not eq.in_service:
            out.append(Finding("block", t("readiness.reason.out_of_service", tag=tag)))
        co = self.open_equipment.get(row_id(eq))
        if co is not None and co.crew_id != with_crew:
            out.append(
                Finding("block", t("readiness.reason.checked_out", tag=tag, crew=self.crew_name(co.crew_id)))
            )
        for sched in self.schedules.get(row_id(eq), []):
            out.extend(self.schedule_findings(eq, sched))
        return out

    def schedule_findings(self, eq: Equipment, sched: CalibrationSchedule) -> list[Finding]:
        tag, name = eq.asset_tag, sched.name
        last = self.last_record.get(row_id(sched))
        if last is not None and not last.passed:
            return [
                Finding("block", t("readiness.reason.cal_failed", tag=tag, schedule=name, date=last.done_on))
            ]
        if sched.next_due is None:
            return [Finding("block", t("readiness.reason.cal_never", tag=tag, schedule=name))]
        days = self.days(sched.next_due)
        if days < 0:
            return [
                Finding(
                    "block",
                    t(
                        "readiness.reason.cal_overdue",
                        tag=tag,
                        schedule=name,
                        date=sched.next_due,
                        days=-days,
                    ),
                    sched.next_due,
                    days,
                )
            ]
        if days <= self.config.horizon:
            return [
                Finding(
                    "warn",
                    t("readiness.reason.cal_due", tag=tag, schedule=name, date=sched.next_due, days=days),
                    sched.next_due,
                    days,
                )
            ]
        return []

    # -- lots ---------------------------------------------------------------
    def lot_expired(self, lot: Consumable) -> bool:
        return lot.expires_on is not None and lot.expires_on < self.on

    def fefo_lots(self, item: str, *, free_only: bool = False) -> list[Consumable]:
        """Unexpired lots of ``item`` with stock, earliest expiry first (no expiry last)."""
        lots = [
            c
            for c in self.lots.values()
            if c.item == item and not self.lot_expired(c) and self.free(c, free_only) > 0
        ]
        return sorted(lots, key=lambda c: (c.expires_on is None, c.expires_on or date.max, c.id))

    def free(self, lot: Consumable, free_only: bool) -> float:
        return lot.quantity - self.allocated.get(row_id(lot), 0.0) if free_only else lot.quantity

    # -- kits ---------------------------------------------------------------
    def kit_findings(self, kit: Kit) -> list[Finding]:
        out: list[Finding] = []
        items = self.kit_items.get(row_id(kit), [])
        for line in self.template_items.get(kit.template_id, []):
            if line.item_kind == "equipment":
                out.extend(self._equipment_line(line, items))
            else:
                out.extend(self._consumable_line(line, items))
        return out

    def _equipment_line(self, line: KitTemplateItem, items: list[KitItem]) -> list[Finding]:
        need = int(round(line.quantity))
        present = [
            self.equipment[ki.equipment_id]
            for ki in items
            if ki.equipment_id is not None and self.equipment[ki.equipment_id].type == line.item_type
        ]
        out: list[Finding] = []
        usable = 0
        item_findings: list[Finding] = []
        for eq in present:
            found = self.equipment_findings(eq)
            if not any(f.level == "block" for f in found):
                usable += 1
            item_findings.extend(found)
        if len(present) < need:
            out.append(
                Finding(
                    "block", t("readiness.reason.missing", type=line.item_type, have=len(present), need=need)
                )
            )
        if usable >= need:
            # enough good ones: problems with spares are worth a warning, not a stop
            out.extend(
                Finding("warn", f.text, f.due, f.days) if f.level == "block" else f for f in item_findings
            )
        else:
            out.extend(item_findings)
        return out

    def _consumable_line(self, line: KitTemplateItem, items: list[KitItem]) -> list[Finding]:
        out: list[Finding] = []
        expired: list[str] = []  # expired lots packed in the kit: remove them
        have = 0.0
        unit = ""
        for ki in items:
            lot = self.lots.get(ki.consumable_id) if ki.consumable_id is not None else None
            if lot is None or lot.item != line.item_type:
                continue
            unit = lot.unit
            if self.lot_expired(lot):
                expired.append(
                    t("readiness.reason.lot_expired", item=lot.item, lot=lot.lot, date=lot.expires_on)
                )
                continue
            have += max(0.0, min(ki.quantity, lot.quantity))
            if lot.expires_on is not None:
                days = self.days(lot.expires_on)
                if days <= self.config.horizon:
                    out.append(
                        Finding(
                            "warn",
                            t(
                                "readiness.reason.lot_expiring",
                                item=lot.item,
                                lot=lot.lot,
                                date=lot.expires_on,
                                days=days,
                            ),
                            lot.expires_on,
                            days,
                        )
                    )
        if have < line.quantity:
            unit = unit or next((c.unit for c in self.lots.values() if c.item == line.item_type), "")
            text = t(
                "readiness.reason.short",
                item=line.item_type,
                have=_fmt_qty(have),
                need=_fmt_qty(line.quantity),
                unit=unit,
            )
            source = self.fefo_lots(line.item_type, free_only=True)
            if source:
                text += " — " + t(
                    "readiness.reason.top_up",
                    lot=source[0].lot,
                    date=source[0].expires_on or "—",
                )
            else:
                text += " — " + t("readiness.reason.no_stock")
            # an expired lot is then part of why the line is short
            out.extend(Finding("block", e) for e in expired)
            out.append(Finding("block", text))
        else:
            out.extend(Finding("warn", e) for e in expired)
        return out

    def kit_readiness(self, kit: Kit) -> KitReadiness:
        findings = self.kit_findings(kit)
        blocking = [f for f in findings if f.level == "block"]
        warnings = [f for f in findings if f.level == "warn"]
        tpl = self.templates[kit.template_id]
        co = self.open_kit.get(row_id(kit))
        return KitReadiness(
            kit_id=row_id(kit),
            name=kit.name,
            template=tpl.name,
            template_zh=tpl.name_zh,
            location=kit.location,
            state=_state(blocking, warnings),
            blocking=_dedupe([f.text for f in blocking]),
            warnings=_dedupe([f.text for f in warnings]),
            checked_out_to=self.crew_name(co.crew_id) if co else None,
            soonest_days=_soonest(warnings),
        )

    def item_readiness(self, eq: Equipment) -> ItemReadiness:
        found = self.equipment_findings(eq)
        blocking = [f for f in found if f.level == "block"]
        warnings = [f for f in found if f.level == "warn"]
        kit_id = self.kit_of_equipment.get(row_id(eq))
        dues = [s.next_due for s in self.schedules.get(row_id(eq), []) if s.next_due]
        return ItemReadiness(
            equipment_id=row_id(eq),
            tag=eq.asset_tag,
            category=eq.category,
            type=eq.type,
            condition=eq.condition,
            in_service=eq.in_service,
            holder=eq.holder,
            kit=self.kits[kit_id].name if kit_id in self.kits else None,
            next_due=min(dues) if dues else None,
            state=_state(blocking, warnings),
            blocking=_dedupe([f.text for f in blocking]),
            warnings=_dedupe([f.text for f in warnings]),
            soonest_days=_soonest(warnings + blocking),
        )

    # -- teams --------------------------------------------------------------
    def qualification_findings(self, crew: Crew, template: str | None) -> list[Finding]:
        out: list[Finding] = []
        leader = self.people.get(crew.leader_id) if crew.leader_id is not None else None
        if leader is None:
            out.append(Finding("block", t("readiness.reason.no_leader", crew=crew.name)))
        member_ids = list(
            dict.fromkeys(([crew.leader_id] if crew.leader_id else []) + self.members.get(row_id(crew), []))
        )
        for req in self.config.requirements:
            if req.template not in ("*", template):
                continue
            people = (
                ([leader] if leader else [])
                if req.holder == "leader"
                else [self.people[i] for i in member_ids if i in self.people]
            )
            out.extend(self._qualification(crew, req, people))
        return out

    def _qualification(self, crew: Crew, req: Requirement, people: list[Responder]) -> list[Finding]:
        best: tuple[Responder, Qualification] | None = None
        expired: tuple[Responder, Qualification] | None = None
        for person in people:
            for q in self.quals.get(row_id(person), []):
                if q.kind != req.kind:
                    continue
                if q.expires_on is not None and q.expires_on < self.on:
                    expired = expired or (person, q)
                    continue
                if best is None or (q.expires_on or date.max) > (best[1].expires_on or date.max):
                    best = (person, q)
        qual = _qualification_name(req.kind)
        if best is None:
            if expired is not None:
                person, q = expired
                return [
                    Finding(
                        "block",
                        t("readiness.reason.qual_expired", person=person.name, qual=qual, date=q.expires_on),
                    )
                ]
            if req.holder == "leader":
                if not people:
                    return []  # "no leader" already said
                return [
                    Finding("block", t("readiness.reason.qual_missing", person=people[0].name, qual=qual))
                ]
            return [Finding("block", t("readiness.reason.crew_qual_missing", crew=crew.name, qual=qual))]
        person, q = best
        if q.expires_on is not None:
            days = self.days(q.expires_on)
            if days <= self.config.horizon:
                return [
                    Finding(
                        "warn",
                        t(
                            "readiness.reason.qual_expiring",
                            person=person.name,
                            qual=qual,
                            date=q.expires_on,
                            days=days,
                        ),
                        q.expires_on,
                        days,
                    )
                ]
        return []

    def team_readiness(self, crew: Crew, kit_results: dict[int, KitReadiness]) -> TeamReadiness:
        found: list[Finding] = []
        if crew.status != "available":
            found.append(
                Finding(
                    "block",
                    t("readiness.reason.crew_status", crew=crew.name, status=t(f"status.{crew.status}")),
                )
            )
        kit = self.kits.get(crew.kit_id) if crew.kit_id is not None else None
        template = self.templates[kit.template_id].name if kit else None
        found.extend(self.qualification_findings(crew, template))
        if kit is None:
            found.append(Finding("block", t("readiness.reason.no_kit", crew=crew.name)))
        else:
            kr = kit_results[row_id(kit)]
            found.extend(
                Finding("block", t("readiness.reason.in_kit", kit=kit.name, reason=r)) for r in kr.blocking
            )
            found.extend(
                Finding("warn", t("readiness.reason.in_kit", kit=kit.name, reason=r)) for r in kr.warnings
            )
            co = self.open_kit.get(row_id(kit))
            if co is not None and co.crew_id != crew.id:
                found.append(
                    Finding(
                        "block", t("readiness.reason.kit_out", kit=kit.name, crew=self.crew_name(co.crew_id))
                    )
                )
        vehicle = self.equipment.get(crew.vehicle_id) if crew.vehicle_id is not None else None
        if vehicle is None:
            found.append(Finding("block", t("readiness.reason.no_vehicle", crew=crew.name)))
        else:
            found.extend(self.equipment_findings(vehicle, with_crew=crew.id))
        blocking = [f for f in found if f.level == "block"]
        warnings = [f for f in found if f.level == "warn"]
        leader = self.people.get(crew.leader_id) if crew.leader_id is not None else None
        return TeamReadiness(
            crew_id=row_id(crew),
            crew=crew.name,
            status=crew.status,
            leader=leader.name if leader else None,
            kit=kit.name if kit else None,
            vehicle=vehicle.asset_tag if vehicle else None,
            state=_state(blocking, warnings),
            blocking=_dedupe([f.text for f in blocking]),
            warnings=_dedupe([f.text for f in warnings]),
            soonest_days=_soonest(warnings),
        )

    # -- stock --------------------------------------------------------------
    def stock(self) -> list[StockLine]:
        by_item: dict[str, list[Consumable]] = defaultdict(list)
        for lot in self.lots.values():
            by_item[lot.item].append(lot)
        lines = []
        for item in sorted(by_item):
            lots = sorted(by_item[item], key=lambda c: (c.expires_on is None, c.expires_on or date.max, c.id))
            lot_lines = []
            for c in lots:
                days = self.days(c.expires_on) if c.expires_on else None
                state = "ok"
                if days is not None and days < 0:
                    state = "expired"
                elif days is not None and days <= self.config.horizon:
                    state = "expiring"
                lot_lines.append(LotLine(c.lot, c.quantity, c.expires_on, state, days))
            usable = sum(c.quantity for c in lots if not self.lot_expired(c))
            minimum = max(c.min_stock for c in lots)
            lines.append(StockLine(item, lots[0].unit, usable, minimum, usable < minimum, lot_lines))
        return lines


# ---------------------------------------------------------------- entry points


def kit_ready(session: Session, kit_id: int, *, on: date | None = None) -> tuple[bool, list[str]]:
    """Is kit ``kit_id`` ready on ``on`` (default today)? Returns (ready, blocking reasons)."""
    snap = Snapshot(session, on or today_local(), load_config())
    kit = snap.kits.get(kit_id)
    if kit is None:
        raise UserError("errors.readiness.no_kit_id", kit_id=kit_id)
    result = snap.kit_readiness(kit)
    return (not result.blocking, result.blocking)


def kit_status(
    session: Session, kit_id: int, *, on: date | None = None, config: ReadinessConfig | None = None
) -> KitReadiness:
    snap = Snapshot(session, on or today_local(), config or load_config())
    kit = snap.kits.get(kit_id)
    if kit is None:
        raise UserError("errors.readiness.no_kit_id", kit_id=kit_id)
    return snap.kit_readiness(kit)


def rollup(
    session: Session,
    *,
    on: date | None = None,
    teams: int | None = None,
    config: ReadinessConfig | None = None,
) -> Rollup:
    """The centre's answer to "can we field N teams now?", with what blocks each team."""
    config = config or load_config()
    if teams is not None and teams < 1:
        raise UserError("errors.readiness.teams", field="teams", teams=teams)
    required = teams if teams is not None else config.teams_required
    snap = Snapshot(session, on or today_local(), config)
    kits = {row_id(k): snap.kit_readiness(k) for k in snap.kits.values()}
    team_list = [snap.team_readiness(c, kits) for c in snap.crews.values()]
    used_kits: dict[str, str] = {}
    used_vehicles: dict[str, str] = {}
    for team in team_list:
        if team.state == "not_ready":
            continue
        if team.kit in used_kits:
            team.blocking.append(t("readiness.reason.kit_shared", kit=team.kit, crew=used_kits[team.kit]))
        if team.vehicle in used_vehicles:
            team.blocking.append(
                t("readiness.reason.vehicle_shared", tag=team.vehicle, crew=used_vehicles[team.vehicle])
            )
        if team.blocking:
            team.state = "not_ready"
            continue
        team.counted = True
        used_kits[team.kit or ""] = team.crew
        used_vehicles[team.vehicle or ""] = team.crew
    ready = sum(1 for x in team_list if x.counted)
    deployed = sum(1 for c in snap.crews.values() if c.status == "assigned")
    return Rollup(
        teams_deployed=deployed,
        kits_out=len(snap.open_kit),
        on=snap.on,
        teams_required=required,
        teams_ready=ready,
        can_field=ready >= required,
        teams=team_list,
        kits=sorted(kits.values(), key=lambda k: k.name),
        stock=snap.stock(),
        warning_days=config.warning_days,
        items=[snap.item_readiness(e) for e in sorted(snap.equipment.values(), key=lambda e: e.asset_tag)],
    )


def dispatch_refusals(session: Session, crew_id: int, *, on: date | None = None) -> list[str]:
    """Why a crew may not be sent out: the team is NOT READY, or its kit is out with another crew,
    expired, uncalibrated or short of consumables, or its vehicle is unfit ([] = it may go).

    Being already Assigned is not a refusal here (re-routing a crew in the field is allowed);
    being out of service is.
    """
    snap = Snapshot(session, on or today_local(), load_config())
    crew = snap.crews.get(crew_id) or session.get(Crew, crew_id)  # an exercise's crew is judged too
    if crew is None:
        raise UserError("errors.crews.no_id", id=crew_id)
    kits = (
        {crew.kit_id: snap.kit_readiness(snap.kits[crew.kit_id])}
        if crew.kit_id is not None and crew.kit_id in snap.kits
        else {}
    )
    status = crew.status
    if status == "assigned":  # judged as if available: the other findings still count
        crew.status = "available"
    try:
        team = snap.team_readiness(crew, kits)
    finally:
        crew.status = status
    return list(team.blocking)


def equipment_problems(session: Session, equipment_id: int, *, on: date | None = None) -> list[Finding]:
    snap = Snapshot(session, on or today_local(), load_config())
    return snap.equipment_findings(snap.equipment[equipment_id])


def fefo_lots(session: Session, item: str, *, on: date | None = None) -> list[Consumable]:
    """Unexpired lots of ``item`` with stock, earliest expiry first: the order to use them in."""
    return Snapshot(session, on or today_local(), load_config()).fefo_lots(item)


# ---------------------------------------------------------------- due dates


@dataclass
class DueItem:
    due: date
    days: int
    week: date  # Monday of the ISO week
    kind: str  # calibration | inspection | expiry | qualification
    subject: str  # asset tag, item lot, person
    what: str


def due_items(session: Session, *, on: date | None = None, weeks: int = 8) -> list[DueItem]:
    """Everything falling due from now to ``weeks`` ahead, plus what is already overdue."""
    if weeks < 1:
        raise UserError("errors.readiness.weeks", field="weeks", weeks=weeks)
    on = on or today_local()
    try:
        until = on + timedelta(weeks=weeks)
    except OverflowError:  # past the calendar's last day: everything from ``on`` on
        until = date.max
    snap = Snapshot(session, on, load_config())
    out: list[DueItem] = []

    def add(due: date | None, kind: str, subject: str, what: str) -> None:
        if due is None or due > until:
            return
        out.append(DueItem(due, (due - on).days, due - timedelta(days=due.weekday()), kind, subject, what))

    for eq in snap.equipment.values():
        for s in snap.schedules.get(row_id(eq), []):
            kind = "inspection" if eq.category == "vehicle" else "calibration"
            add(s.next_due, kind, eq.asset_tag, f"{s.name} · {eq.type}")
    for lot in snap.lots.values():
        if lot.quantity > 0:
            add(
                lot.expires_on,
                "expiry",
                f"{lot.item} {lot.lot}".strip(),
                f"{_fmt_qty(lot.quantity)} {lot.unit}",
            )
    for person in snap.people.values():
        for q in snap.quals.get(row_id(person), []):
            add(q.expires_on, "qualification", person.name, _qualification_name(q.kind))
    return sorted(out, key=lambda d: (d.due, d.kind, d.subject))


# ---------------------------------------------------------------- playbook action


def check_readiness_action(
    session: Session, incident_code: str, params: dict[str, Any], actor: str
) -> tuple[str, dict[str, Any]]:
    """Playbook action ``readiness.check``: is the kit (or crew, or template, or centre) ready?

    params (all optional): ``kit`` (kit name), ``crew`` (crew name),
    ``template`` (any ready kit of this template that is not checked out),
    ``teams`` (roll-up for N teams; the default when nothing else is given),
    ``require`` (default true: refuse with the reasons when not ready, so the
    step cannot be completed on an unready kit). The check is logged on the
    incident's chain.
    """
    from incident.core import log
    from incident.core.incidents import get_incident

    inc = get_incident(session, incident_code)
    unknown = set(params) - {"kit", "crew", "template", "teams", "require", "on"}
    if unknown:
        raise UserError(
            "errors.readiness.unknown_parameter_s",
            where="playbook action readiness.check",
            value=", ".join(sorted(unknown)),
        )
    on = parse_day_arg(str(params["on"]), where="readiness.check on") if params.get("on") else None
    require = bool(params.get("require", True))
    result = rollup(session, on=on, teams=int(params["teams"]) if params.get("teams") else None)
    data: dict[str, Any]
    if params.get("kit"):
        kit = next((k for k in result.kits if k.name == params["kit"]), None)
        if kit is None:
            raise UserError("errors.readiness.no_kit", where="readiness.check kit", kit=repr(params["kit"]))
        ok, subject, reasons = not kit.blocking, kit.name, kit.blocking
        data = {"kit": asdict(kit)}
    elif params.get("crew"):
        team = next((x for x in result.teams if x.crew == params["crew"]), None)
        if team is None:
            raise UserError(
                "errors.readiness.no_crew_2", where="readiness.check crew", crew=repr(params["crew"])
            )
        ok, subject, reasons = not team.blocking, team.crew, team.blocking
        data = {"team": asdict(team)}
    elif params.get("template"):
        candidates = [k for k in result.kits if k.template == params["template"]]
        if not candidates:
            raise UserError(
                "errors.readiness.no_kit_template",
                where="readiness.check template",
                template=repr(params["template"]),
            )
        good = [k for k in candidates if not k.blocking and k.checked_out_to is None]
        ok, subject = bool(good), params["template"]
        reasons = (
            []
            if good
            else [
                f"{k.name}: {r}"
                for k in candidates
                for r in (k.blocking or [t("readiness.reason.kit_out", kit=k.name, crew=k.checked_out_to)])
            ]
        )
        data = {"ready_kits": [k.name for k in good], "kits": [asdict(k) for k in candidates]}
    else:
        ok, subject = result.can_field, t("readiness.teams_subject", n=result.teams_required)
        reasons = [f"{x.crew}: {r}" for x in result.teams if not x.counted for r in x.blocking]
        data = {"rollup": result.to_dict()}
    data["ready"] = ok
    summary = (
        t("readiness.check_ready", subject=subject)
        if ok
        else t("readiness.check_not_ready", subject=subject, reasons="; ".join(reasons))
    )
    if not ok and require:
        raise UserError(
            "readiness.check_not_ready", where="readiness.check", subject=subject, reasons="; ".join(reasons)
        )
    log.append(
        session,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind="readiness.checked",
        incident_id=inc.id,
        summary=summary,
        payload={"params": params, "ready": ok, "reasons": reasons, "on": result.on},
    )
    return summary, data
