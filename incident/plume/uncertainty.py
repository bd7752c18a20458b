"""Uncertainty bands, live recalibration from field results, and unknown-source tracing.

The bridge between the application (incidents, results, river files, local times) and the fast
plume model in ``models.fastplume`` / ``models.ensemble`` / ``models.calibrate`` / ``models.trace``.

- **Ensemble** (`ensemble_bands`): the forecast request's spill and network, with the uncertain
  inputs sampled as documented in ``models.ensemble`` (velocity ×/÷ log-normal with Jobson's error at
  the route's velocity, σ_ln ≈ 0.18–0.25; dispersion log-normal with the estimator's cross-validated
  band as its P5–P95 — or ×/÷ 1.5 around a dispersion given in the river file; spill mass ½×–2×,
  release start ± 20 min, duration ½×–2×). Fills the P10/P50/P90 bands on each ``PointForecast``.
- **Recalibration** (`calibrate_incident`): the incident's results for its substance (QC-flagged,
  superseded and blank results excluded; non-detects censored at their detection limit), placed at
  their sampling point (reach, km) and sample time. Fits mass, release start, velocity and
  dispersion factors; stores a pending ``ModelCalibration`` and logs it. A responder accepts or
  rejects it (`decide`), which is logged; forecasts of the incident then use the latest accepted
  calibration (`request_with_calibration`).
- **Tracing** (`trace_file`): detections and non-detects at stations from a CSV file, ranked
  candidate source reaches, km and release times.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from incident.core.clock import as_utc, fmt_local, utcnow
from incident.core.errors import UserError, ValidationErrors
from incident.core.rivers import RiverNetworkData, load_river_file
from incident.plume.forecast import (
    DEFAULT_HORIZON_H,
    ForecastRequest,
    build_reach_specs,
    reach_hydraulics,
    request_for_incident,
    run_forecast,
)
from incident.plume.forecast_types import IncidentForecast
from models.calibrate import Calibration, Observation, Prior, calibrate
from models.ensemble import EnsembleInputs, EnsembleResult, run_ensemble
from models.fastplume import STORAGE_WARNING, route
from models.trace import trace_source

if TYPE_CHECKING:
    from sqlmodel import Session

    from incident.core.store.tables import ModelCalibration
    from models.network import ReachSpec

DISTRIBUTIONS_TEXT = (
    "velocity ×/÷ log-normal (σ_ln from Jobson's 1996 envelope at the route's velocity, about 0.2); "
    "dispersion log-normal with the estimator's band (÷4…×4, 92 % of field measurements in "
    "cross-validation) as its P5–P95 (×/÷ 1.5 around a given value; the formulas' range for a named "
    "formula); mass log-uniform ½×–2×; release start ± 20 min (normal); duration log-uniform ½×–2× "
    "(0–30 min if reported instantaneous)"
)
GIVEN_DISPERSION_SPREAD = 1.5  # ×/÷ around a dispersion coefficient given in the river file
MAX_MEMBERS = 100_000


# ---------------------------------------------------------------- ensemble


@dataclass
class EnsembleSetup:
    specs: list[Any]
    index: dict[str, int]
    source: tuple[int, float]
    points: list[tuple[int, float]]
    inputs: EnsembleInputs
    dispersion_low_m2s: np.ndarray
    dispersion_high_m2s: np.ndarray
    decay_per_s: float
    detection_mg_l: float
    standard_mg_l: float | None
    background_mg_l: float
    horizon_s: float
    warnings: list[str] = field(default_factory=list)


def ensemble_setup(req: ForecastRequest) -> EnsembleSetup:
    """Arrays for the fast model from a forecast request (its first spill is the uncertain one)."""
    from incident.plume.forecast import default_detection

    net = req.network
    spills = [s for s in req.spills if s.mass_kg or s.rate_kg_s]
    if not spills:
        raise UserError("errors.plume.ensemble_needs_spill_mass", where=req.name or "forecast")
    spill = spills[0]
    warnings = []
    if len(req.spills) > 1 or req.inlets:
        warnings.append("the ensemble samples the first spill only; other releases are left out of the bands")
    hydraulics, hw = reach_hydraulics(net, req.dispersion_method, req.velocity_method)
    warnings += hw
    specs = build_reach_specs(
        net, hydraulics, velocity_factor=req.velocity_factor, dispersion_factor=req.dispersion_factor
    )
    low, high = [], []
    for h in hydraulics:
        if h.dispersion_source == "given" or not h.spread_m2s:
            low.append(h.dispersion_m2s / GIVEN_DISPERSION_SPREAD)
            high.append(h.dispersion_m2s * GIVEN_DISPERSION_SPREAD)
        elif "band_low" in h.spread_m2s:  # the default's P5–P95 band from its measured errors
            low.append(h.spread_m2s["band_low"])
            high.append(h.spread_m2s["band_high"])
        else:
            values = list(h.spread_m2s.values())
            low.append(min(values))
            high.append(max(values))
    factor = req.dispersion_factor
    index = {r.reach_id: i for i, r in enumerate(net.reaches)}
    if req.horizon_h is not None:
        horizon_s = req.horizon_h * 3600.0
    else:  # by need, as the forecast does
        from models.horizon import horizon_by_need
        from models.transport import OutputPoint, Release

        horizon_s, _ = horizon_by_need(
            specs,
            [
                Release(
                    index[spill.reach_id],
                    min(spill.offset_m, net.reach(spill.reach_id).length_m),
                    start_s=spill.start_h * 3600.0,
                    duration_s=spill.duration_h * 3600.0,
                    mass_kg=spill.mass_kg,
                    mass_rate_kg_s=None if spill.mass_kg else spill.rate_kg_s,
                )
            ],
            [],
            [
                OutputPoint(index[p.reach_id], min(max(p.offset_m, 0.0), net.reach(p.reach_id).length_m))
                for p in req.points
            ],
            detection_mg_l=req.detection_mg_l or default_detection(req.standard_mg_l),
            decay_per_s=req.decay_per_day / 86400.0,
        )
    duration_s = spill.duration_h * 3600.0
    if spill.mass_kg:
        mass = spill.mass_kg
    else:
        end = duration_s if duration_s > 0 else horizon_s - spill.start_h * 3600.0
        duration_s = end
        assert spill.rate_kg_s is not None  # a spill has mass_kg or rate_kg_s (checked when it is read)
        mass = float(spill.rate_kg_s) * end
    velocity_sigma = route_velocity_sigma_ln(specs, [index[r] for r in net.path_down(spill.reach_id)])
    if req.horizon_h is None:
        # by need for the nominal river; a member 3σ slower arrives exp(3σ) later: give it room too
        from models.horizon import CAP_S

        horizon_s = min(horizon_s * math.exp(3.0 * velocity_sigma), max(CAP_S, horizon_s))
    return EnsembleSetup(
        specs=specs,
        index=index,
        source=(index[spill.reach_id], min(spill.offset_m, net.reach(spill.reach_id).length_m)),
        points=[
            (index[p.reach_id], min(max(p.offset_m, 0.0), net.reach(p.reach_id).length_m)) for p in req.points
        ],
        inputs=EnsembleInputs(
            mass_kg=mass,
            start_s=spill.start_h * 3600.0,
            duration_s=duration_s,
            velocity_sigma_ln=velocity_sigma,
        ),
        dispersion_low_m2s=np.array(low) * factor,
        dispersion_high_m2s=np.array(high) * factor,
        decay_per_s=req.decay_per_day / 86400.0,
        detection_mg_l=req.detection_mg_l or default_detection(req.standard_mg_l),
        standard_mg_l=req.standard_mg_l,
        background_mg_l=req.background_mg_l,
        horizon_s=horizon_s,
        warnings=warnings,
    )


def route_velocity_sigma_ln(specs: Sequence[ReachSpec], path: Sequence[int]) -> float:
    """Jobson's velocity error (models.jobson.velocity_sigma_ln) at the route's travel-time mean velocity
    ΣL/Σ(L/U) from the source reach to the outlet."""
    from models.jobson import velocity_sigma_ln

    length = sum(specs[i].length_m for i in path)
    time = sum(specs[i].length_m * specs[i].area_m2 / specs[i].discharge_m3s for i in path)
    return float(velocity_sigma_ln(length / time))


def check_members(n_members: int) -> None:
    if not isinstance(n_members, int) or not 1 <= n_members <= MAX_MEMBERS:
        raise UserError(
            "errors.plume.ensemble_size_out_range",
            field="ensemble",
            n_members=repr(n_members),
            max_members=MAX_MEMBERS,
        )


def run_request_ensemble(
    req: ForecastRequest,
    *,
    n_members: int = 1000,
    seed: int | None = 0,
    curve_times_h: Sequence[float] | np.ndarray | None = None,
) -> tuple[EnsembleResult, EnsembleSetup]:
    check_members(n_members)
    setup = ensemble_setup(req)
    result = run_ensemble(
        setup.specs,
        *setup.source,
        setup.points,
        setup.inputs,
        horizon_s=setup.horizon_s,
        detection_mg_l=setup.detection_mg_l,
        standard_mg_l=setup.standard_mg_l,
        background_mg_l=setup.background_mg_l,
        decay_per_s=setup.decay_per_s,
        dispersion_low_m2s=setup.dispersion_low_m2s,
        dispersion_high_m2s=setup.dispersion_high_m2s,
        n_members=n_members,
        seed=seed,
        curve_times_s=None if curve_times_h is None else np.asarray(curve_times_h, float) * 3600.0,
    )
    return result, setup


def _hours(values: tuple[float, float, float]) -> tuple[float, float, float]:
    first, second, third = values
    return (first / 3600.0, second / 3600.0, third / 3600.0)


def apply_bands(fc: IncidentForecast, result: EnsembleResult, setup: EnsembleSetup) -> IncidentForecast:
    """Put the ensemble's bands on the forecast's points (in place) and return it.

    Times stay hours after the release start (+inf = not within the horizon for that share of members).
    """
    for i, p in enumerate(fc.points):
        p.leading_edge_band_h = _hours(result.leading_edge_s.at(i))
        p.peak_band_mg_l = result.peak_mg_l.at(i)
    fc.warnings = list(fc.warnings) + [
        w for w in setup.warnings + list(result.warnings) if w not in fc.warnings
    ]
    fc.grid = dict(fc.grid) | {"ensemble_members": result.n_members, "ensemble_seed": result.seed}
    return fc


def band_rows(fc: IncidentForecast, result: EnsembleResult) -> list[dict[str, Any]]:
    """One row per point with every band (hours after the release start; None = not within the horizon)."""

    def h(x: float) -> float | None:
        return None if not math.isfinite(x) else round(x / 3600.0, 2)

    rows = []
    for i, p in enumerate(fc.points):
        arr = result.leading_edge_s.at(i)
        pk = result.peak_s.at(i)
        c = result.peak_mg_l.at(i)
        dur = result.exceed_duration_s.at(i)
        rows.append(
            {
                "point": p.label,
                "arrival_p10_h": h(arr[0]),
                "arrival_p50_h": h(arr[1]),
                "arrival_p90_h": h(arr[2]),
                "peak_p10_h": h(pk[0]),
                "peak_p50_h": h(pk[1]),
                "peak_p90_h": h(pk[2]),
                "peak_p10_mg_l": float(f"{c[0]:.4g}"),
                "peak_p50_mg_l": float(f"{c[1]:.4g}"),
                "peak_p90_mg_l": float(f"{c[2]:.4g}"),
                "exceed_hours_p10": h(dur[0]),
                "exceed_hours_p50": h(dur[1]),
                "exceed_hours_p90": h(dur[2]),
                "p_detected": round(float(result.reach_probability[i]), 3),
                "p_exceeds": round(float(result.exceed_probability[i]), 3),
            }
        )
    return rows


# ---------------------------------------------------------------- calibration


@dataclass
class ObservationRow:
    result_id: int
    sample_code: str
    point: str  # sampling point number
    reach_id: str
    km: float
    sampled_at: datetime
    value_mg_l: float | None
    detection_limit_mg_l: float
    censored: bool
    dl_assumed: bool = False


@dataclass
class IncidentObservations:
    rows: list[ObservationRow]
    skipped: dict[str, int]  # reason -> count


def incident_observations(session: Session, code: str) -> IncidentObservations:
    """Results usable for calibration: the incident's substance, quantitative or non-detect, with a
    sample time and sampling point; QC-flagged, superseded (corrected) and blank samples excluded."""
    from sqlmodel import select

    from incident.core.incidents import get_incident
    from incident.core.store.tables import Result, Sample, SamplingPoint, result_is_current, row_id
    from incident.plume.forecast import standard_for

    inc = get_incident(session, code)
    results = list(session.exec(select(Result).where(Result.incident_id == inc.id)))
    current = set(session.exec(select(Result.id).where(Result.incident_id == inc.id, result_is_current())))
    _, default_dl = standard_for(inc.substance)
    skipped: dict[str, int] = {}

    def skip(reason: str) -> None:
        skipped[reason] = skipped.get(reason, 0) + 1

    rows = []
    for r in results:
        if r.id not in current:
            skip("superseded by a correction")
            continue
        if inc.substance and r.parameter != inc.substance:
            skip("other parameter")
            continue
        if r.qc_flag:
            skip("QC-flagged")
            continue
        sample = session.get(Sample, r.sample_id)
        if sample is None or sample.sample_type == "field_blank":
            skip("blank")
            continue
        point = session.get(SamplingPoint, sample.point_id) if sample.point_id else None
        if point is None:
            skip("no sampling point")
            continue
        dl = r.detection_limit_mg_l
        assumed = False
        if dl is None or dl <= 0:
            if default_dl is None:
                skip("no detection limit")
                continue
            dl, assumed = default_dl, True
        non_detect = r.detected is False or (r.value_mg_l is not None and r.value_mg_l < dl)
        if not non_detect and r.value_mg_l is None:
            skip("qualitative (no value)")
            continue
        rows.append(
            ObservationRow(
                result_id=row_id(r),
                sample_code=sample.code,
                point=point.number,
                reach_id=point.reach_id,
                km=point.km,
                sampled_at=as_utc(sample.sampled_at),
                value_mg_l=None if non_detect or r.value_mg_l is None else float(r.value_mg_l),
                detection_limit_mg_l=float(dl),
                censored=non_detect,
                dl_assumed=assumed,
            )
        )
    rows.sort(key=lambda o: (o.sampled_at, o.point))
    return IncidentObservations(rows, skipped)


@dataclass
class CalibrationReport:
    code: str
    calibration_id: int | None
    fit: Calibration
    observations: list[ObservationRow]
    points: list[str]  # point number per fit point index
    release_start: datetime  # the recorded start the fit's times are relative to
    before: IncidentForecast | None = None
    after: IncidentForecast | None = None
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def shift_h(self) -> float:
        """Add to the after-forecast's hours to make them hours after the *recorded* release start."""
        return self.fit.estimates["start_s"] / 3600.0

    @property
    def estimated_start(self) -> datetime:
        return self.release_start + timedelta(seconds=self.fit.estimates["start_s"])

    def params(self) -> dict[str, Any]:
        e = self.fit.estimates
        return {
            "mass_kg": e["mass_kg"],
            "start_shift_h": e["start_s"] / 3600.0,
            "release_start": self.estimated_start.isoformat(),
            "velocity_factor": e["velocity_factor"],
            "dispersion_factor": e["dispersion_factor"],
            "duration_h": self.fit.duration_s / 3600.0,
        }

    def fit_summary(self) -> dict[str, Any]:
        f = self.fit
        return {
            "standard_errors": f.standard_errors,
            "intervals_95": {k: list(v) for k, v in f.intervals_95.items()},
            "prior": f.prior,
            "n_observations": f.n_observations,
            "n_detected": f.n_detected,
            "n_censored": f.n_censored,
            "censored_violations": f.censored_violations,
            "rms_log": f.rms_log,
            "rms_log_prior": f.rms_log_prior,
            "factor_error": f.factor_error,
            "per_point": [
                {
                    "point": self.points[pf.point],
                    "n": pf.n,
                    "n_censored": pf.n_censored,
                    "mean_residual_ln": pf.mean_residual_ln,
                    "rms_residual_ln": pf.rms_residual_ln,
                }
                for pf in f.per_point
            ],
            "residuals": [
                {
                    "result_id": o.result_id,
                    "point": o.point,
                    "sampled_at": o.sampled_at.isoformat(),
                    "value_mg_l": o.value_mg_l,
                    "detection_limit_mg_l": o.detection_limit_mg_l,
                    "censored": o.censored,
                    "model_mg_l": float(f.model_mg_l[i]),
                    "residual_ln": float(f.residuals_ln[i]),
                    "residual_ln_before": float(f.residuals_ln_prior[i]),
                }
                for i, o in enumerate(self.observations)
            ],
            "warnings": f.warnings,
            "skipped": self.skipped,
            "success": f.success,
        }


