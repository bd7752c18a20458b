"""Every forecast made for an incident, stored as it was run and cited by hash.

One stored record per run (``ForecastRecord``, append-only): the inputs (spill,
river, points asked for, calibration applied), the model parameters, the grid,
the mass budget, per point the arrival, peak and window above the standard
(with the ensemble's bands when it ran), the curves, when and by whom. Its
SHA-256 (:func:`content_hash`) goes into the incident's log with the row's
digest (``log.record``), so ``incident verify`` checks it. The dashboard, the
plan, the rounds, the reports and the plausibility check read it back with
:func:`latest_forecast` (or :func:`forecast_for`, which runs and stores a new one
only when the inputs changed or points are missing); a report cites it.

No numpy at module level: the dashboard reads stored arrivals at start-up;
:meth:`StoredForecast.to_forecast` builds the arrays only when curves are needed.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlmodel import Session, col, select

from incident.core import log
from incident.core.clock import as_utc, fmt_local, utcnow
from incident.core.errors import UserError
from incident.core.incidents import get_incident
from incident.core.store.tables import ForecastRecord, row_id
from incident.plume.forecast_types import IncidentForecast, PointForecast

if TYPE_CHECKING:
    from sqlalchemy.orm import QueryableAttribute

#: the columns the content hash covers (all but the id, the log link and the hash itself)
HASHED = (
    "incident_id",
    "made_at",
    "made_by",
    "release_start",
    "horizon_h",
    "substance",
    "standard_mg_l",
    "detection_mg_l",
    "method",
    "ensemble_members",
    "inputs_json",
    "parameters_json",
    "grid_json",
    "mass_budget_json",
    "points_json",
    "curves_json",
    "warnings_json",
)
_POINT_FIELDS = {f.name for f in fields(PointForecast)}
_BAND_FIELDS = ("leading_edge_band_h", "peak_band_mg_l")


@dataclass
class StoredForecast:
    """A stored forecast as plain data (no ORM row, no numpy)."""

    id: int
    incident_code: str
    made_at: datetime
    made_by: str
    content_sha256: str
    release_start: datetime
    horizon_h: float
    substance: str | None
    standard_mg_l: float | None
    detection_mg_l: float
    method: str
    ensemble_members: int | None
    inputs: dict[str, Any]
    parameters: dict[str, Any]
    grid: dict[str, Any]
    mass_budget: dict[str, Any]
    points: list[PointForecast]
    bands: list[dict[str, Any]]  # per point, when the ensemble ran: arrival, peak, hours above the standard
    warnings: list[str]
    curves: dict[str, Any] = field(default_factory=dict[str, Any])

    @property
    def citation(self) -> str:
        return f"forecast #{self.id} (SHA-256 {self.content_sha256[:16]}, {fmt_local(self.made_at)})"

    def at(self, hours: float | None) -> datetime | None:
        return None if hours is None else self.release_start + timedelta(hours=hours)

    def point(self, label: str) -> PointForecast | None:
        return next((p for p in self.points if p.label == label), None)

    def arrivals_h(self) -> dict[str, float | None]:
        """label -> leading edge, hours after the release start."""
        return {p.label: p.leading_edge_h for p in self.points}

    def to_forecast(self) -> IncidentForecast:
        """The stored forecast as the model handed it over (curves as arrays; profiles are not kept)."""
        import numpy as np

        times = np.asarray(self.curves.get("times_h", []), dtype=float)
        curves = np.asarray(self.curves.get("mg_l", []), dtype=float).reshape(len(self.points), len(times))
        stored = self.curves.get("profiles") or {}
        offsets = {reach: np.asarray(o, dtype=float) for reach, o in stored.get("offsets_m", {}).items()}
        profiles = {}
        for t, by_reach in stored.get("mg_l", {}).items():
            rows = []
            for reach, offs in offsets.items():
                conc = np.zeros(len(offs))
                if reach in by_reach:
                    first, run = by_reach[reach]
                    conc[first : first + len(run)] = run
                rows.append((reach, offs, conc))
            profiles[float(t)] = rows
        return IncidentForecast(
            release_start=self.release_start,
            horizon_h=self.horizon_h,
            substance=self.substance,
            standard_mg_l=self.standard_mg_l,
            detection_mg_l=self.detection_mg_l,
            points=[PointForecast(**asdict(p)) for p in self.points],
            times_h=times,
            curves_mg_l=curves,
            method=self.method,
            grid=dict(self.grid),
            mass_balance=dict(self.mass_budget),
            dispersion_spread=dict(self.parameters.get("dispersion", {})),
            warnings=list(self.warnings),
            inputs=dict(self.inputs),
            stored_as={"forecast_id": self.id, "content_sha256": self.content_sha256},
            profiles=profiles,
        )


def _finite(value: Any) -> Any:
    """JSON has no infinity: +inf (not within the horizon) is stored as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


