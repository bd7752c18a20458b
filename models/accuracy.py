"""Choose the grid by the accuracy of the numbers a responder acts on, and say how accurate they are.

A grid that meets the stability limits (Péclet, Courant) can still put a plume's edges half an hour off:
the detection-limit crossings lie far down the flanks of the curve, where the scheme's phase error is
largest. So instead of fixing Δx and Δt from limits, `simulate_to_accuracy` runs a sequence of grids and
stops when Richardson's estimate says that, at every output point,

* the peak concentration is within `peak_rel` (1 %) of the converged value,
* the peak time and the first/last crossings of the detection limit and of the standard are within
  max(`time_rel` · travel time, `time_abs_s`) (1 % or 5 minutes),

and returns that estimate with the result. The scheme is second order in Δx and Δt together (both are
refined by the same factor r), so for two grids h and h/r the finer one's error is ≈ |m(h) − m(h/r)|/(r² − 1),
times a safety factor SAFETY = 1.5: on coarse grids the detection-limit edges near a source are not yet in
the asymptotic range, and the bare estimate was up to 1.3× too small on the demo network (a leading edge
6.0 min off a 4× finer grid where 4.7 min was estimated; tests/plume/test_demo_convergence.py). Roache's
grid convergence index uses 1.25 with three grids and 3 with two; 1.5 is what the demo needs, measured.
Courant numbers above 1 are allowed: the first grid takes Cr = `START_COURANT` when the cells are coarse,
and only the accuracy test decides whether that is good enough.

A crossing that one grid sees and the other does not (a peak within `peak_rel` of the level) is
ill-conditioned, not inaccurate: it is reported as marginal rather than refined forever.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.fastplume import curve_metrics
from models.grid import AUTO_MAX_DX_M, AUTO_MIN_CELLS_PER_REACH, AUTO_PECLET, MAX_CELLS
from models.network import ReachSpec, downstream_discharge_m3s
from models.transport import InletSeries, OutputPoint, Release, SimulationResult, simulate

__all__ = ["Tolerance", "AccuracyEstimate", "simulate_to_accuracy", "METRICS"]

METRICS = ("peak_mg_l", "peak_s", "leading_edge_s", "trailing_edge_s", "exceed_start_s", "exceed_end_s")
START_COURANT = 2.0
TARGET = 0.5  # aim refinements at half the tolerance, so one more grid usually suffices
MAX_GRIDS = 6
SAFETY = 1.5  # on the Richardson estimate (module docstring)


@dataclass(frozen=True)
class Tolerance:
    peak_rel: float = 0.01
    time_rel: float = 0.01  # of the travel time from the release to the point
    time_abs_s: float = 300.0  # … or this, whichever is larger


@dataclass(frozen=True)
class AccuracyEstimate:
    """Estimated errors of the returned result per output point (nan where the event does not happen).

    `peak_rel` is relative; the times are in seconds. `fraction` is the worst error ÷ tolerance over
    every point and metric (≤ 1 means every number holds to the tolerance). `grids` lists the (Δx, Δt)
    tried, the last being the result's."""

    peak_rel: np.ndarray
    peak_s: np.ndarray
    leading_edge_s: np.ndarray
    trailing_edge_s: np.ndarray
    exceed_start_s: np.ndarray
    exceed_end_s: np.ndarray
    time_tolerance_s: np.ndarray
    fraction: float
    converged: bool
    marginal: tuple[int, ...]  # points whose standard/detection crossing is ill-conditioned
    grids: tuple[tuple[float, float], ...]
    tolerance: Tolerance

    def worst(self) -> str:
        """One line for a report: the largest estimated errors."""
        peak = np.nanmax(self.peak_rel, initial=0.0)
        times = [getattr(self, n) for n in METRICS[1:]]
        worst_t = max((float(np.nanmax(t, initial=0.0)) for t in times), default=0.0)
        return (
            f"peak ±{100 * peak:.2f} %, times ±{worst_t / 60:.1f} min "
            f"({100 * self.fraction:.0f} % of the tolerance; Δx {self.grids[-1][0]:.0f} m, "
            f"Δt {self.grids[-1][1]:.0f} s)"
        )


