"""Plume forecasts: river network + spill → arrival, peak and exceedance at every point.

This is the bridge between the application (river files, incidents, scenario
files, units, times) and the transport model in ``models/`` (arrays in SI).

Definitions used everywhere in the tool:
- *leading edge*: the first time the forecast concentration above background
  reaches the detection threshold (the parameter's method detection limit;
  default 1 % of the evaluation standard, else 0.001 mg/L);
- *peak*: time and value of the maximum;
- *trailing edge*: the last time above the detection threshold after the peak;
- *exceedance window*: from the first to the last time above the evaluation
  standard, with the maximum exceedance multiple (C − limit) / limit.

Hydraulics per reach: velocity as given, else Q/A (A as given, else W·H);
dispersion as given, else Seo & Cheong (1998) from the shear velocity
u* = √(g·R·S) (slope required; without a slope u* ≈ 0.1·U is assumed and a
warning is raised); all four published estimates are kept as the spread.
Jobson (1996) empirical travel times are computed beside the model as an
independent cross-check when every reach on the route has a drainage area.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from incident.core.clock import parse_local, utcnow
from incident.core.errors import UserError
from incident.core.i18n import t
from incident.core.rivers import RiverNetworkData, load_river_file
from incident.plume.forecast_types import IncidentForecast, PointForecast
from models.horizon import CAP_S
from models.hydraulics import hydraulic_radius, manning_velocity, shear_velocity
from models.jobson import JobsonReach, route_travel_time
from models.metrics import breakthrough_metrics
from models.network import ReachSpec
from models.transport import InletSeries, OutputPoint, Release, SimulationResult, simulate

if TYPE_CHECKING:
    from sqlmodel import Session

    from models.accuracy import AccuracyEstimate

GRAVITY = 9.81
DEFAULT_HORIZON_H: float | None = None  # None: run until every point has seen the plume pass (capped)
OUTPUT_EVERY_S = 600.0
DISPERSION_METHODS = (
    "disley",
    "disley_corrected",
    "recalibrated_disley",
    "seo_cheong",
    "fischer",
    "deng",
    "kashefipour_falconer",
)
DEFAULT_DISPERSION_METHOD = "disley"
VELOCITY_METHODS = ("discharge", "manning")


@dataclass
class Spill:
    reach_id: str
    offset_m: float
    mass_kg: float | None = None  # total mass (instantaneous or over duration_h)
    rate_kg_s: float | None = None  # continuous release rate
    duration_h: float = 0.0  # 0 = instantaneous (with mass) or until the horizon (with rate)
    start_h: float = 0.0  # hours after the forecast's time zero


@dataclass
class Inlet:
    reach_id: str
    times_h: list[float]
    conc_mg_l: list[float]


@dataclass
class ForecastPointSpec:
    label: str
    name: str
    reach_id: str
    offset_m: float
    kind: str = "point"


@dataclass
class ForecastRequest:
    network: RiverNetworkData
    start: datetime  # time zero (release start)
    horizon_h: float | None = DEFAULT_HORIZON_H  # None: by need (models.horizon), capped at 30 days
    spills: list[Spill] = field(default_factory=list)
    inlets: list[Inlet] = field(default_factory=list)
    points: list[ForecastPointSpec] = field(default_factory=list)
    substance: str | None = None
    decay_per_day: float = 0.0
    standard_mg_l: float | None = None
    detection_mg_l: float | None = None
    background_mg_l: float = 0.0
    dispersion_method: str = DEFAULT_DISPERSION_METHOD
    velocity_method: str = "discharge"  # given velocity, else Q/A; or "manning" where slope and n are given
    velocity_factor: float = 1.0
    dispersion_factor: float = 1.0
    dx_m: float | None = None
    dt_s: float | None = None
    profile_every_h: float = 1.0
    name: str = ""


# ---------------------------------------------------------------- hydraulics


@dataclass
class ReachHydraulics:
    reach_id: str
    velocity_ms: float
    area_m2: float
    dispersion_m2s: float
    dispersion_source: str  # "given" or the formula's name
    spread_m2s: dict[str, float]


def reach_hydraulics(
    net: RiverNetworkData, method: str = DEFAULT_DISPERSION_METHOD, velocity_method: str = "discharge"
) -> tuple[list[ReachHydraulics], list[str]]:
    if method not in DISPERSION_METHODS:
        raise UserError(
            "errors.plume.unknown_dispersion_method",
            where="dispersion_method",
            method=repr(method),
            value=", ".join(DISPERSION_METHODS),
        )
    if velocity_method not in VELOCITY_METHODS:
        raise UserError(
            "errors.plume.unknown_velocity_method",
            where="velocity",
            velocity_method=repr(velocity_method),
            value=", ".join(VELOCITY_METHODS),
        )
    from models import dispersion as dm

    out, warnings = [], []
    no_slope = []
    rows = []  # (reach, velocity, area, shear velocity)
    for r in net.reaches:
        area = r.get("area_m2") or r.width_m * r.depth_m
        velocity = r.get("velocity_ms") or r.discharge_m3s / area
        if velocity_method == "manning" and not r.get("velocity_ms"):
            manning_n, manning_slope = r.get("manning_n"), r.get("slope")
            if not (manning_slope and manning_n):
                raise UserError(
                    "errors.plume.reach_has_no_slope",
                    where=f"{net.source}: reach {r.reach_id}",
                    reach_id=r.reach_id,
                )
            velocity = float(manning_velocity(manning_n, r.width_m, r.depth_m, manning_slope))
            area = r.discharge_m3s / velocity
        elif r.get("velocity_ms"):
            area = r.discharge_m3s / velocity  # honour the given velocity
        slope = r.get("slope")
        if slope:
            u_star = float(shear_velocity(hydraulic_radius(r.width_m, r.depth_m), slope))
        else:
            no_slope.append(r.reach_id)
            u_star = 0.1 * velocity
        rows.append((r, velocity, area, u_star))
    # every formula for every reach at once (one array call per formula, not one per reach)
    columns = [
        np.array([r.width_m for r, *_ in rows], dtype=float),
        np.array([r.depth_m for r, *_ in rows], dtype=float),
        np.array([v for _, v, _, _ in rows], dtype=float),
        np.array([us for *_, us in rows], dtype=float),
    ]
    width_col, depth_col, velocity_col, shear_col = columns
    estimates = {
        name: dm.estimate(width_col, depth_col, velocity_col, shear_col, method=name) for name in dm.FORMULAS
    }
    lows, highs = dm.band(estimates[dm.DEFAULT_METHOD])
    for i, (r, velocity, area, _) in enumerate(rows):
        spread = {name: float(values[i]) for name, values in estimates.items()}
        spread["band_low"], spread["band_high"] = float(lows[i]), float(highs[i])
        given = r.get("dispersion_m2s")
        if given:
            d, source = given, "given"
        else:
            d, source = spread[method], method
        out.append(ReachHydraulics(r.reach_id, velocity, area, d, source, spread))
    if no_slope and not all(r.get("dispersion_m2s") for r in net.reaches):
        warnings.append(
            f"no slope on reaches {', '.join(no_slope)}: shear velocity taken as 0.1·U for the "
            "dispersion estimate; add 'slope' to the river file for a better one"
        )
    return out, warnings


def build_reach_specs(
    net: RiverNetworkData,
    hydraulics: Sequence[ReachHydraulics],
    *,
    velocity_factor: float = 1.0,
    dispersion_factor: float = 1.0,
) -> list[ReachSpec]:
    index = {r.reach_id: i for i, r in enumerate(net.reaches)}
    specs = []
    for r, h in zip(net.reaches, hydraulics, strict=True):
        specs.append(
            ReachSpec(
                name=r.reach_id,
                length_m=r.length_m,
                downstream=index[r.downstream] if r.downstream else None,
                discharge_m3s=r.discharge_m3s,
                area_m2=h.area_m2 / velocity_factor,
                dispersion_m2s=h.dispersion_m2s * dispersion_factor,
                lateral_inflow_m2s=r.get("lateral_inflow_m2s") or 0.0,
                lateral_conc_mg_l=r.get("lateral_conc_mg_l") or 0.0,
                storage_area_m2=r.get("storage_area_m2") or 0.0,
                exchange_rate_per_s=r.get("exchange_rate_per_s") or 0.0,
            )
        )
    return specs


# ---------------------------------------------------------------- Jobson cross-check


def _jobson(
    net: RiverNetworkData, spill: Spill, point: ForecastPointSpec
) -> tuple[float, float, float | None] | None:
    """(leading edge h, peak h, peak mg/L) from Jobson (1996) along the route, or None if data are missing."""
    path = net.path_down(spill.reach_id)
    if point.reach_id not in path:
        return None
    segments = []
    for reach_id in path[: path.index(point.reach_id) + 1]:
        r = net.reach(reach_id)
        start = spill.offset_m if reach_id == spill.reach_id else 0.0
        end = point.offset_m if reach_id == point.reach_id else r.length_m
        if end - start <= 0.5:
            continue
        da = r.get("drainage_area_km2")
        if not da:
            return None
        qa = r.get("mean_annual_discharge_m3s") or r.discharge_m3s
        segments.append(JobsonReach(end - start, r.discharge_m3s, qa, da * 1e6, r.get("slope")))
    if not segments:
        return None
    jt = route_travel_time(segments, mass_kg=spill.mass_kg, use_slope=all(s.slope for s in segments))
    return (
        spill.start_h + jt.leading_edge_s / 3600,
        spill.start_h + jt.peak_time_s / 3600,
        jt.peak_conc_mg_l,
    )


# ---------------------------------------------------------------- running


def default_detection(standard_mg_l: float | None) -> float:
    return standard_mg_l / 100 if standard_mg_l else 0.001


#: the longest forecast (hours): what "until the plume has passed" is capped at
MAX_HORIZON_H = CAP_S / 3600.0


def refuse_long_horizon(hours: float | None, where: str) -> None:
    """Refuse a forecast time beyond :data:`MAX_HORIZON_H` (a typed 100000 h ran for minutes)."""
    if hours is not None and hours > MAX_HORIZON_H:
        raise UserError("errors.plume.horizon_h_too_long", where=where, horizon_h=hours, cap_h=MAX_HORIZON_H)


def run_forecast(req: ForecastRequest, progress: Callable[[float], None] | None = None) -> IncidentForecast:
    net = req.network
    if req.horizon_h is not None and (not math.isfinite(req.horizon_h) or req.horizon_h <= 0):
        raise UserError("errors.plume.horizon_h_not_positive", where="horizon_h", horizon_h=req.horizon_h)
    refuse_long_horizon(req.horizon_h, "horizon_h")
    if req.decay_per_day < 0:
        raise UserError("errors.plume.decay_rate_per_day", where="decay", decay_per_day=req.decay_per_day)
    if req.standard_mg_l is not None and req.standard_mg_l <= 0:
        raise UserError("errors.plume.standard_limit_must_mg", where="standard")
    if not req.spills and not req.inlets:
        raise UserError("errors.plume.nothing_released", where="spill")
    index = {r.reach_id: i for i, r in enumerate(net.reaches)}
    hydraulics, warnings = reach_hydraulics(net, req.dispersion_method, req.velocity_method)
    specs = build_reach_specs(
        net, hydraulics, velocity_factor=req.velocity_factor, dispersion_factor=req.dispersion_factor
    )
    releases = []
    for i, sp in enumerate(req.spills):
        where = f"spill {i + 1}"
        if sp.reach_id not in index:
            raise UserError(
                "errors.plume.unknown_reach_2",
                where=where,
                reach_id=repr(sp.reach_id),
                name=net.name,
                value=", ".join(index),
            )
        reach_len = net.reach(sp.reach_id).length_m
        if not 0 <= sp.offset_m <= reach_len + 1e-6:
            raise UserError(
                "errors.plume.position_m_outside_reach",
                where=where,
                offset_m=sp.offset_m,
                reach_id=sp.reach_id,
                reach_len=reach_len,
            )
        for name, value in (
            ("mass_kg", sp.mass_kg),
            ("rate_kg_s", sp.rate_kg_s),
            ("duration_h", sp.duration_h),
        ):
            if value is not None and (not math.isfinite(value) or value < 0):
                raise UserError(
                    "errors.plume.cannot_negative", where=f"{where}: {name}", name=name, value=value
                )
        if sp.mass_kg is None and sp.rate_kg_s is None:
            raise UserError("errors.plume.spill_has_neither_mass", where=where)
        releases.append(
            Release(
                reach=index[sp.reach_id],
                offset_m=min(sp.offset_m, reach_len),
                start_s=sp.start_h * 3600,
                duration_s=sp.duration_h * 3600,
                mass_kg=sp.mass_kg,
                mass_rate_kg_s=sp.rate_kg_s,
            )
        )
    inlets = []
    for i, inl in enumerate(req.inlets):
        if inl.reach_id not in index:
            raise UserError(
                "errors.plume.unknown_reach_3",
                where=f"inlet {i + 1}",
                reach_id=repr(inl.reach_id),
                value=", ".join(index),
            )
        if len(inl.times_h) != len(inl.conc_mg_l) or len(inl.times_h) < 2:
            raise UserError("errors.plume.times_h_conc_mg", where=f"inlet {i + 1}")
        inlets.append(
            InletSeries(
                reach=index[inl.reach_id],
                times_s=np.asarray(inl.times_h, float) * 3600,
                conc_mg_l=np.asarray(inl.conc_mg_l, float),
            )
        )
    outputs = [
        OutputPoint(index[p.reach_id], min(max(p.offset_m, 0.0), net.reach(p.reach_id).length_m), p.label)
        for p in req.points
    ]
    detection = req.detection_mg_l or default_detection(req.standard_mg_l)
    try:
        sim, accuracy, horizon_s, horizon_note = _solve(
            req, specs, releases, inlets, outputs, detection, progress
        )
    except ValueError as exc:  # grid too coarse, inconsistent inputs: the model's message says how to fix it
        raise UserError("errors.plume.model_refused", where=req.name or "forecast", detail=str(exc)) from exc
    if horizon_note:
        warnings = [*warnings, horizon_note]
    times_h = sim.times_s / 3600
    main_spill = req.spills[0] if req.spills else None
    src = (main_spill.reach_id, main_spill.offset_m) if main_spill else (req.inlets[0].reach_id, 0.0)
    points = []
    for p, curve in zip(req.points, sim.point_conc_mg_l, strict=True):
        m = breakthrough_metrics(
            sim.times_s,
            curve,
            detection_mg_l=detection,
            standard_mg_l=req.standard_mg_l,
            background_mg_l=req.background_mg_l,
        )
        dist = net.distance_downstream_m(src[0], src[1], p.reach_id, p.offset_m)
        pf = PointForecast(
            label=p.label,
            name=p.name,
            reach_id=p.reach_id,
            offset_m=p.offset_m,
            km=net.km_of(p.reach_id, p.offset_m),
            distance_from_source_m=dist if dist is not None else float("nan"),
            kind=p.kind,
            leading_edge_h=_h(m.leading_edge_s),
            peak_h=_h(m.peak_s) if m.reached else None,
            peak_mg_l=m.peak_mg_l if m.reached else None,
            trailing_edge_h=_h(m.trailing_edge_s),
            exceed_start_h=_h(m.exceedance_start_s),
            exceed_end_h=_h(m.exceedance_end_s),
            max_exceedance_multiple=m.max_exceedance_multiple,
        )
        if main_spill is not None and dist is not None and dist > 0:
            jobson = _jobson(net, main_spill, p)
            if jobson:
                pf.jobson_leading_h, pf.jobson_peak_h, pf.jobson_peak_mg_l = jobson
        points.append(pf)
    profiles: dict[float, list[tuple[str, np.ndarray, np.ndarray]]] = {}
    if sim.profiles is not None:
        # cells are sorted by (reach, offset): each reach is one contiguous run of columns
        bounds = np.searchsorted(sim.profiles.reach, np.arange(len(net.reaches) + 1))
        runs = [(r.reach_id, slice(bounds[ri], bounds[ri + 1])) for ri, r in enumerate(net.reaches)]
        for k, t_s in enumerate(sim.profiles.times_s):
            conc_k = sim.profiles.conc_mg_l[k]
            profiles[round(float(t_s) / 3600, 6)] = [
                (reach_id, sim.profiles.offset_m[cols], conc_k[cols]) for reach_id, cols in runs
            ]
    mb = sim.mass_balance
    grid_info: dict[str, Any] = {
        "dx_m": float(sim.grid.dx_m),
        "dt_s": float(sim.grid.dt_s),
        "cells": int(sim.grid.n_cells),
        "steps": int(sim.grid.n_steps),
        "max_peclet": float(sim.grid.max_peclet),
        "max_courant": float(sim.grid.max_courant),
    }
    if accuracy is not None:
        grid_info["error_estimate"] = {
            "summary": accuracy.worst(),
            "converged": bool(accuracy.converged),
            "fraction_of_tolerance": float(accuracy.fraction),
            "peak_pct": float(100 * np.nanmax(accuracy.peak_rel, initial=0.0)),
            "times_min": float(
                max(
                    np.nanmax(getattr(accuracy, n), initial=0.0)
                    for n in ("peak_s", "leading_edge_s", "trailing_edge_s", "exceed_start_s", "exceed_end_s")
                )
                / 60
            ),
            "tolerance": "peak 1 %; times 1 % of the travel time or 5 min",
        }
    return IncidentForecast(
        release_start=req.start,
        horizon_h=horizon_s / 3600,
        substance=req.substance,
        standard_mg_l=req.standard_mg_l,
        detection_mg_l=detection,
        points=points,
        times_h=times_h,
        curves_mg_l=sim.point_conc_mg_l,
        method=sim.grid.method,
        warnings=warnings,
        grid=grid_info,
        mass_balance={
            **{
                k: float(getattr(mb, k))
                for k in (
                    "released_kg",
                    "in_channel_kg",
                    "in_storage_kg",
                    "exported_kg",
                    "decayed_kg",
                    "withdrawn_kg",
                    "boundary_inflow_kg",
                    "lateral_inflow_kg",
                    "relative_error",
                )
            },
            "boundaries": [
                {"kind": b.kind, "reach": b.name, "in_kg": b.in_kg, "out_kg": b.out_kg} for b in mb.boundaries
            ],
        },
        dispersion_spread={
            h.reach_id: {"used_m2s": h.dispersion_m2s, "source": h.dispersion_source, **h.spread_m2s}
            for h in hydraulics
        },
        profiles=profiles,
    )


def _solve(
    req: ForecastRequest,
    specs: Sequence[ReachSpec],
    releases: Sequence[Release],
    inlets: Sequence[InletSeries],
    outputs: Sequence[OutputPoint],
    detection: float,
    progress: Callable[[float], None] | None,
) -> tuple[SimulationResult, AccuracyEstimate | None, float, str | None]:
    """The run: horizon by need (unless given), grid by accuracy (unless dx/dt given). Returns
    (result, accuracy estimate or None, horizon s, a warning or None)."""
    from models.accuracy import simulate_to_accuracy
    from models.horizon import CAP_S, horizon_by_need, still_above

    decay_per_s = req.decay_per_day / 86400
    note: str | None = None
    accuracy: AccuracyEstimate | None
    if req.horizon_h is not None:
        horizon_s, by_need = req.horizon_h * 3600, False
    else:
        by_need = True
        horizon_s, capped = horizon_by_need(
            specs,
            releases,
            inlets,
            outputs,
            detection_mg_l=detection,
            decay_per_s=decay_per_s,
            background_mg_l=req.background_mg_l,
        )
        if capped:
            note = t("horizon.capped", days=f"{CAP_S / 86400:g}")
    for _ in range(4):
        every_h = max(req.profile_every_h or 0.0, horizon_s / 3600 / 96) if req.profile_every_h else 0.0
        profile_times = list(np.arange(every_h, horizon_s / 3600 + 1e-9, every_h) * 3600) if every_h else []
        common: dict[str, Any] = {
            "horizon_s": horizon_s,
            "decay_per_s": decay_per_s,
            "background_mg_l": req.background_mg_l,
            "profile_times_s": profile_times,
        }
        if req.dx_m is None and req.dt_s is None:
            sim, accuracy = simulate_to_accuracy(
                specs,
                releases,
                inlets,
                outputs,
                detection_mg_l=detection,
                standard_mg_l=req.standard_mg_l,
                **common,
            )
        else:
            sim = simulate(
                specs, releases, inlets, outputs, dx_m=req.dx_m, dt_s=req.dt_s, progress=progress, **common
            )
            accuracy = None
        if (
            not by_need
            or horizon_s >= CAP_S
            or not np.any(still_above(sim.point_conc_mg_l, detection, req.background_mg_l))
        ):
            break
        horizon_s = min(horizon_s * 1.5, CAP_S)  # tails longer than the moments said (dead zones)
        if horizon_s >= CAP_S:
            note = t("horizon.capped", days=f"{CAP_S / 86400:g}")
    if progress is not None:
        progress(1.0)
    return sim, accuracy, horizon_s, note


def _h(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600


def receptor_points(net: RiverNetworkData) -> list[ForecastPointSpec]:
    return [
        ForecastPointSpec(rc.receptor_id, rc.name, rc.reach_id, rc.offset_m, rc.kind) for rc in net.receptors
    ]


# ---------------------------------------------------------------- incidents


def standard_for(substance: str | None) -> tuple[float | None, float | None]:
    """(evaluation limit, detection threshold) in mg/L for a substance from the shipped GB 3838-2002
    table (Class III for Table 1 items); the threshold is left to the default (1 % of the limit)."""
    if not substance:
        return None, None
    from incident.core import standards

    try:
        parameter = standards.resolve_parameter(substance, where="substance")
    except UserError:
        return None, None
    return parameter.limit_for(standards.DEFAULT_CLASS), None


def request_for_incident(
    session: Session,
    code: str,
    *,
    horizon_h: float | None = DEFAULT_HORIZON_H,
    extra_points: Sequence[tuple[str, str, float]] = (),
) -> ForecastRequest:
    from incident.core.incidents import get_incident
    from incident.core.networks import load_network

    inc = get_incident(session, code)
    if inc.river_network_id is None or inc.source_reach is None or inc.source_km is None:
        raise UserError("errors.plume.incident_has_no_source", where="incident source", code=inc.code)
    if inc.mass_kg is None or inc.mass_kg <= 0:
        raise UserError("errors.plume.incident_has_no_amount", where="mass_kg", code=inc.code)
    net = load_network(session, inc.river_network_id)
    start = inc.release_start or inc.alert_at
    standard, detection = standard_for(inc.substance)
    points = receptor_points(net)
    points += [ForecastPointSpec(label, label, reach_id, offset) for label, reach_id, offset in extra_points]
    return ForecastRequest(
        network=net,
        start=start,
        horizon_h=horizon_h,
        substance=inc.substance,
        name=inc.code,
        spills=[
            Spill(
                inc.source_reach,
                net.offset_for_km(inc.source_reach, inc.source_km),
                mass_kg=inc.mass_kg,
                duration_h=inc.release_duration_h or 0.0,
            )
        ],
        points=points,
        decay_per_day=inc.decay_per_day or 0.0,
        standard_mg_l=standard,
        detection_mg_l=detection,
    )


# ---------------------------------------------------------------- scenario files


def _reach(net: RiverNetworkData, reach: str | None, where: str) -> str:
    ids = [r.reach_id for r in net.reaches]
    if reach not in ids:
        raise UserError(
            "errors.plume.unknown_reach", where=where, field="reach", reach=repr(reach), value=", ".join(ids)
        )
    return reach


def _offset_for_km(net: RiverNetworkData, reach: str, km: float, where: str) -> float:
    try:
        return net.offset_for_km(reach, km)
    except UserError as exc:
        raise exc.relocated(where) from None


def load_scenario(path: str | Path) -> ForecastRequest:
    """Read a scenario TOML file (docs/formats) into a ForecastRequest.

    The file is parsed into ``scenario_inputs.ScenarioFile`` (every refusal names the file, the line and
    the field); what needs the river (reaches, km, snapping) is checked here."""
    from incident.core.datafiles import read_toml
    from incident.core.inputs import SourceMap, parse, toml_where
    from incident.plume.scenario_inputs import ScenarioFile

    path = Path(path)
    data = read_toml(path)
    at = toml_where(SourceMap(path.read_text(encoding="utf-8", errors="replace")), str(path))
    doc = parse(ScenarioFile, data, where=at, source=str(path))
    sc = doc.scenario
    try:
        river_path = (path.parent / sc.river) if not Path(sc.river).is_absolute() else Path(sc.river)
        net = load_river_file(river_path)
    except ValueError as exc:  # a NUL byte in the path
        raise UserError(
            "errors.plume.river_not_file_path", where=at(("scenario", "river")), river_name=repr(sc.river)
        ) from exc
    start = utcnow().replace(second=0, microsecond=0)
    if sc.start is not None:  # text in local time (or ISO with offset); a TOML date-time is local too
        text = sc.start if isinstance(sc.start, str) else sc.start.isoformat()
        start = parse_local(text, where=f"{at(('scenario', 'start'))}, start")
    spills = []
    for i, sp in enumerate(doc.spill):
        swhere = at(("spill", i, "reach"))
        if sp.reach is not None:
            reach = _reach(net, sp.reach, swhere)
            offset = (
                _offset_for_km(net, reach, sp.km, at(("spill", i, "km")))
                if sp.km is not None
                else (sp.offset_m or 0.0)
            )
        else:
            assert sp.lat is not None and sp.lon is not None  # SpillTable refuses a spill with no place
            snap = net.snap(sp.lat, sp.lon)
            if snap.distance_off_m > 2000:
                raise UserError(
                    "errors.plume.spill_km_river_nearest",
                    where=at(("spill", i, "lat")),
                    field="lat/lon",
                    value=snap.distance_off_m / 1000,
                    reach_id=snap.reach_id,
                )
            reach, offset = snap.reach_id, snap.offset_m
        rate = sp.rate_kg_s
        if sp.conc_mg_l is not None:
            # a release that raises the fully mixed river concentration by conc: rate = C·Q (g/s → kg/s)
            rate = sp.conc_mg_l * net.reach(reach).discharge_m3s / 1000.0
        spills.append(
            Spill(
                reach,
                offset,
                mass_kg=sp.mass_kg,
                rate_kg_s=rate,
                duration_h=sp.duration_h,
                start_h=sp.start_h,
            )
        )
    inlets = []
    for i, inl in enumerate(doc.inlet):
        reach = (
            _reach(net, inl.reach, at(("inlet", i, "reach")))
            if inl.reach is not None
            else net.reaches[0].reach_id
        )
        inlets.append(Inlet(reach, list(inl.times_h), list(inl.conc_mg_l)))
    points = receptor_points(net)
    for i, pt in enumerate(doc.point):
        reach = _reach(net, pt.reach, at(("point", i, "reach")))
        given = (
            _offset_for_km(net, reach, pt.km, at(("point", i, "km"))) if pt.km is not None else pt.offset_m
        )
        assert given is not None  # PointTable refuses a point with neither km nor offset_m
        label = pt.label or f"{reach}+{given:.0f}m"
        points.append(ForecastPointSpec(label, pt.name or label, reach, given))
    sub = doc.substance
    decay = sub.decay_per_day
    if sub.half_life_h is not None:
        decay = math.log(2) / (sub.half_life_h / 24)
    standard, detection = sub.standard_mg_l, sub.detection_mg_l
    if standard is None and sub.name:
        standard, det2 = standard_for(sub.name)
        detection = detection or det2
    return ForecastRequest(
        network=net,
        start=start,
        horizon_h=sc.horizon_h if sc.horizon_h is not None else DEFAULT_HORIZON_H,
        spills=spills,
        inlets=inlets,
        points=points,
        substance=sub.name,
        decay_per_day=decay,
        standard_mg_l=standard,
        detection_mg_l=detection,
        background_mg_l=sub.background_mg_l,
        dispersion_method=sc.dispersion or DEFAULT_DISPERSION_METHOD,
        velocity_method=sc.velocity or "discharge",
        dx_m=doc.grid.dx_m,
        dt_s=doc.grid.dt_s,
        name=sc.name or path.stem,
    )


def profile_rows(fc: IncidentForecast, net: RiverNetworkData, hours: float) -> list[dict[str, Any]]:
    """The longitudinal profile nearest to ``hours``: one row per cell (reach, km, mg/L)."""
    if not fc.profiles:
        raise UserError("errors.plume.forecast_kept_no_profiles")
    nearest = min(fc.profiles, key=lambda t: abs(t - hours))
    rows = []
    for reach_id, offsets, conc in fc.profiles[nearest]:
        km0 = net.reach(reach_id).km_start
        rows += [
            {"time_h": nearest, "reach": reach_id, "km": round(km0 + o / 1000, 3), "conc_mg_l": float(c)}
            for o, c in zip(offsets, conc, strict=True)
        ]
    return rows


def at_time(fc: IncidentForecast, hours: float | None) -> datetime | None:
    return None if hours is None else fc.release_start + timedelta(hours=hours)
