"""Where the plume goes: river scenarios, the forecast, the uncertainty ensemble, refitting to field results, and the source trace.

This ``__init__`` is the room's public API: front ends and other rooms import
from here, never from the private modules behind it. Names load lazily (PEP
562), so importing the room costs nothing until a use case is called.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from incident.plume.forecast import (
        DEFAULT_HORIZON_H,
        ForecastPointSpec,
        ForecastRequest,
        Spill,
        load_scenario,
        log_forecast,
        profile_rows,
        receptor_points,
        run_forecast,
        standard_for,
    )
    from incident.plume.forecast_log import latest_logged_forecast
    from incident.plume.forecast_types import IncidentForecast, PointForecast
    from incident.plume.incident_forecast import forecast_incident
    from incident.plume.uncertainty import (
        DISTRIBUTIONS_TEXT,
        apply_bands,
        band_rows,
        calibrate_incident,
        check_members,
        decide,
        list_calibrations,
        request_with_calibration,
        run_request_ensemble,
        trace_file,
    )
    from incident.plume.upstream import UpstreamExtent, incident_upstream_extent

_API: dict[str, str] = {
    "DEFAULT_HORIZON_H": "incident.plume.forecast",
    "DISTRIBUTIONS_TEXT": "incident.plume.uncertainty",
    "ForecastPointSpec": "incident.plume.forecast",
    "ForecastRequest": "incident.plume.forecast",
    "IncidentForecast": "incident.plume.forecast_types",
    "PointForecast": "incident.plume.forecast_types",
    "Spill": "incident.plume.forecast",
    "UpstreamExtent": "incident.plume.upstream",
    "apply_bands": "incident.plume.uncertainty",
    "band_rows": "incident.plume.uncertainty",
    "calibrate_incident": "incident.plume.uncertainty",
    "check_members": "incident.plume.uncertainty",
    "decide": "incident.plume.uncertainty",
    "forecast_incident": "incident.plume.incident_forecast",
    "incident_upstream_extent": "incident.plume.upstream",
    "latest_logged_forecast": "incident.plume.forecast_log",
    "list_calibrations": "incident.plume.uncertainty",
    "load_scenario": "incident.plume.forecast",
    "log_forecast": "incident.plume.forecast",
    "profile_rows": "incident.plume.forecast",
    "receptor_points": "incident.plume.forecast",
    "request_with_calibration": "incident.plume.uncertainty",
    "run_forecast": "incident.plume.forecast",
    "run_request_ensemble": "incident.plume.uncertainty",
    "standard_for": "incident.plume.forecast",
    "trace_file": "incident.plume.uncertainty",
}

__all__ = [
    "DEFAULT_HORIZON_H",
    "DISTRIBUTIONS_TEXT",
    "ForecastPointSpec",
    "ForecastRequest",
    "IncidentForecast",
    "PointForecast",
    "Spill",
    "UpstreamExtent",
    "apply_bands",
    "band_rows",
    "calibrate_incident",
    "check_members",
    "decide",
    "forecast_incident",
    "incident_upstream_extent",
    "latest_logged_forecast",
    "list_calibrations",
    "load_scenario",
    "log_forecast",
    "profile_rows",
    "receptor_points",
    "request_with_calibration",
    "run_forecast",
    "run_request_ensemble",
    "standard_for",
    "trace_file",
]


def __getattr__(name: str) -> Any:
    try:
        module = _API[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