def _start_grid(reaches: Sequence[ReachSpec], horizon_s: float) -> tuple[float, float]:
    """A coarse first grid: cells at the Péclet margin (≤ 500 m, ≥ 4 per reach), Cr = START_COURANT."""
    dx = min(
        min(AUTO_PECLET * r.dispersion_m2s / _velocity(r) for r in reaches),
        min(r.length_m / AUTO_MIN_CELLS_PER_REACH for r in reaches),
        AUTO_MAX_DX_M,
    )
    dt = START_COURANT * dx / max(_velocity(r) for r in reaches)
    return dx, min(dt, horizon_s / 20.0)


def _velocity(r: ReachSpec) -> float:
    return max(r.discharge_m3s, downstream_discharge_m3s(r)) / r.area_m2


def _metrics(
    result: SimulationResult,
    background: float,
    detection: float,
    standard: float | None,
    peak_rel: float = Tolerance.peak_rel,
) -> dict[str, np.ndarray]:
    m = curve_metrics(
        result.times_s,
        result.point_conc_mg_l - background,
        detection_mg_l=detection,
        standard_mg_l=standard,
        background_mg_l=background,
        log_interp=True,
    )
    out = {name: getattr(m, name) for name in METRICS}
    # A curve at (or within peak_rel of) its largest value when the run ends has no peak time yet: a
    # plateau under a release that is still going, or a rise. Its largest value so far is still a
    # number the forecast shows, and is compared; its time is not: on a plateau it is wherever
    # rounding puts the largest value, on one grid at the end ("no peak yet") and on the other not,
    # which read as an infinite error and refined the grid to its limit (a 2 mg/L continuous release:
    # 12 s and "peak ±inf %").
    conc = result.point_conc_mg_l
    top = np.max(conc, axis=1, initial=background)
    at_end = (top - background > detection) & (conc[:, -1] >= (1.0 - peak_rel) * top)
    out["peak_mg_l"] = np.where(at_end, top, out["peak_mg_l"])
    out["peak_s"] = np.where(at_end, np.nan, out["peak_s"])
    return out


