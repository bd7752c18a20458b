"""Ensemble forecasts: sample the uncertain inputs, run the fast plume model, report P10/P50/P90.

Uncertain inputs and their assumed distributions (`EnsembleInputs`; every member draws each input
independently from a seeded `numpy.random.Generator`, so a seed repeats a run exactly):

* velocity factor — log-normal, median 1, σ_ln = `velocity_sigma_ln`. Multiplies every reach velocity
  at fixed discharge. The default, 0.18, is Jobson's (1996, USGS WRIR 96-4013) published error read off
  his envelope: the maximum probable velocity Vmp lies above most of the >980 measured subreach
  velocities (confirmed); that "most" is ~99 % is recalled, not confirmed by a stored copy (models.jobson
  says what was checked). Read as a P99, σ_ln = ln(Vmp/Vp)/2.326, which is 0.18 at his worked example (Vp 1.01 m/s;
  `models.jobson.velocity_sigma_ln`, larger in slow rivers). The application passes the figure at the
  river's own route velocity. A velocity measured at a gauge is better (a few per cent); pass its error.
* dispersion — log-normal per reach, with `low`/`high` read as its P5 and P95 (`DISPERSION_PRIORS`):
  for the default estimator these are its band, built from its cross-validated errors on field tracer
  data (models.dispersion: ÷3.05…×3.05, 90 % coverage leaving one river out), so the prior's spread is the measured one. ONE
  quantile u per member is used on every reach: an estimator's error is systematic along a river, not
  independent reach by reach. The older "log_uniform" reading (D = low^(1−u)·high^u, e.g. between the
  smallest and largest of four formulas) stays selectable.
* spill mass — log-uniform between `mass_low_factor` and `mass_high_factor` times the reported mass
  (default ½× to 2×: first reports of spilled mass are often off by a factor of two).
* release start — normal around the reported start, σ = `start_sd_s` (default 20 min).
* release duration — log-uniform between ½× and 2× the reported duration; uniform on [0, 30 min] when
  the report says "instantaneous".

Decay, discharge and the network geometry are taken as known. Transient storage is ignored by the
fast model (a warning is returned; see `models.fastplume`).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtri

from models.fastplume import STORAGE_WARNING, CurveMetrics, Routes, concentration, point_metrics, route
from models.network import ReachSpec

__all__ = [
    "EnsembleInputs",
    "sample_inputs",
    "dispersion_for_quantile",
    "Band",
    "EnsembleResult",
    "run_ensemble",
    "quantiles",
    "PERCENTILES",
    "DISPERSION_PRIORS",
    "JOBSON_VELOCITY_SIGMA_LN",
]

PERCENTILES = (10.0, 50.0, 90.0)
DISPERSION_PRIORS = ("log_normal", "log_uniform")
BAND_Z = 1.6448536269514722  # z of the normal P95: low/high are the P5/P95 of the log-normal prior
JOBSON_VELOCITY_SIGMA_LN = 0.18  # models.jobson.velocity_sigma_ln at Jobson's worked example (1.01 m/s)


@dataclass(frozen=True)
class EnsembleInputs:
    """Reported values and their uncertainty (see the module docstring for the distributions)."""

    mass_kg: float
    start_s: float = 0.0  # reported release start, seconds from the model's t = 0
    duration_s: float = 0.0
    mass_low_factor: float = 0.5
    mass_high_factor: float = 2.0
    start_sd_s: float = 1200.0
    duration_low_factor: float = 0.5
    duration_high_factor: float = 2.0
    instantaneous_max_s: float = 1800.0  # duration range when the reported duration is 0
    velocity_sigma_ln: float = JOBSON_VELOCITY_SIGMA_LN

    def check(self) -> None:
        problems = []
        if not np.isfinite(self.mass_kg) or self.mass_kg <= 0:
            problems.append(f"mass_kg must be > 0 (got {self.mass_kg!r})")
        if not 0 < self.mass_low_factor <= 1 <= self.mass_high_factor:
            problems.append("mass factors must satisfy 0 < low ≤ 1 ≤ high")
        if not 0 < self.duration_low_factor <= 1 <= self.duration_high_factor:
            problems.append("duration factors must satisfy 0 < low ≤ 1 ≤ high")
        for name in ("start_sd_s", "duration_s", "instantaneous_max_s", "velocity_sigma_ln"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                problems.append(f"{name} must be a finite number ≥ 0 (got {value!r})")
        if not np.isfinite(self.start_s):
            problems.append(f"start_s must be finite (got {self.start_s!r})")
        if problems:
            raise ValueError("; ".join(problems))


def _log_uniform(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
    if high <= low:
        return np.full(n, low)
    return np.exp(rng.uniform(np.log(low), np.log(high), n))


def sample_inputs(inputs: EnsembleInputs, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw `n` members: mass_kg, start_s, duration_s, velocity_factor, dispersion_quantile (each (n,))."""
    inputs.check()
    if n < 1:
        raise ValueError(f"the ensemble needs at least 1 member (got {n})")
    mass = inputs.mass_kg * _log_uniform(rng, inputs.mass_low_factor, inputs.mass_high_factor, n)
    start = inputs.start_s + inputs.start_sd_s * rng.standard_normal(n)
    if inputs.duration_s > 0:
        duration = inputs.duration_s * _log_uniform(
            rng, inputs.duration_low_factor, inputs.duration_high_factor, n
        )
    else:
        duration = rng.uniform(0.0, inputs.instantaneous_max_s, n)
    velocity = np.exp(inputs.velocity_sigma_ln * rng.standard_normal(n))
    quantile = rng.uniform(0.0, 1.0, n)
    return {
        "mass_kg": mass,
        "start_s": start,
        "duration_s": duration,
        "velocity_factor": velocity,
        "dispersion_quantile": quantile,
    }


