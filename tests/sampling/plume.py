"""Test forecasts built from physics we can check by hand (not from the forecast service).

An instantaneous slug in a 1D channel: C(x, t) = M / (A √(4πDt)) · exp(−(x − Ut)² / 4Dt) · e^(−kt),
with U the travel-time-equivalent velocity along the flow path (Σ L_i / v_i of the reaches
crossed) and A the local cross-section. Leading edge, peak and trailing edge are read off the
curve on a fine time grid, as the forecast service does.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from incident.core.rivers import RiverNetworkData
from incident.plume.forecast_types import IncidentForecast, PointForecast

RELEASE = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)


def advective_time_h(net: RiverNetworkData, src: tuple[str, float], to: tuple[str, float]) -> float | None:
    """Σ L/v along the flow path from src to `to` (hours), None if `to` is not downstream."""
    dist = net.distance_downstream_m(src[0], src[1], to[0], to[1])
    if dist is None:
        return None
    seconds, remaining, offset = 0.0, dist, src[1]
    for rid in net.path_down(src[0]):
        r = net.reach(rid)
        take = min(remaining, r.length_m - offset)
        seconds += take / r.velocity_ms
        remaining -= take
        offset = 0.0
        if remaining <= 1e-9:
            break
    return seconds / 3600


def slug_forecast(
    net: RiverNetworkData,
    src: tuple[str, float],
    extra: list[tuple[str, str, float]],
    *,
    mass_kg: float = 8000.0,
    dispersion_m2s: float = 50.0,
    decay_per_day: float = 0.05,
    horizon_h: float = 72.0,
    standard_mg_l: float = 0.017,
    detection_mg_l: float = 0.0005,
    dt_h: float = 0.05,
    release: datetime = RELEASE,
    with_profiles: tuple[float, ...] = (),
) -> IncidentForecast:
    times_h = np.arange(dt_h, horizon_h + 1e-9, dt_h)
    positions = [(rc.receptor_id, rc.name, rc.reach_id, rc.offset_m, rc.kind) for rc in net.receptors]
    positions += [(label, label, reach, off, "point") for label, reach, off in extra]
    points, curves = [], []
    k = decay_per_day / 86400
    for label, name, reach, off, kind in positions:
        dist = net.distance_downstream_m(src[0], src[1], reach, off)
        curve = np.zeros_like(times_h)
        if dist is not None and dist > 0:
            tadv = advective_time_h(net, src, (reach, off)) * 3600
            u = dist / tadv
            area = net.reach(reach).area_m2
            t = times_h * 3600
            curve = (
                mass_kg
                * 1e6
                / (area * np.sqrt(4 * np.pi * dispersion_m2s * t))
                * np.exp(-((dist - u * t) ** 2) / (4 * dispersion_m2s * t))
                * np.exp(-k * t)
                / 1000
            )
        pf = PointForecast(
            label=label,
            name=name,
            reach_id=reach,
            offset_m=off,
            km=net.km_of(reach, off),
            distance_from_source_m=dist if dist is not None else -1.0,
            kind=kind,
        )
        above = np.nonzero(curve > detection_mg_l)[0]
        if above.size:
            pf.leading_edge_h = float(times_h[above[0]])
            pf.trailing_edge_h = float(times_h[above[-1]])
            pf.peak_h = float(times_h[int(np.argmax(curve))])
            pf.peak_mg_l = float(curve.max())
            over = np.nonzero(curve > standard_mg_l)[0]
            if over.size:
                pf.exceed_start_h = float(times_h[over[0]])
                pf.exceed_end_h = float(times_h[over[-1]])
                pf.max_exceedance_multiple = (pf.peak_mg_l - standard_mg_l) / standard_mg_l
        points.append(pf)
        curves.append(curve)
    profiles = {}
    # along the flow path: distance and advective time at each reach start, then linear within it
    path = []
    for rid in net.path_down(src[0]):
        r = net.reach(rid)
        first = rid == src[0]
        start_d = -src[1] if first else net.distance_downstream_m(src[0], src[1], rid, 0.0)
        start_t = -src[1] / r.velocity_ms if first else advective_time_h(net, src, (rid, 0.0)) * 3600
        path.append((r, start_d, start_t))
    for at_h in with_profiles:
        t = at_h * 3600
        rows = []
        for r, start_d, start_t in path:
            offs = np.linspace(0, r.length_m, 201)
            dist = start_d + offs
            tadv = start_t + offs / r.velocity_ms
            u = np.where(dist > 0, dist / np.where(tadv > 0, tadv, 1.0), 1.0)
            conc = (
                mass_kg
                * 1e6
                / (r.area_m2 * np.sqrt(4 * np.pi * dispersion_m2s * t))
                * np.exp(-((dist - u * t) ** 2) / (4 * dispersion_m2s * t))
                * np.exp(-k * t)
                / 1000
            )
            rows.append((r.reach_id, offs, np.where(dist > 0, conc, 0.0)))
        profiles[at_h] = rows
    return IncidentForecast(
        release_start=release,
        horizon_h=horizon_h,
        substance="nitrobenzene",
        standard_mg_l=standard_mg_l,
        detection_mg_l=detection_mg_l,
        points=points,
        times_h=times_h,
        curves_mg_l=np.array(curves),
        method="analytic slug (test)",
        profiles=profiles,
    )
