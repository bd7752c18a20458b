"""The HJ 589-2021 Appendix A field-survey record: filled from the incident, completed by the surveyor.

Every field of Appendix A is here, in the form's order. What the store already
knows (where the source is, the river and its flow, when the crew arrived, the
pollutant and its properties, the amount lost, the receptors downstream, the
photos) fills the form; what only the people on site know (weather, flow
direction, appearance and odour, protective measures, the initial judgement)
is entered with ``incident survey set``. An entered value always wins over a
filled one. Each ``set`` stores a new revision (the latest one is used) and is
committed to in the log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from incident.core import log
from incident.core.clock import as_utc, fmt_local, utcnow
from incident.core.errors import UserError
from incident.core.i18n import t
from incident.core.incidents import get_incident, refuse_if_ended
from incident.core.store.tables import CheckIn, FieldSurvey, Incident, Reach, RiverNetwork, row_id
from incident.reports.survey_fields import FIELDS, FILLED_ONLY, NUMERIC

MAX_TEXT = 2000


@dataclass(frozen=True)
class SurveyField:
    name: str
    value: str  # "" when nobody has given it yet
    source: str  # entered | incident | "" (empty)

    def label(self, lang: str | None = None) -> str:
        return t(f"survey.f_{self.name}", lang=lang)


@dataclass(frozen=True)
class Survey:
    code: str
    is_exercise: bool
    fields: list[SurveyField]
    revision: int  # 0 = nothing entered yet
    recorded_at: str | None
    recorded_by: str | None

    def value(self, name: str) -> str:
        return next(f.value for f in self.fields if f.name == name)

    @property
    def missing(self) -> list[str]:
        return [f.name for f in self.fields if not f.value]

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "exercise": self.is_exercise,
            "revision": self.revision,
            "recorded_at": self.recorded_at,
            "recorded_by": self.recorded_by,
            "fields": {f.name: {"value": f.value, "source": f.source} for f in self.fields},
            "missing": self.missing,
        }


def _entered(session: Session, inc: Incident) -> tuple[dict[str, str], FieldSurvey | None, int]:
    rows = list(
        session.exec(
            select(FieldSurvey).where(FieldSurvey.incident_id == inc.id).order_by(col(FieldSurvey.id))
        )
    )
    if not rows:
        return {}, None, 0
    return json.loads(rows[-1].fields_json), rows[-1], len(rows)


def _g(x: float) -> str:
    return f"{x:.6g}"


def _pollutants() -> dict[str, dict[str, Any]]:
    from pathlib import Path

    from incident.core.datafiles import read_toml

    return read_toml(Path(__file__).resolve().parent.parent / "data" / "pollutants.toml")


def filled_from_incident(session: Session, inc: Incident) -> dict[str, str]:
    """What the store knows for the form (empty fields are left out)."""
    from incident.core.networks import downstream_receptors
    from incident.reports.photos import list_photos

    out: dict[str, str] = {}
    net = session.get(RiverNetwork, inc.river_network_id) if inc.river_network_id is not None else None
    reach = None
    if net is not None and inc.source_reach is not None:
        reach = session.exec(
            select(Reach).where(Reach.network_id == net.id, Reach.reach_id == inc.source_reach)
        ).first()
        river = net.name + (f" ({net.name_zh})" if net.name_zh else "")
        out["water_body"] = river
        km = f" km {inc.source_km:.2f}" if inc.source_km is not None else ""
        out["location"] = f"{river}, reach {inc.source_reach}{km}" + (
            f" ({reach.name})" if reach is not None and reach.name else ""
        )
    if inc.source_lat is not None and inc.source_lon is not None:
        out["coordinates"] = f"{inc.source_lat:.6f}, {inc.source_lon:.6f} ({inc.source_datum})"
    first = session.exec(
        select(CheckIn).where(CheckIn.incident_id == inc.id).order_by(col(CheckIn.at))
    ).first()
    if first is not None:
        out["arrival_time"] = f"{fmt_local(first.at)} (UTC+8, first crew checked in)"
    if reach is not None:
        out["flow_direction"] = (
            f"downstream to reach {reach.downstream_reach_id}"
            if reach.downstream_reach_id
            else "to the outlet"
        )
        if reach.velocity_ms is not None:
            out["velocity_ms"] = _g(reach.velocity_ms)
        out["discharge_m3s"] = _g(reach.discharge_m3s)
    started = inc.release_start or inc.alert_at
    out["incident_time"] = f"{fmt_local(as_utc(started))} (UTC+8)"
    if inc.description:
        out["cause"] = inc.description
    out["media"] = inc.medium
    if inc.substance:
        out["pollutants"] = inc.substance + (f" ({inc.pollutant_class})" if inc.pollutant_class else "")
        info = _pollutants().get(inc.substance)
        if info:
            props = [info.get("properties"), info.get("hazards")]
            out["properties"] = "; ".join(p for p in props if p)
    if inc.mass_kg is not None:
        out["amount_lost"] = f"{inc.mass_kg:g} kg"
    receptors = downstream_receptors(session, inc)
    if receptors:
        out["sensitive_receptors"] = "; ".join(
            f"{r.name} ({r.kind}, {r.distance_km:.1f} km)" for r in receptors
        )
    photos = list_photos(session, inc.code)
    if photos:
        out["photos"] = "; ".join(
            f"#{p.number} {p.caption or p.original_name} ({p.sha256[:12]})" for p in photos
        )
    return {k: v for k, v in out.items() if v}


def survey_form(session: Session, code: str) -> Survey:
    inc = get_incident(session, code)
    entered, latest, revisions = _entered(session, inc)
    filled = filled_from_incident(session, inc)
    fields = []
    for name in FIELDS:
        if entered.get(name):
            fields.append(SurveyField(name, entered[name], "entered"))
        elif filled.get(name):
            fields.append(SurveyField(name, filled[name], "incident"))
        else:
            fields.append(SurveyField(name, "", ""))
    return Survey(
        code=inc.code,
        is_exercise=inc.is_exercise,
        fields=fields,
        revision=revisions,
        recorded_at=fmt_local(latest.recorded_at) if latest else None,
        recorded_by=latest.recorded_by if latest else None,
    )


#: the largest number a survey field takes (a flow, an amount in kg)
MAX_NUMBER = 1e7


def _clean(name: str, value: object) -> str:
    if name not in FIELDS or name in FILLED_ONLY:
        raise UserError(
            "errors.survey.unknown_field",
            field=name,
            name=name,
            names=", ".join(f for f in FIELDS if f not in FILLED_ONLY),
        )
    text = "" if value is None else str(value).strip()
    if len(text) > MAX_TEXT:
        raise UserError("errors.survey.too_long", field=name, n=len(text), max=MAX_TEXT)
    if name in NUMERIC and text:
        from incident.core.inputs import parse_number

        low = -60.0 if name == "temperature_c" else 0.0
        text = _g(parse_number(text, field=name, minimum=low, maximum=MAX_NUMBER))
    return text


def set_survey(session: Session, code: str, values: dict[str, object], *, actor: str) -> Survey:
    """Enter fields of the survey record (``""`` clears one); a new revision, committed to in the log."""
    inc = get_incident(session, code)
    refuse_if_ended(inc, "a survey change")
    if not values:
        raise UserError(
            "errors.survey.nothing_to_set", names=", ".join(f for f in FIELDS if f not in FILLED_ONLY)
        )
    cleaned = {name: _clean(name, value) for name, value in values.items()}
    entered, _, _ = _entered(session, inc)
    merged = {**entered, **cleaned}
    merged = {k: v for k, v in merged.items() if v}
    row = FieldSurvey(
        incident_id=row_id(inc),
        recorded_at=utcnow(),
        recorded_by=actor,
        fields_json=json.dumps(merged, ensure_ascii=False, sort_keys=True),
    )
    log.record(
        session,
        row,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind="survey.recorded",
        incident_id=inc.id,
        summary="Field survey (HJ 589 Appendix A): "
        + ", ".join(f"{k} set" if v else f"{k} cleared" for k, v in cleaned.items()),
    )
    return survey_form(session, inc.code)
