"""Where the plume goes: river scenarios, the forecast, the uncertainty ensemble, refitting to field results, and the source trace.

This ``__init__`` is the room's public API: front ends and other rooms import
from here, never from the private modules behind it. Names load on first use
(see :mod:`incident.core.api`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident.core.api import lazy_exports

if TYPE_CHECKING:
    from incident.plume.amend import ArrivalChange, SpillAmendment, amend_and_reforecast
    from incident.plume.dispersion import estimate_csv, estimate_one
    from incident.plume.forecast import (
        DEFAULT_HORIZON_H,
        MAX_HORIZON_H,
        ForecastPointSpec,
        ForecastRequest,
        Spill,
        build_reach_specs,
        load_scenario,
        profile_rows,
        reach_hydraulics,
        receptor_points,
        refuse_long_horizon,
        run_forecast,
        standard_for,
    )
    from incident.plume.forecast_store import (
        StoredForecast,
        first_forecast,
        forecast_for,
        get_forecast,
        latest_forecast,
        store_forecast,
    )
    from incident.plume.forecast_types import IncidentForecast, PointForecast
    from incident.plume.incident_forecast import forecast_incident, incident_inputs
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
        trace_records,
    )
    from incident.plume.upstream import UpstreamExtent, incident_upstream_extent

_API: dict[str, str] = {
    "ArrivalChange": "incident.plume.amend",
    "DEFAULT_HORIZON_H": "incident.plume.forecast",
    "DISTRIBUTIONS_TEXT": "incident.plume.uncertainty",
    "ForecastPointSpec": "incident.plume.forecast",
    "ForecastRequest": "incident.plume.forecast",
    "GIVEN_DISPERSION_SPREAD": "incident.plume.uncertainty",
    "IncidentForecast": "incident.plume.forecast_types",
    "MAX_HORIZON_H": "incident.plume.forecast",
    "PointForecast": "incident.plume.forecast_types",
    "Spill": "incident.plume.forecast",
    "SpillAmendment": "incident.plume.amend",
    "StoredForecast": "incident.plume.forecast_store",
    "UpstreamExtent": "incident.plume.upstream",
    "amend_and_reforecast": "incident.plume.amend",
    "apply_bands": "incident.plume.uncertainty",
    "band_rows": "incident.plume.uncertainty",
    "build_reach_specs": "incident.plume.forecast",
    "calibrate_incident": "incident.plume.uncertainty",
    "check_members": "incident.plume.uncertainty",
    "decide": "incident.plume.uncertainty",
    "estimate_csv": "incident.plume.dispersion",
    "estimate_one": "incident.plume.dispersion",
    "first_forecast": "incident.plume.forecast_store",
    "forecast_for": "incident.plume.forecast_store",
    "forecast_incident": "incident.plume.incident_forecast",
    "get_forecast": "incident.plume.forecast_store",
    "incident_inputs": "incident.plume.incident_forecast",
    "incident_upstream_extent": "incident.plume.upstream",
    "latest_forecast": "incident.plume.forecast_store",
    "list_calibrations": "incident.plume.uncertainty",
    "load_scenario": "incident.plume.forecast",
    "profile_rows": "incident.plume.forecast",
    "reach_hydraulics": "incident.plume.forecast",
    "receptor_points": "incident.plume.forecast",
    "refuse_long_horizon": "incident.plume.forecast",
    "request_with_calibration": "incident.plume.uncertainty",
    "run_forecast": "incident.plume.forecast",
    "run_request_ensemble": "incident.plume.uncertainty",
    "standard_for": "incident.plume.forecast",
    "store_forecast": "incident.plume.forecast_store",
    "trace_file": "incident.plume.uncertainty",
    "trace_records": "incident.plume.uncertainty",
}

__all__ = [
    "ArrivalChange",
    "DEFAULT_HORIZON_H",
    "DISTRIBUTIONS_TEXT",
    "ForecastPointSpec",
    "ForecastRequest",
    "GIVEN_DISPERSION_SPREAD",
    "IncidentForecast",
    "MAX_HORIZON_H",
    "PointForecast",
    "Spill",
    "SpillAmendment",
    "StoredForecast",
    "UpstreamExtent",
    "amend_and_reforecast",
    "apply_bands",
    "band_rows",
    "build_reach_specs",
    "calibrate_incident",
    "check_members",
    "decide",
    "estimate_csv",
    "estimate_one",
    "first_forecast",
    "forecast_for",
    "forecast_incident",
    "get_forecast",
    "incident_inputs",
    "incident_upstream_extent",
    "latest_forecast",
    "list_calibrations",
    "load_scenario",
    "profile_rows",
    "reach_hydraulics",
    "receptor_points",
    "refuse_long_horizon",
    "request_with_calibration",
    "run_forecast",
    "run_request_ensemble",
    "standard_for",
    "store_forecast",
    "trace_file",
    "trace_records",
]

__getattr__ = lazy_exports(__name__, _API)
