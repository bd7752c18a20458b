"""A forecast's results in the incident's log: recorded after each run, read by the dashboard.

Kept apart from the forecast service so the dashboard can read them without
loading the transport model (numpy, scipy) at start-up.
"""

from __future__ import annotations

import json

from incident.plume.forecast_types import IncidentForecast


def log_forecast(session, code: str, fc: IncidentForecast, *, actor: str) -> None:
    """Record the forecast's results in the incident's log (the dashboard reads the latest)."""
    from incident.core import log
    from incident.core.incidents import get_incident

    inc = get_incident(session, code)
    reached = [p for p in fc.points if p.reached]
    first = min(reached, key=lambda p: p.leading_edge_h) if reached else None
    summary = f"Forecast run: {len(reached)} of {len(fc.points)} points reached within {fc.horizon_h:g} h" + (
        f"; first {first.label} at {first.leading_edge_h:.1f} h" if first else ""
    )
    log.append(
        session,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind="forecast.run",
        incident_id=inc.id,
        summary=summary,
        payload={
            "release_start": fc.release_start,
            "horizon_h": fc.horizon_h,
            "method": fc.method,
            "standard_mg_l": fc.standard_mg_l,
            "detection_mg_l": fc.detection_mg_l,
            "points": [
                {
                    "label": p.label,
                    "leading_edge_h": p.leading_edge_h,
                    "peak_h": p.peak_h,
                    "peak_mg_l": p.peak_mg_l,
                    "exceed_start_h": p.exceed_start_h,
                    "exceed_end_h": p.exceed_end_h,
                    "jobson_leading_h": p.jobson_leading_h,
                }
                for p in fc.points
            ],
        },
    )


def latest_logged_forecast(session, code: str) -> dict | None:
    from sqlmodel import select

    from incident.core import log
    from incident.core.store.tables import LogEntry

    row = session.exec(
        select(LogEntry)
        .where(LogEntry.chain == log.incident_chain(code), LogEntry.kind == "forecast.run")
        .order_by(LogEntry.seq.desc())
    ).first()
    return None if row is None else json.loads(row.payload_json) | {"at": row.at}
