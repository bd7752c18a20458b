"""Centre statistics over incidents: counts and response times, real incidents by default.

Exercise incidents are counted only when asked for (``exercises=True``), and then
only exercises: the two never mix (domain §3).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from sqlmodel import Session, col, func, select

from incident.core.clock import as_utc, to_local
from incident.core.incidents import list_incidents
from incident.core.store.tables import Report, Result, Sample


@dataclass
class IncidentStatistics:
    exercises: bool
    year: int | None
    incidents: int = 0
    by_substance: dict[str, int] = field(default_factory=dict)
    samples: int = 0
    results: int = 0
    reports_released: int = 0
    median_first_sample_min: float | None = None  # alert → first sample


def incident_statistics(
    session: Session, *, year: int | None = None, exercises: bool = False
) -> IncidentStatistics:
    rows = [
        i
        for i in list_incidents(session, exercises=exercises)
        if year is None or to_local(i.alert_at).year == year
    ]
    out = IncidentStatistics(exercises=exercises, year=year, incidents=len(rows))
    ids = [i.id for i in rows]
    for inc in rows:
        key = inc.substance or "unknown"
        out.by_substance[key] = out.by_substance.get(key, 0) + 1
    if not ids:
        return out
    out.samples = session.exec(
        select(func.count()).select_from(Sample).where(col(Sample.incident_id).in_(ids))
    ).one()
    out.results = session.exec(
        select(func.count()).select_from(Result).where(col(Result.incident_id).in_(ids))
    ).one()
    out.reports_released = session.exec(
        select(func.count())
        .select_from(Report)
        .where(col(Report.incident_id).in_(ids), Report.state == "released")
    ).one()
    delays = []
    for inc in rows:
        first = session.exec(
            select(func.min(Sample.sampled_at)).where(
                Sample.incident_id == inc.id, Sample.sample_type == "normal"
            )
        ).one()
        if first is not None:
            delays.append((as_utc(first) - as_utc(inc.alert_at)).total_seconds() / 60)
    out.median_first_sample_min = statistics.median(delays) if delays else None
    return out
