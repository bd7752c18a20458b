"""How long to run a forecast: until every point downstream has seen the plume pass and fall back below
the detection level, up to a cap.

A fixed 72 h dropped intakes days downstream (the 2005 Songhua benzene slick reached Harbin ~11 days
after the spill). The travel-time moments (`models.fastplume`) give, in microseconds, when each point's
curve falls below the detection level; the run lasts until the latest of those, plus a margin, capped at
`CAP_S` (30 days). Transient storage lengthens tails beyond what the moments see, so the caller checks
the solved curves (`still_above`) and extends the run when needed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from models.fastplume import point_metrics, route
from models.network import ReachSpec
from models.transport import InletSeries, OutputPoint, Release

__all__ = ["CAP_S", "MIN_S", "horizon_by_need", "still_above"]

CAP_S = 30 * 86400.0
MIN_S = 6 * 3600.0
MARGIN = 1.15  # × the latest trailing edge, plus an hour
STORAGE_MARGIN = 1.6  # dead zones stretch tails beyond the moments


def _sources(
    reaches: Sequence[ReachSpec],
    releases: Sequence[Release],
    inlets: Sequence[InletSeries],
    background: float,
):
    """(reach, offset, mass kg, start s, duration s) for every source, inlets turned into releases."""
    out = []
    for rel in releases:
        if rel.mass_kg is not None:
            mass = rel.mass_kg
            duration = rel.duration_s
        else:  # a continuous rate: the plume's tail comes after the release ends (or never, if it does not)
            duration = rel.duration_s if rel.duration_s > 0 else np.inf
            mass = (rel.mass_rate_kg_s or 0.0) * (duration if np.isfinite(duration) else 86400.0)
        out.append((int(rel.reach), float(rel.offset_m), float(mass), float(rel.start_s), float(duration)))
    for inlet in inlets:
        times = np.asarray(inlet.times_s, dtype=float)
        excess = np.clip(np.asarray(inlet.conc_mg_l, dtype=float) - background, 0.0, None)
        if not np.any(excess > 0):
            continue
        above = np.flatnonzero(excess > 0)
        start = float(times[max(above[0] - 1, 0)])
        end = float(times[min(above[-1] + 1, times.size - 1)])
        if above[-1] == times.size - 1:
            end = np.inf  # still injecting at the last sample: held forever
        q = reaches[int(inlet.reach)].discharge_m3s
        mass = q * float(np.trapezoid(excess, times)) / 1000.0
        out.append((int(inlet.reach), 0.0, mass, start, end - start))
    return out


def horizon_by_need(
    reaches: Sequence[ReachSpec],
    releases: Sequence[Release],
    inlets: Sequence[InletSeries],
    outputs: Sequence[OutputPoint],
    *,
    detection_mg_l: float,
    decay_per_s: float = 0.0,
    background_mg_l: float = 0.0,
    cap_s: float = CAP_S,
) -> tuple[float, bool]:
    """(horizon in seconds, whether the cap cut it short). A point the plume never reaches above the
    detection level, or that is not downstream of any source, does not extend the run."""
    points = [(int(p.reach), float(p.offset_m)) for p in outputs]
    latest = 0.0
    storage = any(r.exchange_rate_per_s > 0 for r in reaches)
    for reach, offset, mass, start, duration in _sources(reaches, releases, inlets, background_mg_l):
        if not np.isfinite(duration):
            return cap_s, True  # a source that never stops: the plume never passes
        latest = max(latest, start + duration)
        if not points or mass <= 0:
            continue
        routes = route(reaches, reach, offset, points)
        m = point_metrics(
            routes,
            mass_kg=mass,
            start_s=start,
            duration_s=duration,
            decay_per_s=decay_per_s,
            detection_mg_l=detection_mg_l,
        )
        ends = m.trailing_edge_s[0]
        if np.any(np.isfinite(ends)):
            latest = max(latest, float(np.nanmax(ends)))
    horizon = latest * (STORAGE_MARGIN if storage else MARGIN) + 3600.0
    horizon = max(horizon, MIN_S)
    return (cap_s, True) if horizon > cap_s else (horizon, False)


def still_above(
    point_conc_mg_l: np.ndarray, detection_mg_l: float, background_mg_l: float = 0.0
) -> np.ndarray:
    """Points whose curve is still at or above the detection level (excess over background) at the end."""
    return np.asarray(point_conc_mg_l)[:, -1] - background_mg_l >= detection_mg_l
