"""Where the plume goes: river scenarios, the forecast, the uncertainty ensemble, refitting to field results, and the source trace.

This ``__init__`` is the room's public API: front ends and other rooms import
from here, never from the private modules behind it. Names load lazily (PEP
562), so importing the room costs nothing until a use case is called.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from incident.plume.amend import ArrivalChange, SpillAmendment, amend_and_reforecast
    from incident.plume.forecast import (
        DEFAULT_HORIZON_H,
        ForecastPointSpec,
        ForecastRequest,
        Spill,
        build_reach_specs,
        load_scenario,
        log_forecast,
        profile_rows,
        reach_hydraulics,
        receptor_points,
        run_forecast,
        standard_for,
    )
    from incident.plume.forecast_log import latest_logged_forecast
    from incident.plume.forecast_types import IncidentForecast, PointForecast
    from incident.plume.incident_forecast import forecast_incident
    from incident.plume.uncertainty import (
        DISTRIBUTIONS_TEXT,
        GIVEN_DISPERSION_SPREAD,
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

_API: dict[str, str] = {
    "ArrivalChange": "incident.plume.amend",
    "DEFAULT_HORIZON_H": "incident.plume.forecast",
    "DISTRIBUTIONS_TEXT": "incident.plume.uncertainty",
    "ForecastPointSpec": "incident.plume.forecast",
    "ForecastRequest": "incident.plume.forecast",
    "GIVEN_DISPERSION_SPREAD": "incident.plume.uncertainty",
    "IncidentForecast": "incident.plume.forecast_types",
    "PointForecast": "incident.plume.forecast_types",
    "Spill": "incident.plume.forecast",
    "SpillAmendment": "incident.plume.amend",
    "amend_and_reforecast": "incident.plume.amend",
    "apply_bands": "incident.plume.uncertainty",
    "band_rows": "incident.plume.uncertainty",
    "build_reach_specs": "incident.plume.forecast",
    "calibrate_incident": "incident.plume.uncertainty",
    "check_members": "incident.plume.uncertainty",
    "decide": "incident.plume.uncertainty",
    "forecast_incident": "incident.plume.incident_forecast",
    "latest_logged_forecast": "incident.plume.forecast_log",
    "list_calibrations": "incident.plume.uncertainty",
    "load_scenario": "incident.plume.forecast",
    "log_forecast": "incident.plume.forecast",
    "profile_rows": "incident.plume.forecast",
    "reach_hydraulics": "incident.plume.forecast",
    "receptor_points": "incident.plume.forecast",
    "request_with_calibration": "incident.plume.uncertainty",
    "run_forecast": "incident.plume.forecast",
    "run_request_ensemble": "incident.plume.uncertainty",
    "standard_for": "incident.plume.forecast",
    "trace_file": "incident.plume.uncertainty",
}

__all__ = [
    "ArrivalChange",
    "DEFAULT_HORIZON_H",
    "DISTRIBUTIONS_TEXT",
    "ForecastPointSpec",
    "ForecastRequest",
    "GIVEN_DISPERSION_SPREAD",
    "IncidentForecast",
    "PointForecast",
    "Spill",
    "SpillAmendment",
    "amend_and_reforecast",
    "apply_bands",
    "band_rows",
    "build_reach_specs",
    "calibrate_incident",
    "check_members",
    "decide",
    "forecast_incident",
    "latest_logged_forecast",
    "list_calibrations",
    "load_scenario",
    "log_forecast",
    "profile_rows",
    "reach_hydraulics",
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