def _point_json(p: PointForecast) -> dict[str, Any]:
    return _finite(asdict(p))


def _point_from(d: dict[str, Any]) -> PointForecast:
    kwargs = {k: v for k, v in d.items() if k in _POINT_FIELDS}
    for name in _BAND_FIELDS:
        if kwargs.get(name) is not None:
            kwargs[name] = tuple(math.inf if x is None else x for x in kwargs[name])
    if kwargs.get("distance_from_source_m") is None:
        kwargs["distance_from_source_m"] = math.nan
    return PointForecast(**kwargs)


def _sig(value: float, digits: int = 5) -> float:
    return float(f"{value:.{digits}g}")


#: profile cells below this share of the detection threshold are stored as zero
PROFILE_FLOOR = 0.1


def _profiles_json(fc: IncidentForecast) -> dict[str, Any]:
    """Longitudinal profiles (the plan's river strip, the GIS plume extent), sparse: each reach's
    cell offsets once, then per time and reach the first cell index and the run of concentrations
    from the first to the last cell above ``PROFILE_FLOOR`` × the detection threshold (3 significant
    digits, for drawing); the rest of the reach is zero. Screens and exports draw the plume above the threshold."""
    if not fc.profiles:
        return {}
    floor = PROFILE_FLOOR * fc.detection_mg_l
    offsets: dict[str, list[float]] = {}
    cells: dict[str, int] = {}
    out: dict[str, dict[str, list[Any]]] = {}
    for t, rows in sorted(fc.profiles.items()):
        by_reach = {}
        for reach_id, offs, conc in rows:
            offsets.setdefault(reach_id, [round(float(o), 3) for o in offs])
            cells[reach_id] = len(offs)
            above = [i for i, c in enumerate(conc) if c >= floor]
            if above:
                lo, hi = above[0], above[-1]
                by_reach[reach_id] = [lo, [_sig(float(c), 3) for c in conc[lo : hi + 1]]]
        out[repr(float(t))] = by_reach
    return {"offsets_m": offsets, "mg_l": out}


def _canonical(data: Any) -> str:
    return log.canonical_json(_finite(data))


def content_hash(row: ForecastRecord) -> str:
    """SHA-256 of what the forecast says and how it was made (see ``HASHED``)."""
    values = {name: getattr(row, name) for name in HASHED}
    values["made_at"] = as_utc(values["made_at"]).isoformat()
    values["release_start"] = as_utc(values["release_start"]).isoformat()
    return hashlib.sha256(log.canonical_json(values).encode()).hexdigest()


def _stored(row: ForecastRecord, code: str, *, with_curves: bool = True) -> StoredForecast:
    points = json.loads(row.points_json)
    return StoredForecast(
        id=row_id(row),
        incident_code=code,
        made_at=as_utc(row.made_at),
        made_by=row.made_by,
        content_sha256=row.content_sha256,
        release_start=as_utc(row.release_start),
        horizon_h=row.horizon_h,
        substance=row.substance,
        standard_mg_l=row.standard_mg_l,
        detection_mg_l=row.detection_mg_l,
        method=row.method,
        ensemble_members=row.ensemble_members,
        inputs=json.loads(row.inputs_json),
        parameters=json.loads(row.parameters_json),
        grid=json.loads(row.grid_json),
        mass_budget=json.loads(row.mass_budget_json),
        points=[_point_from(p) for p in points],
        bands=[p.get("bands") for p in points if p.get("bands")],
        warnings=json.loads(row.warnings_json),
        curves=json.loads(row.curves_json) if with_curves else {},
    )


