"""Longitudinal dispersion: the published formulas, a refitted candidate, the default, and an honest band
from the default's measured errors.

The default is Disley et al. (2015), with its Froude term: on the field tracer data shipped in
incident/data/dispersion/ it is the best of the published formulas (64 % of measurements within ×2 against
56 % for Seo & Cheong, the old default; `python bench/bench_dispersion.py`). A refitted candidate,
"recalibrated_disley", keeps Disley's form,

    log10(K/(H·u*)) = a + b·log10(W/H) + c·log10(U/u*) + d·log10(Fr),   Fr = U/√(gH),

and refits a..d with a Huber loss and a ridge pull towards Disley's coefficients, the ridge weight chosen
by leave-one-out. In *nested* leave-one-out (refitted, weight chosen, inside every fold) it does not beat
Disley on the 36 measurements we could ship (64 % within ×2 for both; RMSE of log10 0.37 against 0.35),
so it is not the default; it stays selectable, and the bench re-scores it whenever verified rows are
added to the data. `bench/bench_dispersion.py --fit` regenerates the constants below.

The band is the P5–P95 of log10(measured/Disley) over the field data (Disley has no constant fitted
here, so these are out-of-sample errors): K·10^BAND_LOG10[0] … K·10^BAND_LOG10[1]. Measured honestly
(leave-one-out percentiles) it holds 83 % of the measurements, short of the 90 % asked for.
All functions broadcast over numpy arrays.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from models.hydraulics import GRAVITY_MS2, deng, fischer, kashefipour_falconer, seo_cheong

__all__ = [
    "disley",
    "FORMULAS",
    "DEFAULT_METHOD",
    "estimate",
    "band",
    "fit_loglinear",
    "design",
    "DISLEY_COEFFICIENTS",
    "RECALIBRATED_COEFFICIENTS",
    "BAND_LOG10",
]

DISLEY_COEFFICIENTS = np.array([np.log10(3.563), 0.6776, 1.0132, -0.4117])  # a = log10(3.563), b, c, d
# Fitted by `python bench/bench_dispersion.py --fit` on incident/data/dispersion/us_rivers_tracer.csv.
RECALIBRATED_COEFFICIENTS = np.array([-0.0511, 0.6552, 1.1126, -1.0896])
RECALIBRATED_RIDGE = 0.1  # chosen by leave-one-out among RIDGE_GRID
BAND_LOG10 = (-0.6730, 0.4434)  # P5, P95 of log10(measured/Disley) on the field data
RIDGE_GRID = (0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0)
HUBER_LOG10 = 0.2  # residuals beyond ×1.6 count linearly, not squared
DEFAULT_METHOD = "disley"


def _arr(value: ArrayLike) -> np.ndarray:
    return np.asarray(value, dtype=float)


def disley(
    width_m: ArrayLike, depth_m: ArrayLike, velocity_ms: ArrayLike, shear_velocity_ms: ArrayLike
) -> np.ndarray:
    """K = 3.563·Fr^−0.4117·(W/H)^0.6776·(U/u*)^1.0132·H·u*, Fr = U/√(gH).

    Disley, T., Gharabaghi, B., Mahboubi, A.A. and McBean, E.A. (2015). Predictive equation for
    longitudinal dispersion coefficient. Hydrological Processes 29(2), 161–172.
    """
    return _loglinear(DISLEY_COEFFICIENTS, width_m, depth_m, velocity_ms, shear_velocity_ms)


def design(
    width_m: ArrayLike, depth_m: ArrayLike, velocity_ms: ArrayLike, shear_velocity_ms: ArrayLike
) -> np.ndarray:
    """Columns [1, log10(W/H), log10(U/u*), log10(Fr)] of the log-linear form (shape (..., 4))."""
    w, h, u, us = (_arr(v) for v in (width_m, depth_m, velocity_ms, shear_velocity_ms))
    froude = u / np.sqrt(GRAVITY_MS2 * h)
    return np.stack(
        np.broadcast_arrays(np.ones_like(w * h), np.log10(w / h), np.log10(u / us), np.log10(froude)), axis=-1
    )


def _loglinear(
    coef: ArrayLike,
    width_m: ArrayLike,
    depth_m: ArrayLike,
    velocity_ms: ArrayLike,
    shear_velocity_ms: ArrayLike,
) -> np.ndarray:
    x = design(width_m, depth_m, velocity_ms, shear_velocity_ms)
    return _arr(depth_m) * _arr(shear_velocity_ms) * 10.0 ** (x @ np.asarray(coef, dtype=float))


def recalibrated_disley(
    width_m: ArrayLike, depth_m: ArrayLike, velocity_ms: ArrayLike, shear_velocity_ms: ArrayLike
) -> np.ndarray:
    """Disley's form with coefficients refitted to the field data (a candidate; module docstring)."""
    return _loglinear(RECALIBRATED_COEFFICIENTS, width_m, depth_m, velocity_ms, shear_velocity_ms)


FORMULAS: dict[str, Callable[..., np.ndarray]] = {
    "disley": disley,
    "recalibrated_disley": recalibrated_disley,
    "seo_cheong": seo_cheong,
    "deng": deng,
    "fischer": fischer,
    "kashefipour_falconer": lambda w, h, u, us: kashefipour_falconer(h, u, us),
}


def _check(**values: np.ndarray) -> None:
    for name, value in values.items():
        if np.any(~np.isfinite(value)) or np.any(value <= 0):
            raise ValueError(f"{name} must be finite and > 0 (got {value!r})")


def estimate(
    width_m: ArrayLike,
    depth_m: ArrayLike,
    velocity_ms: ArrayLike,
    shear_velocity_ms: ArrayLike,
    method: str = DEFAULT_METHOD,
) -> np.ndarray:
    """K (m²/s) by a named formula (`FORMULAS`; the default unless asked)."""
    if method not in FORMULAS:
        raise ValueError(f"unknown dispersion method {method!r}; use one of {', '.join(FORMULAS)}")
    w, h, u, us = (_arr(v) for v in (width_m, depth_m, velocity_ms, shear_velocity_ms))
    _check(width_m=w, depth_m=h, velocity_ms=u, shear_velocity_ms=us)
    return FORMULAS[method](w, h, u, us)


def band(kx_m2s: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) around the default's estimate: the P5–P95 of its errors on the field data."""
    k = _arr(kx_m2s)
    return k * 10.0 ** BAND_LOG10[0], k * 10.0 ** BAND_LOG10[1]


def fit_loglinear(
    x: np.ndarray,
    y_log10: np.ndarray,
    ridge: float,
    prior: np.ndarray = DISLEY_COEFFICIENTS,
    huber: float = HUBER_LOG10,
    iterations: int = 50,
) -> np.ndarray:
    """Huber-loss regression of log10(K/(H·u*)) on `design` columns with a ridge pull towards `prior`
    (iteratively reweighted least squares). The intercept is penalised too: the prior is a whole formula."""
    penalty = ridge * np.eye(x.shape[1])
    weights = np.ones(len(y_log10))
    coef = np.asarray(prior, dtype=float)
    for _ in range(iterations):
        xw = x * weights[:, None]
        new = np.linalg.solve(x.T @ xw + penalty, xw.T @ y_log10 + penalty @ prior)
        residual = np.abs(y_log10 - x @ new)
        weights = np.where(residual <= huber, 1.0, huber / np.maximum(residual, 1e-12))
        if np.allclose(new, coef, atol=1e-10):
            return new
        coef = new
    return coef
