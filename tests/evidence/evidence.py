"""Helpers shared by the reliability tests: log evidence the way the app does."""

from __future__ import annotations

from sqlmodel import Session, select

from incident.core import log
from incident.core.clock import utcnow
from incident.core.store.tables import (
    CheckIn,
    Crew,
    CustodyTransfer,
    Incident,
    PlaybookRun,
    Report,
    Result,
    Sample,
    StepState,
)


def incident_row(session: Session, code: str) -> Incident:
    return session.exec(select(Incident).where(Incident.code == code)).one()


def log_result(
    session: Session, code: str, label: str, value: float, *, actor: str = "tester"
) -> tuple[int, int]:
    """Sample + Result through log.record, as the results screen would. Returns (sample id, result id)."""
    inc = incident_row(session, code)
    chain = log.incident_chain(code)
    now = utcnow()
    sample = Sample(code=label, incident_id=inc.id, sampled_at=now, sampler=actor, created_at=now)
    log.record(
        session,
        sample,
        chain=chain,
        actor=actor,
        kind="sample.logged",
        summary=f"Sample {label}",
        incident_id=inc.id,
    )
    result = Result(
        sample_id=sample.id,
        incident_id=inc.id,
        parameter="nitrobenzene",
        method="GB/T 14672",
        value=value,
        unit="mg/L",
        value_mg_l=value,
        entered_at=now,
        entered_by=actor,
    )
    log.record(
        session,
        result,
        chain=chain,
        actor=actor,
        kind="result.logged",
        summary=f"{label}: nitrobenzene {value} mg/L",
        incident_id=inc.id,
    )
    return sample.id, result.id


def log_other_evidence(session: Session, code: str) -> None:
    """A custody transfer, a check-in and a released report, so every evidence table has rows."""
    inc = incident_row(session, code)
    chain = log.incident_chain(code)
    now = utcnow()
    sample = session.exec(select(Sample).where(Sample.incident_id == inc.id)).first()
    assert sample is not None
    log.record(
        session,
        CustodyTransfer(sample_id=sample.id, at=now, from_person="Li", to_person="Wang"),
        chain=chain,
        actor="Li",
        kind="custody.transferred",
        summary="custody",
        incident_id=inc.id,
    )
    crew = session.exec(select(Crew)).first()
    assert crew is not None
    log.record(
        session,
        CheckIn(incident_id=inc.id, crew_id=crew.id, at=now, leader="Li", headcount=3),
        chain=chain,
        actor="Li",
        kind="crew.checked_in",
        summary="check-in",
        incident_id=inc.id,
    )
    report = Report(
        incident_id=inc.id,
        kind="flash",
        title="Flash report 1",
        body_markdown="# Flash\nNB found.",
        created_at=now,
        created_by="Li",
    )
    session.add(report)
    session.flush()
    report.state, report.released_by, report.released_at = "released", "Zhang", now
    report.content_sha256 = "0" * 64
    log.record(
        session,
        report,
        chain=chain,
        actor="Zhang",
        kind="report.released",
        summary="released",
        incident_id=inc.id,
    )
    # a draft report is not evidence yet: verify must not complain about it
    session.add(
        Report(
            incident_id=inc.id,
            kind="monitoring",
            title="draft",
            body_markdown="...",
            created_at=now,
            created_by="Li",
        )
    )


def start_playbook(session: Session, code: str, steps: int = 5) -> int:
    inc = incident_row(session, code)
    run = PlaybookRun(
        incident_id=inc.id,
        playbook_id="river_chemical_spill",
        playbook_sha256="f" * 64,
        started_at=utcnow(),
        started_by="tester",
        current_step="s1",
    )
    session.add(run)
    session.flush()
    for i in range(1, steps + 1):
        session.add(StepState(run_id=run.id, step_id=f"s{i}", status="active" if i == 1 else "pending"))
    session.flush()
    return run.id