def calibrate_incident(
    session: Session,
    code: str,
    *,
    actor: str,
    reforecast: bool = True,
    horizon_h: float | None = DEFAULT_HORIZON_H,
    store: bool = True,
) -> CalibrationReport:
    """Fit the incident's plume to its logged results; store a pending calibration and log it.

    The fit starts from what is recorded (mass, release start and duration; velocity and dispersion
    factors 1). With `reforecast`, the full model is run before and after (for the comparison).
    """
    from incident.core import log
    from incident.core.incidents import get_incident
    from incident.core.store.tables import ModelCalibration, row_id

    inc = get_incident(session, code)
    req = request_for_incident(session, code, horizon_h=horizon_h)
    obs = incident_observations(session, code)
    if not obs.rows:
        why = ", ".join(f"{n} {reason}" for reason, n in obs.skipped.items()) or "no results logged"
        raise UserError(
            "errors.plume.incident_has_no_results", where=f"incident {inc.code}", code=inc.code, why=why
        )
    setup = ensemble_setup(req)
    net = req.network
    labels: list[str] = []
    places: list[tuple[int, float]] = []
    observations = []
    for o in obs.rows:
        if o.point not in labels:
            labels.append(o.point)
            places.append((setup.index[o.reach_id], net.offset_for_km(o.reach_id, o.km)))
        observations.append(
            Observation(
                time_s=(o.sampled_at - as_utc(req.start)).total_seconds(),
                point=labels.index(o.point),
                value_mg_l=o.value_mg_l if o.value_mg_l is not None else 0.0,
                detection_limit_mg_l=o.detection_limit_mg_l,
                censored=o.censored,
            )
        )
    routes = route(setup.specs, *setup.source, places)
    fit = calibrate(
        routes,
        observations,
        Prior(mass_kg=setup.inputs.mass_kg, start_s=setup.inputs.start_s, duration_s=setup.inputs.duration_s),
        decay_per_s=setup.decay_per_s,
        background_mg_l=setup.background_mg_l,
    )
    if routes.has_storage:
        fit.warnings.append(STORAGE_WARNING)
    if any(o.dl_assumed for o in obs.rows):
        fit.warnings.append(
            "some results had no detection limit; the substance's method detection limit was assumed"
        )
    report = CalibrationReport(
        code=inc.code,
        calibration_id=None,
        fit=fit,
        observations=obs.rows,
        points=labels,
        release_start=as_utc(req.start),
        skipped=obs.skipped,
    )
    if reforecast:
        report.before = run_forecast(req)
        report.after = run_forecast(apply_params(req, report.params()))
    if store:
        row = ModelCalibration(
            incident_id=row_id(inc),
            created_at=utcnow(),
            created_by=actor,
            params_json=json.dumps(report.params()),
            fit_json=json.dumps(report.fit_summary(), default=str),
        )
        session.add(row)
        session.flush()
        report.calibration_id = row.id
        e = fit.estimates
        log.append(
            session,
            chain=log.incident_chain(inc.code),
            actor=actor,
            kind="calibration.run",
            incident_id=inc.id,
            summary=(
                f"Model calibration #{row.id} from {fit.n_observations} results: mass {e['mass_kg']:.0f} kg, "
                f"release {fmt_local(report.estimated_start)}, velocity ×{e['velocity_factor']:.2f}, "
                f"dispersion ×{e['dispersion_factor']:.2f}; misfit ×{fit.factor_error:.2f} "
                f"(was ×{math.exp(fit.rms_log_prior):.2f}) — pending decision"
            ),
            payload={"calibration_id": row.id, "params": report.params(), "rms_log": fit.rms_log},
        )
    return report