def _compare(
    coarse: dict[str, np.ndarray],
    fine: dict[str, np.ndarray],
    ratio: float,
    tol_s: np.ndarray,
    tol: Tolerance,
    levels: dict[str, float],
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Estimated errors of `fine` and the points where a crossing is ill-conditioned."""
    factor = SAFETY / (ratio**2 - 1.0)
    errors: dict[str, np.ndarray] = {}
    marginal = np.zeros(tol_s.shape, dtype=bool)
    peak = fine["peak_mg_l"]
    for name in METRICS:
        a, b = coarse[name], fine[name]
        both = np.isfinite(a) & np.isfinite(b)
        err = np.where(both, np.abs(b - a) * factor, np.nan)
        if name == "peak_mg_l":
            err = err / np.where(both, np.abs(b), 1.0)
        one = np.isfinite(a) ^ np.isfinite(b)
        if np.any(one):
            level = levels["standard" if name.startswith("exceed") else "detection"]
            close = (
                np.abs(np.where(np.isfinite(peak), peak, coarse["peak_mg_l"]) - level)
                <= 2 * tol.peak_rel * level
            )
            marginal |= one & close
            err = np.where(one & ~close, np.inf, err)
        errors[name] = err
    return errors, marginal


def simulate_to_accuracy(
    reaches: Sequence[ReachSpec],
    releases: Sequence[Release] = (),
    inlets: Sequence[InletSeries] = (),
    outputs: Sequence[OutputPoint] = (),
    *,
    horizon_s: float,
    detection_mg_l: float,
    standard_mg_l: float | None = None,
    background_mg_l: float = 0.0,
    source_start_s: float | None = None,
    tolerance: Tolerance = Tolerance(),
    max_cells: int = MAX_CELLS // 2,
    **kwargs: Any,
) -> tuple[SimulationResult, AccuracyEstimate]:
    """`models.transport.simulate` on a grid refined until the forecast numbers hold to `tolerance`.

    `detection_mg_l`/`standard_mg_l` are the levels whose crossings matter (the detection level is an
    excess over background, the standard an absolute concentration, as in `curve_metrics`);
    `source_start_s` (default: the earliest release start, else 0) is where travel times start. Other
    keyword arguments go to `simulate` (not `dx_m`/`dt_s`, which this chooses). Stops, with
    `converged=False`, when the next grid would exceed `max_cells` or after `MAX_GRIDS` grids.
    """
    if "dx_m" in kwargs or "dt_s" in kwargs:
        raise ValueError("simulate_to_accuracy chooses dx_m and dt_s itself; call simulate for a fixed grid")
    if source_start_s is None:
        source_start_s = min((r.start_s for r in releases), default=0.0)
    levels = {"detection": detection_mg_l, "standard": standard_mg_l if standard_mg_l is not None else 0.0}
    total_length = sum(r.length_m for r in reaches)

    def run(dx: float, dt: float) -> tuple[SimulationResult, dict[str, np.ndarray]]:
        result = simulate(
            reaches,
            releases,
            inlets,
            outputs,
            horizon_s=horizon_s,
            background_mg_l=background_mg_l,
            dx_m=dx,
            dt_s=dt,
            **kwargs,
        )
        return result, _metrics(result, background_mg_l, detection_mg_l, standard_mg_l, tolerance.peak_rel)

    dx, dt = _start_grid(reaches, horizon_s)
    grids = [(dx, dt)]
    previous, prev_m = run(dx, dt)
    estimate: AccuracyEstimate | None = None
    ratio = 2.0
    while True:
        dx_next, dt_next = dx / ratio, dt / ratio
        if total_length / dx_next > max_cells or len(grids) >= MAX_GRIDS:
            # cannot refine further: estimate from the last pair we have (or report unknown)
            break
        result, m = run(dx_next, dt_next)
        grids.append((dx_next, dt_next))
        travel = np.where(np.isfinite(m["peak_s"]), m["peak_s"] - source_start_s, np.nan)
        tol_s = np.maximum(tolerance.time_rel * np.nan_to_num(travel, nan=0.0), tolerance.time_abs_s)
        errors, marginal = _compare(prev_m, m, ratio, tol_s, tolerance, levels)
        fractions = [errors["peak_mg_l"] / tolerance.peak_rel] + [errors[n] / tol_s for n in METRICS[1:]]
        stacked = np.stack(fractions)
        stacked[:, marginal] = np.where(np.isinf(stacked[:, marginal]), np.nan, stacked[:, marginal])
        fraction = float(np.nanmax(stacked, initial=0.0))
        estimate = AccuracyEstimate(
            peak_rel=errors["peak_mg_l"],
            peak_s=errors["peak_s"],
            leading_edge_s=errors["leading_edge_s"],
            trailing_edge_s=errors["trailing_edge_s"],
            exceed_start_s=errors["exceed_start_s"],
            exceed_end_s=errors["exceed_end_s"],
            time_tolerance_s=tol_s,
            fraction=fraction,
            converged=fraction <= 1.0,
            marginal=tuple(int(i) for i in np.flatnonzero(marginal)),
            grids=tuple(grids),
            tolerance=tolerance,
        )
        if estimate.converged:
            return result, estimate
        # second order: the error falls as r²; aim the next grid at TARGET of the tolerance
        current = fraction if math.isfinite(fraction) else 16.0
        ratio = min(max(math.sqrt(current / TARGET), 1.5), 4.0)
        dx, dt, previous, prev_m = dx_next, dt_next, result, m
    if estimate is None:  # not even one refinement fitted: the error is unknown
        nan = np.full(len(outputs), np.nan)
        estimate = AccuracyEstimate(
            nan, nan, nan, nan, nan, nan, nan, math.inf, False, (), tuple(grids), tolerance
        )
    return previous, estimate