def dispersion_for_quantile(
    low_m2s: ArrayLike, high_m2s: ArrayLike, quantile: ArrayLike, prior: str = "log_normal"
) -> np.ndarray:
    """Per-member, per-reach D, shape (members, reaches), from one quantile u per member:
    "log_normal": ln D = mid + Φ⁻¹(u)·half/z₀.₉₅ (low/high its P5/P95); "log_uniform": low^(1−u)·high^u."""
    if prior not in DISPERSION_PRIORS:
        raise ValueError(f"unknown dispersion prior {prior!r}; use one of {', '.join(DISPERSION_PRIORS)}")
    low = np.asarray(low_m2s, dtype=float)
    high = np.asarray(high_m2s, dtype=float)
    if low.shape != high.shape or low.ndim != 1:
        raise ValueError("dispersion low/high must be 1-D arrays over reaches of the same length")
    if np.any(low <= 0) or np.any(high < low):
        raise ValueError("dispersion bounds must satisfy 0 < low ≤ high for every reach")
    u = np.atleast_1d(np.asarray(quantile, dtype=float))[:, None]
    if prior == "log_uniform":
        return np.exp((1.0 - u) * np.log(low)[None, :] + u * np.log(high)[None, :])
    z = ndtri(np.clip(u, 1e-12, 1.0 - 1e-12))
    mid = 0.5 * (np.log(low) + np.log(high))[None, :]
    half = 0.5 * (np.log(high) - np.log(low))[None, :]
    return np.exp(mid + z * half / BAND_Z)


def quantiles(values: np.ndarray, percentiles: Sequence[float] = PERCENTILES) -> np.ndarray:
    """Percentiles over axis 0 with linear interpolation, where nan counts as +∞ (never happened).

    Returns (len(percentiles), *values.shape[1:]); a percentile that falls among the +∞ is +∞.
    """
    x = np.where(np.isnan(values), np.inf, values)
    x = np.sort(x, axis=0)
    n = x.shape[0]
    out = []
    for p in percentiles:
        pos = (n - 1) * p / 100.0
        lo, hi = int(np.floor(pos)), int(np.ceil(pos))
        frac = pos - lo
        a, b = x[lo], x[hi]
        with np.errstate(invalid="ignore"):
            val = np.where(np.isinf(b) | np.isinf(a), np.where(frac > 0, b, a), a + frac * (b - a))
        out.append(val)
    return np.stack(out)