def apply_params(req: ForecastRequest, params: dict[str, Any]) -> ForecastRequest:
    """The request with a calibration's mass, release start and factors (the first spill is refitted)."""
    if not req.spills:
        return req
    first = req.spills[0]
    shift = timedelta(hours=params["start_shift_h"])
    spill = (
        replace(first, mass_kg=params["mass_kg"], rate_kg_s=None)
        if first.mass_kg or first.rate_kg_s
        else first
    )
    return replace(
        req,
        start=req.start + shift,
        spills=[spill] + [replace(s, start_h=s.start_h - params["start_shift_h"]) for s in req.spills[1:]],
        velocity_factor=req.velocity_factor * params["velocity_factor"],
        dispersion_factor=req.dispersion_factor * params["dispersion_factor"],
    )


@dataclass
class CalibrationInfo:
    id: int
    created_at: datetime
    created_by: str
    decision: str
    decided_by: str | None
    decided_at: datetime | None
    params: dict[str, Any]
    fit: dict[str, Any]


def _info(row: ModelCalibration) -> CalibrationInfo:
    from incident.core.store.tables import row_id

    return CalibrationInfo(
        id=row_id(row),
        created_at=as_utc(row.created_at),
        created_by=row.created_by,
        decision=row.decision,
        decided_by=row.decided_by,
        decided_at=as_utc(row.decided_at) if row.decided_at else None,
        params=json.loads(row.params_json),
        fit=json.loads(row.fit_json),
    )


