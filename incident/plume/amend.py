"""Amend the spill (a new version of mass, start and duration) and forecast again.

The first reported mass is always a guess. An amendment is logged with the values before and
after; the forecast is run with the old values and the new ones by the same function, and the
arrival at every receptor is returned side by side, so the responder sees what changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from incident.core.incidents import SpillVersion, amend_spill, get_incident
from incident.core.networks import downstream_receptors
from incident.plume.forecast_store import store_forecast
from incident.plume.forecast_types import IncidentForecast
from incident.plume.incident_forecast import forecast_incident


@dataclass(frozen=True)
class ArrivalChange:
    label: str  # receptor id
    name: str
    name_zh: str | None
    kind: str
    before_at: datetime | None  # leading edge, wall clock (None: not reached within the horizon)
    after_at: datetime | None
    before_peak_mg_l: float | None
    after_peak_mg_l: float | None


@dataclass(frozen=True)
class SpillAmendment:
    spill: SpillVersion
    arrivals: list[ArrivalChange]  # receptors, upstream first
    forecast: IncidentForecast  # the new one (logged)


def _arrival(fc: IncidentForecast, hours: float | None) -> datetime | None:
    return None if hours is None else fc.release_start + timedelta(hours=hours)


def amend_and_reforecast(
    session: Session,
    code: str,
    *,
    mass_kg: float | None,
    release_start: datetime | None,
    release_duration_h: float | None,
    reason: str,
    actor: str,
) -> SpillAmendment:
    before = forecast_incident(session, code)
    spill = amend_spill(
        session,
        code,
        mass_kg=mass_kg,
        release_start=release_start,
        release_duration_h=release_duration_h,
        reason=reason,
        actor=actor,
    )
    after = forecast_incident(session, code)
    store_forecast(session, code, after, actor=actor)
    old = {p.label: p for p in before.points}
    zh = {r.receptor_id: r.name_zh for r in downstream_receptors(session, get_incident(session, code))}
    rows = []
    for p in sorted(after.points, key=lambda p: p.distance_from_source_m):
        if p.kind == "point" or p.label not in old or p.distance_from_source_m != p.distance_from_source_m:
            continue
        q = old[p.label]
        rows.append(
            ArrivalChange(
                p.label,
                p.name,
                zh.get(p.label),
                p.kind,
                _arrival(before, q.leading_edge_h),
                _arrival(after, p.leading_edge_h),
                q.peak_mg_l,
                p.peak_mg_l,
            )
        )
    return SpillAmendment(spill, rows, after)