@dataclass(frozen=True)
class Band:
    """P10/P50/P90 per point; +∞ means "not within the horizon" for that share of members."""

    p10: np.ndarray
    p50: np.ndarray
    p90: np.ndarray

    def at(self, i: int) -> tuple[float, float, float]:
        return float(self.p10[i]), float(self.p50[i]), float(self.p90[i])


@dataclass(frozen=True)
class EnsembleResult:
    n_members: int
    seed: int | None
    samples: dict[str, np.ndarray]  # member inputs
    metrics: CurveMetrics  # (members, points), seconds from t = 0
    leading_edge_s: Band
    peak_s: Band
    peak_mg_l: Band  # members never reaching the detection threshold count as 0
    exceed_start_s: Band  # over the members that exceed the standard (nan if none does)
    exceed_end_s: Band  # the same members; +∞ = still above the standard at the horizon
    exceed_duration_s: Band  # time above the standard within the horizon (0 if never)
    reach_probability: np.ndarray  # (P,) share of members detected at the point within the horizon
    exceed_probability: np.ndarray  # (P,) share of members above the standard within the horizon
    curve_times_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    curve_bands_mg_l: np.ndarray = field(default_factory=lambda: np.zeros((3, 0, 0)))  # (3, P, T)
    warnings: tuple[str, ...] = ()


def _band(values: np.ndarray) -> Band:
    q = quantiles(values)
    return Band(q[0], q[1], q[2])


def _conditional_band(values: np.ndarray, where: np.ndarray) -> Band:
    """Band per point over the members where `where` holds (nan for a point where none does)."""
    q = np.full((3, values.shape[1]), np.nan)
    for j in range(values.shape[1]):
        if where[:, j].any():
            q[:, j] = quantiles(values[where[:, j], j])
    return Band(q[0], q[1], q[2])