def list_calibrations(session: Session, code: str) -> list[CalibrationInfo]:
    from sqlmodel import col, select

    from incident.core.incidents import get_incident
    from incident.core.store.tables import ModelCalibration

    inc = get_incident(session, code)
    rows = session.exec(
        select(ModelCalibration)
        .where(ModelCalibration.incident_id == inc.id)
        .order_by(col(ModelCalibration.id))
    )
    return [_info(r) for r in rows]


def accepted_calibration(session: Session, code: str) -> CalibrationInfo | None:
    accepted = [c for c in list_calibrations(session, code) if c.decision == "accepted"]
    return max(accepted, key=lambda c: (c.decided_at or c.created_at, c.id)) if accepted else None


def decide(
    session: Session, code: str, calibration_id: int, *, accept: bool, actor: str, reason: str = ""
) -> CalibrationInfo:
    """Accept or reject a pending calibration; both are logged. A decision is final (run a new fit to
    change course); accepting one supersedes an earlier accepted calibration."""
    from incident.core import log
    from incident.core.incidents import get_incident
    from incident.core.store.tables import ModelCalibration

    inc = get_incident(session, code)
    row = session.get(ModelCalibration, calibration_id)
    if row is None or row.incident_id != inc.id:
        known = ", ".join(f"#{c.id} ({c.decision})" for c in list_calibrations(session, code)) or "none"
        raise UserError(
            "errors.plume.incident_has_no_calibration",
            where="calibration id",
            code=inc.code,
            calibration_id=calibration_id,
            known=known,
        )
    if row.decision != "pending":
        raise UserError(
            "errors.plume.calibration_was_already",
            where="calibration id",
            calibration_id=calibration_id,
            decision=row.decision,
            decided_by=row.decided_by,
            code=inc.code,
        )
    row.decision = "accepted" if accept else "rejected"
    row.decided_by = actor
    row.decided_at = utcnow()
    session.add(row)
    p = json.loads(row.params_json)
    verb = "accepted" if accept else "rejected"
    log.append(
        session,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind=f"calibration.{verb}",
        incident_id=inc.id,
        summary=(
            f"Model calibration #{row.id} {verb}: mass {p['mass_kg']:.0f} kg, velocity "
            f"×{p['velocity_factor']:.2f}, dispersion ×{p['dispersion_factor']:.2f}"
            + (f" — {reason}" if reason else "")
        ),
        payload={"calibration_id": row.id, "params": p, "reason": reason},
    )
    session.flush()
    return _info(row)


