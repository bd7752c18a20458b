"""The forecast for an incident: what is recorded about its spill, with the latest
accepted recalibration applied. One function, so the TUI, the CLI and the playbook
all forecast the same way; :func:`incident_inputs` states what a run was asked,
which the stored forecast keeps (``incident.plume.forecast_store``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlmodel import Session

from incident.core.clock import as_utc, fmt_local
from incident.plume.forecast import DEFAULT_HORIZON_H, ForecastRequest, request_for_incident, run_forecast
from incident.plume.forecast_types import IncidentForecast
from incident.plume.uncertainty import CalibrationInfo, accepted_calibration, apply_params


def _request(
    session: Session,
    code: str,
    *,
    horizon_h: float | None,
    extra_points: Sequence[tuple[str, str, float]],
    calibrated: bool,
) -> tuple[ForecastRequest, CalibrationInfo | None]:
    req = request_for_incident(session, code, horizon_h=horizon_h, extra_points=extra_points)
    cal = accepted_calibration(session, code) if calibrated else None
    if cal is not None:
        req = apply_params(req, cal.params)
    return req, cal


def _inputs(req: ForecastRequest, cal: CalibrationInfo | None) -> dict[str, Any]:
    return {
        "incident": req.name,
        "river": req.network.name,
        "reaches": len(req.network.reaches),
        "release_start": as_utc(req.start).isoformat(),
        "horizon_h": req.horizon_h,
        "spills": [asdict(s) for s in req.spills],
        "points": [[p.label, p.reach_id, round(p.offset_m, 3)] for p in req.points],
        "substance": req.substance,
        "standard_mg_l": req.standard_mg_l,
        "detection_mg_l": req.detection_mg_l,
        "background_mg_l": req.background_mg_l,
        "calibration_id": cal.id if cal else None,
        "parameters": {
            "decay_per_day": req.decay_per_day,
            "dispersion_method": req.dispersion_method,
            "velocity_method": req.velocity_method,
            "velocity_factor": req.velocity_factor,
            "dispersion_factor": req.dispersion_factor,
            "dx_m": req.dx_m,
            "dt_s": req.dt_s,
        },
    }


def incident_inputs(
    session: Session,
    code: str,
    *,
    horizon_h: float | None = DEFAULT_HORIZON_H,
    extra_points: Sequence[tuple[str, str, float]] = (),
    calibrated: bool = True,
) -> dict[str, Any]:
    """What a forecast of the incident would be asked now (plain JSON-able data)."""
    req, cal = _request(session, code, horizon_h=horizon_h, extra_points=extra_points, calibrated=calibrated)
    return _inputs(req, cal)


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
    req, cal = _request(session, code, horizon_h=horizon_h, extra_points=extra_points, calibrated=calibrated)
    fc = run_forecast(req, progress)
    fc.inputs = _inputs(req, cal)
    if cal is not None:
        fc.warnings = list(fc.warnings) + [
            f"uses accepted calibration #{cal.id} (mass {cal.params['mass_kg']:.0f} kg, release "
            f"{fmt_local(datetime.fromisoformat(cal.params['release_start']))})"
        ]
    return fc
