"""The forecast for an incident: what is recorded about its spill, with the latest
accepted recalibration applied. One function, so the TUI, the CLI and the playbook
all forecast the same way."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlmodel import Session

from incident.core.clock import fmt_local
from incident.plume.forecast import DEFAULT_HORIZON_H, request_for_incident, run_forecast
from incident.plume.forecast_types import IncidentForecast
from incident.plume.uncertainty import accepted_calibration, apply_params


def forecast_incident(
    session: Session,
    code: str,
    *,
    horizon_h: float | None = DEFAULT_HORIZON_H,
    extra_points: Sequence[tuple[str, str, float]] = (),
    progress: Callable[[float], None] | None = None,
    calibrated: bool = True,
) -> IncidentForecast:
    """Forecast for an incident (``calibrated=False`` for the reported spill alone)."""
    req = request_for_incident(session, code, horizon_h=horizon_h, extra_points=extra_points)
    cal = accepted_calibration(session, code) if calibrated else None
    if cal is not None:
        req = apply_params(req, cal.params)
    fc = run_forecast(req, progress)
    if cal is not None:
        fc.warnings = list(fc.warnings) + [
            f"uses accepted calibration #{cal.id} (mass {cal.params['mass_kg']:.0f} kg, release "
            f"{fmt_local(datetime.fromisoformat(cal.params['release_start']))})"
        ]
    return fc