def request_with_calibration(
    session: Session,
    code: str,
    *,
    horizon_h: float | None = DEFAULT_HORIZON_H,
    extra_points: Sequence[Any] = (),
) -> tuple[ForecastRequest, CalibrationInfo | None]:
    """The incident's forecast request, with the latest accepted calibration applied."""
    req = request_for_incident(session, code, horizon_h=horizon_h, extra_points=extra_points)
    cal = accepted_calibration(session, code)
    return (apply_params(req, cal.params) if cal else req), cal


# ---------------------------------------------------------------- tracing

TRACE_COLUMNS = ("station", "time", "value_mg_l", "detection_limit_mg_l")


@dataclass
class TraceCandidateRow:
    rank: int
    reach_id: str
    km: float
    lat: float
    lon: float
    release: datetime
    mass_kg: float
    weight: float
    misfit_factor: float


@dataclass
class TraceReport:
    network: str
    candidates: list[TraceCandidateRow]
    reaches: list[tuple[str, float]]  # (reach id, summed weight), best first
    n_observations: int
    n_stations: int
    n_positions: int
    warnings: list[str]


def _trace_rows(
    text: str, source: str, net: RiverNetworkData
) -> tuple[dict[str, tuple[str, float]], list[tuple[str, datetime, float, float, bool]]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in TRACE_COLUMNS if c not in header]
    if missing:
        raise UserError(
            "errors.plume.missing_column_s",
            where=f"{source}: line 1",
            value=", ".join(missing),
            value2=", ".join(TRACE_COLUMNS),
        )
    from pydantic import ValidationError

    from incident.core.inputs import refusals
    from incident.plume.trace_inputs import TraceRow

    receptors = {rc.receptor_id: rc for rc in net.receptors}
    problems: list[UserError] = []
    stations: dict[str, tuple[str, float]] = {}
    records: list[tuple[str, datetime, float, float, bool]] = []
    fields = set(TraceRow.model_fields)
    for lineno, raw in enumerate(reader, start=2):
        where = f"{source}: line {lineno}"
        cells = {k.strip(): v for k, v in raw.items() if k and k.strip() in fields and isinstance(v, str)}
        try:
            row = TraceRow.model_validate(cells)
        except ValidationError as exc:
            problems += refusals(exc, where=_column_at(where), field_name=_no_field)
            continue
        name = row.station
        if name not in stations:
            if row.reach and row.km is not None:
                try:
                    stations[name] = (row.reach, net.offset_for_km(row.reach, row.km))
                except UserError as exc:
                    problems.append(exc.relocated(f"{where}: reach/km"))
                    continue
            elif name in receptors:
                stations[name] = (receptors[name].reach_id, receptors[name].offset_m)
            else:
                problems.append(
                    UserError(
                        "errors.plume.station_not_receptor_has",
                        where=where,
                        name=repr(name),
                        name2=net.name,
                        value=", ".join(receptors) or "none",
                    )
                )
                continue
        value = row.value_mg_l if row.value_mg_l is not None else 0.0
        records.append((name, row.time, value, row.detection_limit_mg_l, row.censored))
    if problems:
        raise ValidationErrors(source, problems)
    if not records:
        raise UserError("errors.plume.file_has_no_observations", where=source)
    return stations, records


