"""Unknown source: find where and when a spill entered the river from detections and non-detects.

Candidates are positions every `spacing_m` along every reach from which every station that detected
the substance lies downstream (a single source must be upstream of all its detections). For each
candidate the release start and mass are fitted to the observations with the fast plume model at the
network's velocities and dispersion (the same log residuals as `models.calibrate`, non-detects
censored): first a vectorised scan over start times with the best mass in closed form, then a bounded
least-squares refinement of the best candidates. Non-detects upstream of the true source cost
nothing; non-detects at stations a candidate's plume would have passed while sampling rule it out.

The ranking uses the fitted cost; `weight` is a relative likelihood exp(−Δcost/s²)
(s² the residual variance of the best candidate, floored at 0.2² for the fast model's own error), normalised over candidates, so
weights summed over a reach say how strongly the data favour that reach.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from models.calibrate import Observation, residuals
from models.fastplume import Routes, concentration, route
from models.network import ReachSpec

__all__ = ["Candidate", "TraceResult", "trace_source"]


@dataclass(frozen=True)
class Candidate:
    reach: int
    offset_m: float
    start_s: float
    mass_kg: float
    cost: float  # Σ r² over the observations (log residuals)
    rms_log: float
    weight: float  # relative likelihood, normalised over all candidates


@dataclass(frozen=True)
class TraceResult:
    candidates: list[Candidate]  # best first
    reach_weights: dict[int, float]  # summed candidate weight per reach, for a ranked list of reaches
    n_positions: int
    warnings: list[str]

    def best_per_reach(self) -> list[Candidate]:
        seen: set[int] = set()
        out = []
        for c in self.candidates:
            if c.reach not in seen:
                seen.add(c.reach)
                out.append(c)
        return out


def _positions(reaches: Sequence[ReachSpec], spacing_m: float) -> list[tuple[int, float]]:
    out = []
    for i, r in enumerate(reaches):
        n = max(1, int(np.ceil(r.length_m / spacing_m)))
        for k in range(n):
            out.append((i, (k + 0.5) * r.length_m / n))
    return out


def trace_source(
    reaches: Sequence[ReachSpec],
    stations: Sequence[tuple[int, float]],
    observations: Sequence[Observation],
    *,
    spacing_m: float = 1000.0,
    duration_s: float = 0.0,
    decay_per_s: float = 0.0,
    background_mg_l: float = 0.0,
    lookback_s: float = 72 * 3600.0,
    scan_step_s: float = 900.0,
    refine: int = 12,
    top: int = 20,
) -> TraceResult:
    """Rank candidate source positions (reach, offset) and release times for the observations.

    `stations` are (reach index, offset m); `Observation.point` indexes them. Release starts are
    searched from `lookback_s` before the first detection up to it.
    """
    if not observations:
        raise ValueError("no observations: give detections (and non-detects) at stations")
    if spacing_m <= 0:
        raise ValueError("spacing_m must be > 0")
    t = np.array([o.time_s for o in observations], dtype=float)
    p = np.array([o.point for o in observations], dtype=np.int64)
    if np.any(p < 0) or np.any(p >= len(stations)):
        raise ValueError(f"observation station index out of range 0..{len(stations) - 1}")
    cens = np.array([o.censored for o in observations], dtype=bool)
    dl = np.array([o.detection_limit_mg_l for o in observations], dtype=float)
    if np.any(~np.isfinite(dl)) or np.any(dl <= 0):
        raise ValueError("every observation needs a detection limit > 0 mg/L")
    v = np.array([np.nan if o.censored else max(o.value_mg_l - background_mg_l, 0.0) for o in observations])
    detected = ~cens & (np.nan_to_num(v) > 0)
    if not detected.any():
        raise ValueError("no detections: a source cannot be traced from non-detects alone")
    detecting = sorted(set(p[detected].tolist()))
    first_detection = float(t[detected].min())

    positions = []
    routes_list = []
    for pos in _positions(reaches, spacing_m):
        routes = route(reaches, pos[0], pos[1], stations)
        if all(routes.reachable[s] for s in detecting):
            positions.append(pos)
            routes_list.append(routes)
    warnings: list[str] = []
    if not positions:
        raise ValueError(
            "no position on the network lies upstream of every detecting station; check the station "
            "locations (detections on two separate branches cannot come from one source)"
        )
    if any(r.has_storage for r in routes_list):
        warnings.append("transient storage is ignored by the fast model used for tracing")

    starts = np.arange(first_detection - lookback_s, first_detection + 1e-9, scan_step_s)
    n_s = starts.size
    logv = np.log(np.where(detected, v, 1.0))
    scan = []  # (cost, start, ln mass) per position
    for routes in routes_list:
        unit = concentration(
            routes,
            t,
            mass_kg=1.0,
            start_s=starts,
            duration_s=duration_s,
            decay_per_s=decay_per_s,
            point_index=p,
        )  # (n_s, n_obs) per kg
        logu = np.log(np.maximum(unit, 1e-300))
        usable = np.asarray(unit[:, detected] > 1e-200)
        # best ln M per start: median log ratio over detections the plume reaches
        ratio = np.where(usable, logv[detected][None, :] - logu[:, detected], np.nan)
        with np.errstate(all="ignore"):
            lnm = np.nanmedian(np.where(np.asarray(usable.any(axis=1))[:, None], ratio, 0.0), axis=1)
        lnm = np.nan_to_num(lnm, nan=0.0)
        model = unit * np.exp(lnm)[:, None]
        r = residuals(model, np.where(detected, v, 0.0), dl, cens)
        cost = np.sum(r**2, axis=1)
        k = int(np.argmin(cost))
        scan.append((float(cost[k]), float(starts[k]), float(lnm[k])))
    del n_s

    costs = np.array([c for c, _, _ in scan])
    order = np.argsort(costs)
    refined: dict[int, tuple[float, float, float]] = {}
    for i in order[: max(1, int(refine))]:
        routes = routes_list[i]
        _, s0, lnm0 = scan[i]

        def fun(z: np.ndarray, routes: Routes = routes) -> np.ndarray:
            model = concentration(
                routes,
                t,
                mass_kg=np.exp(z[0]),
                start_s=z[1] * 3600.0,
                duration_s=duration_s,
                decay_per_s=decay_per_s,
                point_index=p,
            )[0]
            return residuals(model, np.where(detected, v, 0.0), dl, cens)

        lo = np.array([lnm0 - 5.0, (first_detection - lookback_s) / 3600.0 - 1.0])
        hi = np.array([lnm0 + 5.0, first_detection / 3600.0])
        z0 = np.clip(np.array([lnm0, s0 / 3600.0]), lo + 1e-9, hi - 1e-9)
        res = least_squares(fun, z0, bounds=(lo, hi), method="trf")
        refined[int(i)] = (float(2.0 * res.cost), float(res.x[1] * 3600.0), float(res.x[0]))
    final = [refined.get(i, scan[i]) for i in range(len(scan))]
    final_costs = np.array([c for c, _, _ in final])
    best = int(np.argmin(final_costs))
    n_obs = t.size
    s2 = max(final_costs[best] / max(n_obs - 2, 1), 0.2**2)
    w = np.exp(-(final_costs - final_costs[best]) / s2)
    w /= w.sum()
    candidates = [
        Candidate(
            reach=positions[i][0],
            offset_m=positions[i][1],
            start_s=final[i][1],
            mass_kg=float(np.exp(final[i][2])),
            cost=float(final_costs[i]),
            rms_log=float(np.sqrt(final_costs[i] / n_obs)),
            weight=float(w[i]),
        )
        for i in range(len(positions))
    ]
    candidates.sort(key=lambda c: c.cost)
    reach_weights: dict[int, float] = {}
    for c in candidates:
        reach_weights[c.reach] = reach_weights.get(c.reach, 0.0) + c.weight
    if len(detecting) < 2:
        warnings.append(
            "detections at only one station: position and time trade off along the river; "
            "the ranking rests on the plume's spread and on non-detects"
        )
    return TraceResult(
        candidates=candidates[: max(1, int(top))] if top else candidates,
        reach_weights=dict(sorted(reach_weights.items(), key=lambda kv: -kv[1])),
        n_positions=len(positions),
        warnings=warnings,
    )
