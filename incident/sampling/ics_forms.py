"""The header and sign-off blocks of ICS 204 (assignment list), filled from the incident and the roster.

FEMA's ICS 204 carries, besides the resources and their work assignments: 1
incident name, 2 operational period (date/time from and to), 3 branch, 4
division, 5 group / staging area, 6 operations personnel (operations section
chief, branch director, division/group supervisor), 9 special instructions,
10 communications (name/function, primary contact, method), 11 prepared by
(name, position/title, signature, date/time) and 12 approved by (name,
signature, date/time). The monitoring tool adds the safety message (ICS 208's
content, from the pollutant's hazards) that HJ 589 asks every crew to carry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from incident.core.store.tables import Incident, Responder

#: said to every crew, whatever the pollutant (HJ 589 §7.1.1: protection of the sampling staff)
BASE_SAFETY = (
    "Work in pairs; life jackets at the water's edge; gloves and goggles when sampling; "
    "stay upwind of the spill; do not wade; report any symptom to the team lead at once."
)
SIGNATURE_LINE = "________________"


@dataclass
class Ics204Form:
    incident_name: str
    period_from: datetime
    period_to: datetime
    branch: str
    division: str
    group: str
    operations_chief: str
    supervisors: list[str] = field(default_factory=list)  # "Crew A: Li Wei (139…)"
    communications: list[tuple[str, str, str]] = field(default_factory=list)  # name/function, contact, method
    safety_message: str = ""
    prepared_by: str = ""
    prepared_position: str = ""
    prepared_at: datetime | None = None
    approved_by: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "incident_name": self.incident_name,
            "operational_period": {"from": self.period_from.isoformat(), "to": self.period_to.isoformat()},
            "branch": self.branch,
            "division": self.division,
            "group": self.group,
            "operations_chief": self.operations_chief,
            "supervisors": self.supervisors,
            "communications": [
                {"name_function": n, "primary_contact": c, "method": m} for n, c, m in self.communications
            ],
            "safety_message": self.safety_message,
            "prepared_by": {
                "name": self.prepared_by,
                "position": self.prepared_position,
                "signature": SIGNATURE_LINE,
                "at": self.prepared_at.isoformat() if self.prepared_at else None,
            },
            "approved_by": {"name": self.approved_by, "signature": SIGNATURE_LINE},
        }


def _responder(session: Session, name: str) -> Responder | None:
    if not name:
        return None
    return session.exec(select(Responder).where(Responder.name == name)).first()


def _hazards(substance: str | None) -> str:
    if not substance:
        return ""
    from pathlib import Path

    from incident.core.datafiles import read_toml

    info = read_toml(Path(__file__).resolve().parent.parent / "data" / "pollutants.toml").get(substance) or {}
    return str(info.get("hazards") or "")


def ics204_form(
    session: Session,
    inc: Incident,
    *,
    computed_at: datetime,
    period_h: float,
    crews: list[tuple[str, str, str, int]],  # (crew, leader, phone, headcount) of the routed crews
    prepared_by: str = "",
    position: str = "",
    approved_by: str = "",
    operations_chief: str = "",
    branch: str = "",
    division: str = "",
    group: str = "",
    comms_method: str = "mobile phone",
    safety: str = "",
) -> Ics204Form:
    """Fill ICS 204's blocks from the incident, the routes' crews and the roster (arguments override)."""
    from incident.core.store.tables import RiverNetwork

    net = session.get(RiverNetwork, inc.river_network_id) if inc.river_network_id is not None else None
    person = _responder(session, prepared_by)
    chief = operations_chief or prepared_by
    chief_row = _responder(session, chief)
    hazards = _hazards(inc.substance)
    message = " ".join(
        p
        for p in (
            f"{inc.substance}: {hazards}" if hazards else "",
            BASE_SAFETY,
            safety.strip(),
        )
        if p
    )
    comms = [
        (
            f"Operations chief: {chief}",
            chief_row.phone if chief_row and chief_row.phone else "—",
            comms_method,
        )
    ]
    comms += [(f"{crew} leader: {leader}", phone or "—", comms_method) for crew, leader, phone, _ in crews]
    return Ics204Form(
        incident_name=f"{inc.code} · {inc.title}",
        period_from=computed_at,
        period_to=computed_at + timedelta(hours=period_h),
        branch=branch or "Emergency monitoring",
        division=division or (f"{net.name} below the source" if net is not None else "Water"),
        group=group or "Field sampling",
        operations_chief=chief or SIGNATURE_LINE,
        supervisors=[f"{crew}: {leader} ({phone or '—'}), {n} people" for crew, leader, phone, n in crews],
        communications=comms,
        safety_message=message,
        prepared_by=prepared_by,
        prepared_position=position or (person.role.replace("_", " ") if person is not None else ""),
        prepared_at=computed_at,
        approved_by=approved_by,
    )
