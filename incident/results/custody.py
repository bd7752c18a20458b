"""Chain of custody (HJ 589 §9.3.1): every hand-off of a sample, who to whom, when, condition.

The sampler holds a sample from the moment it is taken. A hand-off is refused
unless it comes from the person who holds the sample then, goes to someone else,
and is not earlier than the previous hand-off. Transfers are evidence rows
(``log.record``) and are never edited; a wrong entry is followed by a corrective
hand-off with a note.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from incident.core import log
from incident.core.clock import FUTURE_TOLERANCE, fmt_local, incident_now
from incident.core.errors import UserError
from incident.core.incidents import get_incident
from incident.core.store.tables import CustodyTransfer, Incident, Sample, row_id
from incident.results.entry import get_sample

CONDITIONS = ("intact", "seal_broken", "leaking", "damaged", "temperature_exceeded", "other")


@dataclass
class CustodyStep:
    at: datetime
    from_person: str
    to_person: str
    condition: str
    note: str


def _norm(name: str) -> str:
    return " ".join(str(name).split()).casefold()


def chain(session: Session, sample: Sample) -> list[CustodyStep]:
    rows = session.exec(
        select(CustodyTransfer)
        .where(CustodyTransfer.sample_id == sample.id)
        .order_by(col(CustodyTransfer.id))
    )
    return [CustodyStep(r.at, r.from_person, r.to_person, r.condition, r.note) for r in rows]


def holder(session: Session, sample: Sample) -> tuple[str, datetime]:
    """Who holds the sample now, and since when."""
    steps = chain(session, sample)
    if not steps:
        return sample.sampler, sample.sampled_at
    return steps[-1].to_person, steps[-1].at


def hand_off(
    session: Session,
    sample_code: str,
    *,
    from_person: str,
    to_person: str,
    actor: str,
    at: datetime | None = None,
    condition: str = "intact",
    note: str = "",
) -> list[CustodyStep]:
    """Record one hand-off; returns the whole chain."""
    sample = get_sample(session, sample_code)
    now = incident_now(session.get(Incident, sample.incident_id))  # the exercise clock in a drill
    at = at or now
    who, since = holder(session, sample)
    if not from_person.strip():
        raise UserError("errors.results.empty", field="from", who=who)
    if not to_person.strip():
        raise UserError("errors.results.empty_2", field="to")
    if _norm(from_person) != _norm(who):
        raise UserError(
            "errors.results.does_not_hold_sample",
            field="from",
            from_person=repr(from_person),
            code=sample.code,
            who=who,
            fmt_local_since=fmt_local(since),
            from_person2=from_person,
        )
    if _norm(to_person) == _norm(from_person):
        raise UserError("errors.results.hand_off_goes_someone", field="to")
    if at < since:
        raise UserError(
            "errors.results.hand_off_before_received",
            field="at",
            fmt_local_at=fmt_local(at),
            who=who,
            fmt_local_since=fmt_local(since),
        )
    if at > now + FUTURE_TOLERANCE:
        raise UserError("errors.results.hand_off_time_future", field="at", fmt_local_at=fmt_local(at))
    if condition not in CONDITIONS:
        raise UserError(
            "errors.results.unknown_condition",
            field="condition",
            condition=repr(condition),
            value=", ".join(CONDITIONS),
        )
    if condition != "intact" and not note.strip():
        raise UserError("errors.results.condition_needs_note", field="note", condition=condition)
    inc = get_incident(session, sample.incident_id)
    row = CustodyTransfer(
        sample_id=row_id(sample),
        at=at,
        from_person=" ".join(from_person.split()),
        to_person=" ".join(to_person.split()),
        condition=condition,
        note=note.strip(),
    )
    log.record(
        session,
        row,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind="custody.transferred",
        incident_id=sample.incident_id,
        summary=f"Sample {sample.code}: {row.from_person} → {row.to_person} ({condition})",
    )
    return chain(session, sample)