def _no_field(loc: tuple[Any, ...]) -> str:
    return ""  # the column is named in ``where``


def _column_at(where: str) -> Callable[[tuple[Any, ...]], str]:
    """``obs.csv: line 4: value_mg_l`` for a problem in a row's column."""
    return lambda loc: f"{where}: {loc[0]}" if loc else where


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError("errors.plume.no_file", where=str(path), path=path) from None
    except OSError as exc:  # a folder, a file we may not read
        raise UserError("errors.core.cannot_read_file", where=str(path), strerror=exc.strerror) from None
    except UnicodeDecodeError as exc:
        raise UserError("errors.plume.file_not_utf_text", where=str(path), start=exc.start) from None


def trace_file(
    path: str | Path,
    river: str | Path,
    *,
    spacing_m: float = 1000.0,
    duration_h: float = 0.0,
    decay_per_day: float = 0.0,
    top: int = 10,
) -> TraceReport:
    """Rank candidate sources for the observations in a CSV file on the network in a river file."""
    net = load_river_file(river)
    path = Path(path)
    stations, records = _trace_rows(_read_text(path), str(path), net)
    return trace_records(
        net,
        stations,
        records,
        source=str(path),
        spacing_m=spacing_m,
        duration_h=duration_h,
        decay_per_day=decay_per_day,
        top=top,
    )