def run_ensemble(
    reaches: Sequence[ReachSpec],
    source_reach: int,
    source_offset_m: float,
    points: Sequence[tuple[int, float]],
    inputs: EnsembleInputs,
    *,
    horizon_s: float,
    detection_mg_l: float,
    standard_mg_l: float | None = None,
    background_mg_l: float = 0.0,
    decay_per_s: float = 0.0,
    dispersion_low_m2s: ArrayLike | None = None,
    dispersion_high_m2s: ArrayLike | None = None,
    dispersion_prior: str = "log_normal",
    n_members: int = 1000,
    seed: int | None = 0,
    curve_times_s: ArrayLike | None = None,
    curve_members: int = 200,
    chunk: int = 250,
    threads: int = 2,
    routes: Routes | None = None,
) -> EnsembleResult:
    """Run `n_members` fast-model members and summarise them per point.

    `dispersion_low_m2s`/`dispersion_high_m2s` are per reach the P5/P95 of D (the estimator's band) for
    the "log_normal" `dispersion_prior`, or the range of a "log_uniform" one; without them each reach's D
    is taken ÷3 to ×3. With `curve_times_s`, P10/P50/P90 concentration curves are computed from the first
    `curve_members` members (for plots). `seed=None` draws fresh entropy (not repeatable). Members
    are evaluated in blocks of `chunk` on up to `threads` threads (results do not depend on either).
    """
    if not np.isfinite(horizon_s) or horizon_s <= 0:
        raise ValueError(f"horizon_s must be > 0 (got {horizon_s!r})")
    rng = np.random.default_rng(seed)
    samples = sample_inputs(inputs, int(n_members), rng)
    routes = routes or route(reaches, source_reach, source_offset_m, points)
    base = np.array([r.dispersion_m2s for r in reaches], dtype=float)
    low = base / 3.0 if dispersion_low_m2s is None else np.asarray(dispersion_low_m2s, dtype=float)
    high = base * 3.0 if dispersion_high_m2s is None else np.asarray(dispersion_high_m2s, dtype=float)
    if np.any(low <= 0):
        raise ValueError("every reach needs a dispersion coefficient > 0 for the ensemble")
    if dispersion_prior not in DISPERSION_PRIORS:
        raise ValueError(
            f"unknown dispersion prior {dispersion_prior!r}; use one of {', '.join(DISPERSION_PRIORS)}"
        )

    def block(begin: int) -> CurveMetrics:
        sl = slice(begin, begin + chunk)
        return point_metrics(
            routes,
            mass_kg=samples["mass_kg"][sl],
            start_s=samples["start_s"][sl],
            duration_s=samples["duration_s"][sl],
            velocity_factor=samples["velocity_factor"][sl],
            dispersion_m2s=dispersion_for_quantile(
                low, high, samples["dispersion_quantile"][sl], dispersion_prior
            ),
            decay_per_s=decay_per_s,
            detection_mg_l=detection_mg_l,
            standard_mg_l=standard_mg_l,
            background_mg_l=background_mg_l,
            horizon_s=horizon_s,
        )

    chunk = max(1, int(chunk))
    begins = list(range(0, int(n_members), chunk))
    if threads > 1 and len(begins) > 1:
        # numpy/scipy ufuncs release the GIL on large arrays, so blocks run in parallel
        with ThreadPoolExecutor(max_workers=threads) as pool:
            parts = list(pool.map(block, begins))
    else:
        parts = [block(b) for b in begins]
    metrics = CurveMetrics(
        **{
            name: np.concatenate([getattr(p, name) for p in parts])
            for name in CurveMetrics.__dataclass_fields__
        }
    )
    detected = np.isfinite(metrics.leading_edge_s)
    exceeded = np.isfinite(metrics.exceed_start_s)
    peak = np.where(detected, metrics.peak_mg_l, background_mg_l)
    end_or_h = np.where(np.isfinite(metrics.exceed_end_s), metrics.exceed_end_s, horizon_s)
    duration = np.where(exceeded, end_or_h - metrics.exceed_start_s, 0.0)
    warnings: list[str] = []
    if routes.has_storage:
        warnings.append(STORAGE_WARNING)
    unreachable = [i for i in range(routes.n_points) if not routes.reachable[i]]
    if unreachable:
        warnings.append(
            f"{len(unreachable)} point(s) are not downstream of the source; their bands are empty"
        )

    times = np.zeros(0)
    curve_bands = np.zeros((3, routes.n_points, 0))
    if curve_times_s is not None:
        times = np.asarray(curve_times_s, dtype=float)
        k = min(int(curve_members), int(n_members))
        conc = concentration(
            routes,
            times,
            mass_kg=samples["mass_kg"][:k],
            start_s=samples["start_s"][:k],
            duration_s=samples["duration_s"][:k],
            velocity_factor=samples["velocity_factor"][:k],
            dispersion_m2s=dispersion_for_quantile(
                low, high, samples["dispersion_quantile"][:k], dispersion_prior
            ),
            decay_per_s=decay_per_s,
        )
        curve_bands = np.percentile(conc, PERCENTILES, axis=0) + background_mg_l
    return EnsembleResult(
        n_members=int(n_members),
        seed=seed,
        samples=samples,
        metrics=metrics,
        leading_edge_s=_band(metrics.leading_edge_s),
        peak_s=_band(metrics.peak_s),
        peak_mg_l=_band(peak),
        exceed_start_s=_conditional_band(metrics.exceed_start_s, exceeded),
        exceed_end_s=_conditional_band(metrics.exceed_end_s, exceeded),
        exceed_duration_s=_band(duration),
        reach_probability=detected.mean(axis=0),
        exceed_probability=exceeded.mean(axis=0),
        curve_times_s=times,
        curve_bands_mg_l=curve_bands,
        warnings=tuple(warnings),
    )
