"""What a plume forecast hands to the rest of the application (plain data).

The forecast service (``incident.plume.forecast``) fills these from the
transport model; sampling plans, crew deadlines, the dashboard and reports
read them. Times are hours after the release start unless the name says
otherwise; concentrations are mg/L.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:  # numpy is not needed to import this module (the TUI starts without it)
    import numpy as np


@dataclass
class PointForecast:
    label: str  # receptor id, sampling point number or "km 123.4"
    name: str
    reach_id: str
    offset_m: float  # from the reach's upstream end
    km: float  # branch chainage
    distance_from_source_m: float
    kind: str = "point"  # receptor kind, or "point"
    leading_edge_h: float | None = None  # first time above the detection threshold
    peak_h: float | None = None
    peak_mg_l: float | None = None
    trailing_edge_h: float | None = None  # last time above the threshold
    exceed_start_h: float | None = None  # window above the evaluation standard
    exceed_end_h: float | None = None
    max_exceedance_multiple: float | None = None  # (C - limit) / limit
    jobson_leading_h: float | None = None  # independent empirical cross-check
    jobson_peak_h: float | None = None
    jobson_peak_mg_l: float | None = None
    # ensemble bands (P10, P50, P90) when an ensemble was run
    leading_edge_band_h: tuple[float, float, float] | None = None
    peak_band_mg_l: tuple[float, float, float] | None = None

    @property
    def reached(self) -> bool:
        return self.leading_edge_h is not None


@dataclass
class IncidentForecast:
    release_start: datetime
    horizon_h: float
    substance: str | None
    standard_mg_l: float | None
    detection_mg_l: float
    points: list[PointForecast]
    times_h: np.ndarray  # output times for the curves
    curves_mg_l: np.ndarray  # (len(points), len(times_h)) breakthrough curves
    method: str = ""
    grid: dict[str, Any] = field(default_factory=dict[str, Any])
    mass_balance: dict[str, Any] = field(default_factory=dict[str, Any])
    dispersion_spread: dict[str, Any] = field(default_factory=dict[str, Any])
    warnings: list[str] = field(default_factory=list)
    # what was asked (spill, river, points, calibration): stored with the forecast (forecast_store)
    inputs: dict[str, Any] = field(default_factory=dict[str, Any])
    # set once stored: {"forecast_id": ..., "content_sha256": ...} (plans and reports cite it)
    stored_as: dict[str, Any] = field(default_factory=dict[str, Any])
    # longitudinal profiles: time (h) -> list of (reach_id, offset_m array, conc array)
    profiles: dict[float, list[tuple[str, np.ndarray, np.ndarray]]] = field(default_factory=dict)

    @overload
    def at(self, hours: float) -> datetime: ...

    @overload
    def at(self, hours: None) -> None: ...

    @overload
    def at(self, hours: float | None) -> datetime | None: ...

    def at(self, hours: float | None) -> datetime | None:
        return None if hours is None else self.release_start + timedelta(hours=hours)

    def point(self, label: str) -> PointForecast:
        for p in self.points:
            if p.label == label:
                return p
        raise KeyError(label)