def trace_records(
    net: RiverNetworkData,
    stations: dict[str, tuple[str, float]],
    records: Sequence[tuple[str, datetime, float, float, bool]],
    *,
    source: str = "observations",
    spacing_m: float = 1000.0,
    duration_h: float = 0.0,
    decay_per_day: float = 0.0,
    top: int = 10,
) -> TraceReport:
    """Rank candidate sources for observations (station, time, value, detection limit, censored) at
    stations given as name -> (reach id, offset m) on ``net`` (files and automatic stations alike)."""
    hydraulics, warnings = reach_hydraulics(net)
    specs = build_reach_specs(net, hydraulics)
    index = {r.reach_id: i for i, r in enumerate(net.reaches)}
    names = list(stations)
    t0 = min(r[1] for r in records)
    observations = [
        Observation(
            time_s=(at - t0).total_seconds(),
            point=names.index(name),
            value_mg_l=value,
            detection_limit_mg_l=dl,
            censored=censored,
        )
        for name, at, value, dl, censored in records
    ]
    try:
        result = trace_source(
            specs,
            [(index[stations[n][0]], stations[n][1]) for n in names],
            observations,
            spacing_m=spacing_m,
            duration_s=duration_h * 3600.0,
            decay_per_s=decay_per_day / 86400.0,
            top=top,
        )
    except ValueError as exc:
        raise UserError("errors.plume.trace_refused", where=source, detail=str(exc)) from exc
    rows = []
    for rank, c in enumerate(result.candidates, start=1):
        reach_id = net.reaches[c.reach].reach_id
        lat, lon = net.point_at(reach_id, c.offset_m)
        rows.append(
            TraceCandidateRow(
                rank=rank,
                reach_id=reach_id,
                km=net.km_of(reach_id, c.offset_m),
                lat=lat,
                lon=lon,
                release=t0 + timedelta(seconds=c.start_s),
                mass_kg=c.mass_kg,
                weight=c.weight,
                misfit_factor=math.exp(c.rms_log),
            )
        )
    return TraceReport(
        network=net.name,
        candidates=rows,
        reaches=[(net.reaches[r].reach_id, w) for r, w in result.reach_weights.items()],
        n_observations=len(observations),
        n_stations=len(names),
        n_positions=result.n_positions,
        warnings=warnings + result.warnings,
    )