def store_forecast(
    session: Session,
    code: str,
    fc: IncidentForecast,
    *,
    actor: str,
    bands: Sequence[dict[str, Any]] = (),
) -> StoredForecast:
    """Store one forecast of the incident and commit its hash to the incident's log.

    ``bands`` are the ensemble's rows per point (``incident.plume.band_rows``: arrival, peak
    and hours above the standard as P10/P50/P90), when it ran.
    """
    inc = get_incident(session, code)
    by_label = {b.get("point"): b for b in bands}
    points = [
        _point_json(p) | ({"bands": _finite(by_label[p.label])} if p.label in by_label else {})
        for p in fc.points
    ]
    inputs = dict(getattr(fc, "inputs", {}) or {})
    members = fc.grid.get("ensemble_members")
    row = ForecastRecord(
        incident_id=row_id(inc),
        made_at=utcnow(),
        made_by=actor,
        release_start=as_utc(fc.release_start),
        horizon_h=float(fc.horizon_h),
        substance=fc.substance,
        standard_mg_l=fc.standard_mg_l,
        detection_mg_l=float(fc.detection_mg_l),
        method=fc.method,
        ensemble_members=int(members) if members else None,
        inputs_json=_canonical(inputs),
        parameters_json=_canonical({"dispersion": fc.dispersion_spread} | dict(inputs.get("parameters", {}))),
        grid_json=_canonical(fc.grid),
        mass_budget_json=_canonical(fc.mass_balance),
        points_json=_canonical(points),
        curves_json=_canonical(
            {
                "times_h": [round(float(t), 6) for t in fc.times_h],
                "mg_l": [[float(f"{c:.6g}") for c in curve] for curve in fc.curves_mg_l],
                "profiles": _profiles_json(fc),
            }
        ),
        warnings_json=_canonical(list(fc.warnings)),
        content_sha256="",
    )
    row.content_sha256 = content_hash(row)
    reached = [p for p in fc.points if p.reached]
    first = min(reached, key=lambda p: p.leading_edge_h or 0.0) if reached else None
    summary = f"Forecast run: {len(reached)} of {len(fc.points)} points reached within {fc.horizon_h:g} h" + (
        f"; first {first.label} at {first.leading_edge_h:.1f} h" if first else ""
    )
    log.record(
        session,
        row,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind="forecast.run",
        incident_id=inc.id,
        summary=summary,
        extra={"content_sha256": row.content_sha256, "ensemble_members": row.ensemble_members},
    )
    fc.stored_as = {"forecast_id": row.id, "content_sha256": row.content_sha256}
    return _stored(row, inc.code)


def _curves_column() -> QueryableAttribute[str]:
    """The mapped ``curves_json`` attribute (what SQLAlchemy's ``defer`` takes; SQLModel types it as str)."""
    return cast("QueryableAttribute[str]", ForecastRecord.curves_json)


def latest_forecast(session: Session, code: str, *, with_curves: bool = True) -> StoredForecast | None:
    """The newest stored forecast of the incident, or None (``with_curves=False``: the per-point
    figures only, without reading the curves and profiles, for checks run on every result)."""
    from sqlalchemy.orm import defer

    inc = get_incident(session, code)
    query = (
        select(ForecastRecord)
        .where(ForecastRecord.incident_id == inc.id)
        .order_by(col(ForecastRecord.id).desc())
        .limit(1)
    )
    if not with_curves:
        query = query.options(defer(_curves_column()))
    row = session.exec(query).first()
    if row is None:
        return None
    return _stored(row, inc.code, with_curves=with_curves)


def first_forecast(session: Session, code: str) -> StoredForecast | None:
    """The incident's first stored forecast (a drill scores the players' first call), without curves."""
    from sqlalchemy.orm import defer

    inc = get_incident(session, code)
    row = session.exec(
        select(ForecastRecord)
        .where(ForecastRecord.incident_id == inc.id)
        .order_by(col(ForecastRecord.id))
        .options(defer(_curves_column()))
        .limit(1)
    ).first()
    return None if row is None else _stored(row, inc.code, with_curves=False)


def get_forecast(session: Session, code: str, forecast_id: int) -> StoredForecast:
    inc = get_incident(session, code)
    row = session.get(ForecastRecord, forecast_id)
    if row is None or row.incident_id != inc.id:
        raise UserError("errors.records.no_forecast", field="forecast", id=forecast_id, code=inc.code)
    return _stored(row, inc.code)


def _same_run(stored: StoredForecast, inputs: dict[str, Any]) -> bool:
    """Same spill, river, calibration and horizon, and every point asked for is in the stored run."""
    a = {k: v for k, v in stored.inputs.items() if k != "points"}
    b = {k: v for k, v in json.loads(_canonical(inputs)).items() if k != "points"}
    have = {tuple(p) for p in stored.inputs.get("points", [])}
    want = {tuple(p) for p in json.loads(_canonical(inputs.get("points", [])))}
    return bool(a) and a == b and want <= have


def forecast_for(
    session: Session,
    code: str,
    *,
    actor: str,
    extra_points: Sequence[tuple[str, str, float]] = (),
    horizon_h: float | None = None,
    progress: Callable[[float], None] | None = None,
) -> StoredForecast:
    """The stored forecast that answers this question, run and stored first if there is none.

    Reused when the latest stored forecast has the same inputs (spill, river, calibration,
    horizon) and covers the points asked for; otherwise a new run is stored.
    """
    from incident.plume.forecast import DEFAULT_HORIZON_H
    from incident.plume.incident_forecast import forecast_incident, incident_inputs

    horizon = DEFAULT_HORIZON_H if horizon_h is None else horizon_h
    inputs = incident_inputs(session, code, horizon_h=horizon, extra_points=extra_points)
    latest = latest_forecast(session, code)
    if latest is not None and _same_run(latest, inputs):
        return latest
    fc = forecast_incident(session, code, horizon_h=horizon, extra_points=extra_points, progress=progress)
    return store_forecast(session, code, fc, actor=actor)
