"""Recalibrate the plume from field results: fit mass, release time, velocity and dispersion factors.

Observations are concentrations at points (`Observation`: time, point index, value, detection limit,
censored flag). The fit minimises, with bounded `scipy.optimize.least_squares` and a robust (soft-L1)
loss, log residuals

    detected:       r = ln((C_model + ε)/(C_obs + ε))
    non-detect:     r = max(0, ln((C_model + ε)/(DL + ε)))   (censored: only a model above the DL costs)

with ε = DL/2 (so a model of 0 against a detection at the DL is a finite, ~1.1, residual). Log residuals
weight every sample by its relative error, as lab uncertainties are relative, and keep the plume's
tails from being ignored. Parameters are ln M, release start (hours), ln fu, ln fd, bounded by
`Bounds` around the prior. The fit starts from the prior and from a small grid of velocity factors
and start times (the cost surface is multi-modal in time: a plume placed a whole passage too early
or late sees only zeros), and keeps the best.

Uncertainty: covariance s²·(JᵀJ)⁻¹ from the Jacobian at the solution, s² the residual variance
(Σr²/(m − n) over the m informative residuals). Intervals are ±1.96 SE on the fitted (log) scale,
i.e. multiplicative for mass and the factors. With m ≤ n the uncertainty is undefined (infinite).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import least_squares

from models.fastplume import Routes, concentration

__all__ = ["Observation", "Prior", "Bounds", "Calibration", "PointFit", "calibrate", "residuals"]

PARAMS = ("mass_kg", "start_s", "velocity_factor", "dispersion_factor")


@dataclass(frozen=True)
class Observation:
    time_s: float  # seconds from the model's t = 0
    point: int  # index into the routes' points
    value_mg_l: float  # measured (ignored when censored)
    detection_limit_mg_l: float
    censored: bool = False  # a non-detect: the true value is below the detection limit


@dataclass(frozen=True)
class Prior:
    mass_kg: float
    start_s: float
    duration_s: float = 0.0
    velocity_factor: float = 1.0
    dispersion_factor: float = 1.0


@dataclass(frozen=True)
class Bounds:
    mass_factor: float = 20.0  # mass within prior ÷/× this
    start_window_s: float = 12 * 3600.0  # release start within prior ± this
    velocity_factor: tuple[float, float] = (0.4, 2.5)
    dispersion_factor: tuple[float, float] = (0.05, 20.0)


@dataclass(frozen=True)
class PointFit:
    point: int
    n: int
    n_censored: int
    mean_residual_ln: float  # > 0: the model is above the samples here
    rms_residual_ln: float


@dataclass(frozen=True)
class Calibration:
    estimates: dict[str, float]  # mass_kg, start_s, velocity_factor, dispersion_factor
    standard_errors: dict[str, float]  # on the natural scale (delta method); inf if undefined
    intervals_95: dict[str, tuple[float, float]]
    prior: dict[str, float]
    duration_s: float
    n_observations: int
    n_detected: int
    n_censored: int
    censored_violations: int  # non-detects where the fitted model is above the detection limit
    rms_log: float  # RMS of the informative log residuals after the fit
    rms_log_prior: float  # the same at the prior
    factor_error: float  # e^rms_log: typical multiplicative misfit
    residuals_ln: np.ndarray  # per observation, after the fit
    residuals_ln_prior: np.ndarray
    model_mg_l: np.ndarray  # fitted model at the observations
    per_point: list[PointFit]
    success: bool
    message: str
    n_starts: int
    warnings: list[str] = field(default_factory=list)


def _arrays(
    observations: Sequence[Observation],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if not observations:
        raise ValueError("no observations to fit; log at least one result with a sample time and point")
    t = np.array([o.time_s for o in observations], dtype=float)
    p = np.array([o.point for o in observations], dtype=np.int64)
    v = np.array([o.value_mg_l if not o.censored else np.nan for o in observations], dtype=float)
    dl = np.array([o.detection_limit_mg_l for o in observations], dtype=float)
    cens = np.array([o.censored for o in observations], dtype=bool)
    for i, o in enumerate(observations):
        if not np.isfinite(o.time_s):
            raise ValueError(f"observation {i}: time must be finite")
        if not np.isfinite(o.detection_limit_mg_l) or o.detection_limit_mg_l <= 0:
            raise ValueError(
                f"observation {i}: detection limit must be > 0 mg/L (got {o.detection_limit_mg_l!r}); "
                "every result used for calibration needs its detection limit"
            )
        if not o.censored and (not np.isfinite(o.value_mg_l) or o.value_mg_l < 0):
            raise ValueError(
                f"observation {i}: value must be a finite number ≥ 0 mg/L (got {o.value_mg_l!r})"
            )
    return t, p, v, dl, cens


def residuals(
    model_mg_l: np.ndarray, value_mg_l: np.ndarray, dl_mg_l: np.ndarray, censored: np.ndarray
) -> np.ndarray:
    """The log residuals defined in the module docstring (works on (members, n) arrays too)."""
    eps = 0.5 * dl_mg_l
    detected = np.log((model_mg_l + eps) / (np.where(censored, 1.0, value_mg_l) + eps))
    cens = np.maximum(0.0, np.log((model_mg_l + eps) / (dl_mg_l + eps)))
    return np.where(censored, cens, detected)


def _to_x(mass: float, start: float, fu: float, fd: float) -> np.ndarray:
    return np.array([np.log(mass), start / 3600.0, np.log(fu), np.log(fd)])


def _from_x(x: np.ndarray) -> tuple[float, float, float, float]:
    return float(np.exp(x[0])), float(x[1] * 3600.0), float(np.exp(x[2])), float(np.exp(x[3]))


def calibrate(
    routes: Routes,
    observations: Sequence[Observation],
    prior: Prior,
    *,
    decay_per_s: float = 0.0,
    background_mg_l: float = 0.0,
    bounds: Bounds = Bounds(),
    fit: Sequence[str] = PARAMS,
    multistart: bool = True,
) -> Calibration:
    """Fit the parameters named in `fit` (a subset of mass_kg, start_s, velocity_factor,
    dispersion_factor; the rest stay at the prior) to `observations`. Values are total concentrations;
    `background_mg_l` is subtracted from detected values (floored at 0)."""
    unknown = set(fit) - set(PARAMS)
    if unknown:
        raise ValueError(f"cannot fit {sorted(unknown)}; choose from {PARAMS}")
    t, p, v, dl, cens = _arrays(observations)
    if np.any(p < 0) or np.any(p >= routes.n_points):
        raise ValueError(f"observation point index out of range 0..{routes.n_points - 1}")
    v_excess = np.where(cens, v, np.maximum(v - background_mg_l, 0.0))
    free = np.array([name in fit for name in PARAMS])
    x_prior = _to_x(prior.mass_kg, prior.start_s, prior.velocity_factor, prior.dispersion_factor)
    lo = np.array(
        [
            x_prior[0] - np.log(bounds.mass_factor),
            x_prior[1] - bounds.start_window_s / 3600.0,
            np.log(bounds.velocity_factor[0]),
            np.log(bounds.dispersion_factor[0]),
        ]
    )
    hi = np.array(
        [
            x_prior[0] + np.log(bounds.mass_factor),
            x_prior[1] + bounds.start_window_s / 3600.0,
            np.log(bounds.velocity_factor[1]),
            np.log(bounds.dispersion_factor[1]),
        ]
    )
    x_prior = np.clip(x_prior, lo, hi)

    def model(xs: np.ndarray) -> np.ndarray:
        """xs: (members, 4) full parameter vectors → (members, n) model values."""
        return concentration(
            routes,
            t,
            mass_kg=np.exp(xs[:, 0]),
            start_s=xs[:, 1] * 3600.0,
            duration_s=prior.duration_s,
            velocity_factor=np.exp(xs[:, 2]),
            dispersion_factor=np.exp(xs[:, 3]),
            decay_per_s=decay_per_s,
            point_index=p,
        )

    def full(z: np.ndarray) -> np.ndarray:
        x = x_prior.copy()
        x[free] = z
        return x

    def fun(z: np.ndarray) -> np.ndarray:
        return residuals(model(full(z)[None, :])[0], v_excess, dl, cens)

    # starting points: the prior and a grid of velocity factors × start shifts, mass re-estimated
    starts = [x_prior.copy()]
    if multistart:
        grid = []
        fus = (0.6, 0.8, 1.0, 1.25, 1.6) if free[2] else (np.exp(x_prior[2]),)
        shifts = (-3.0, -1.0, 0.0, 1.0, 3.0) if free[1] else (0.0,)
        for fu in fus:
            for dh in shifts:
                x = x_prior.copy()
                x[2] = np.log(fu)
                x[1] = x_prior[1] + dh
                grid.append(np.clip(x, lo, hi))
        xs = np.array(grid)
        if free[0]:  # best mass for each start: mean log ratio over the detections
            unit = xs.copy()
            unit[:, 0] = 0.0
            m1 = model(unit)  # per kg
            det = ~cens & (v_excess > 0)
            if det.any():
                ratio = np.log(np.maximum(v_excess[det], 1e-300)) - np.log(np.maximum(m1[:, det], 1e-300))
                xs[:, 0] = np.clip(np.median(ratio, axis=1), lo[0], hi[0])
        cost = np.sum(residuals(model(xs), v_excess, dl, cens) ** 2, axis=1)
        order = np.argsort(cost)
        starts += [xs[i] for i in order[:3]]
    best = None
    for x0 in starts:
        res = least_squares(
            fun,
            x0[free],
            bounds=(lo[free], hi[free]),
            loss="soft_l1",
            f_scale=0.3,
            x_scale=np.array([1.0, 1.0, 0.2, 1.0])[free],
            method="trf",
        )
        if best is None or res.cost < best.cost:
            best = res
    assert best is not None
    x_hat = full(best.x)
    r_fit = fun(best.x)
    r_prior = residuals(model(x_prior[None, :])[0], v_excess, dl, cens)
    model_fit = model(x_hat[None, :])[0]

    informative = ~cens | (r_fit > 0)
    m, n = int(informative.sum()), int(free.sum())
    warnings: list[str] = []
    se_x = np.full(4, np.inf)
    if m > n:
        s2 = float(np.sum(r_fit[informative] ** 2) / (m - n))
        jac = np.asarray(best.jac)
        cov = s2 * np.linalg.pinv(jac.T @ jac)
        se_x[free] = np.sqrt(np.maximum(np.diag(cov), 0.0))
    else:
        warnings.append(
            f"only {m} informative observation(s) for {n} parameters: the uncertainty is undefined; "
            "log more results (detections at 2+ points) before trusting the fit"
        )
    at_bound = [
        PARAMS[i] for i in np.flatnonzero(free) if np.isclose(x_hat[i], lo[i]) or np.isclose(x_hat[i], hi[i])
    ]
    if at_bound:
        warnings.append(f"the fit stopped at a bound for {', '.join(at_bound)}; the data do not pin it down")
    if not (~cens).any():
        warnings.append("every observation is a non-detect: the fit only says where the plume is not")

    mass, start, fu, fd = _from_x(x_hat)
    est = {"mass_kg": mass, "start_s": start, "velocity_factor": fu, "dispersion_factor": fd}
    # natural-scale SEs (delta method) and 95 % intervals on the fitted scale
    se = {
        "mass_kg": mass * se_x[0],
        "start_s": 3600.0 * se_x[1],
        "velocity_factor": fu * se_x[2],
        "dispersion_factor": fd * se_x[3],
    }
    ci = {
        "mass_kg": (float(np.exp(x_hat[0] - 1.96 * se_x[0])), float(np.exp(x_hat[0] + 1.96 * se_x[0]))),
        "start_s": (start - 1.96 * se["start_s"], start + 1.96 * se["start_s"]),
        "velocity_factor": (
            float(np.exp(x_hat[2] - 1.96 * se_x[2])),
            float(np.exp(x_hat[2] + 1.96 * se_x[2])),
        ),
        "dispersion_factor": (
            float(np.exp(x_hat[3] - 1.96 * se_x[3])),
            float(np.exp(x_hat[3] + 1.96 * se_x[3])),
        ),
    }
    for i, name in enumerate(PARAMS):
        if not free[i]:
            se[name] = 0.0
            ci[name] = (est[name], est[name])
    per_point = []
    for point in np.unique(p):
        sel = p == point
        rr = r_fit[sel]
        per_point.append(
            PointFit(
                point=int(point),
                n=int(sel.sum()),
                n_censored=int(cens[sel].sum()),
                mean_residual_ln=float(rr.mean()),
                rms_residual_ln=float(np.sqrt(np.mean(rr**2))),
            )
        )
    info_prior = ~cens | (r_prior > 0)
    rms = float(np.sqrt(np.mean(r_fit[informative] ** 2))) if m else 0.0
    rms_prior = float(np.sqrt(np.mean(r_prior[info_prior] ** 2))) if info_prior.any() else 0.0
    return Calibration(
        estimates=est,
        standard_errors={k: float(v) for k, v in se.items()},
        intervals_95={k: (float(a), float(b)) for k, (a, b) in ci.items()},
        prior={
            "mass_kg": prior.mass_kg,
            "start_s": prior.start_s,
            "velocity_factor": prior.velocity_factor,
            "dispersion_factor": prior.dispersion_factor,
        },
        duration_s=prior.duration_s,
        n_observations=int(t.size),
        n_detected=int((~cens).sum()),
        n_censored=int(cens.sum()),
        censored_violations=int(np.sum(cens & (model_fit > dl))),
        rms_log=rms,
        rms_log_prior=rms_prior,
        factor_error=float(np.exp(rms)),
        residuals_ln=r_fit,
        residuals_ln_prior=r_prior,
        model_mg_l=model_fit + background_mg_l,
        per_point=per_point,
        success=bool(best.success),
        message=str(best.message),
        n_starts=len(starts),
        warnings=warnings,
    )
