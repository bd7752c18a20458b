"""Longitudinal dispersion: the published formulas, a refitted candidate, the default, and an honest band
from the default's cross-validated errors.

The default, "disley_corrected", is Disley et al. (2015), with its Froude term, times one constant: the
mean of log10(measured/Disley) over the field tracer data shipped in incident/data/dispersion/
(BIAS_LOG10, a least-squares bias correction; ×0.93 on the current data). It is the only constant fitted
here, so cross-validating it is cheap and honest: in leave-one-out, with the constant refitted without
the river left out, it holds 67 % of the measurements within ×2 (Disley alone 64 %, Seo & Cheong, the
old default, 56 %; `python bench/bench_dispersion.py`).

The band is symmetric in log space around the corrected estimate, K·10^∓BAND_HALF_LOG10. Its half-width
is built from the cross-validated log residuals r = log10(measured/estimate): the split-conformal 90 %
quantile of |r| (the ⌈(n+1)·0.9⌉-th smallest of n, a finite-sample 90 % prediction interval when the
rivers are exchangeable), capped at ×4 a side (the issue's limit on a usable band). On the current data the
cap binds (the conformal quantile is ×4.1), and the band measured in leave-one-out — centre and half-width
refitted without the river left out — still holds 92 % of the measurements. The band is read as the
P5–P95 of a log-normal error by the ensemble (models.ensemble).

A refitted candidate, "recalibrated_disley", keeps Disley's form,

    log10(K/(H·u*)) = a + b·log10(W/H) + c·log10(U/u*) + d·log10(Fr),   Fr = U/√(gH),

and refits a..d with a Huber loss and a ridge pull towards Disley's coefficients, the ridge weight chosen
by leave-one-out. In *nested* leave-one-out (refitted, weight chosen, inside every fold) it does not beat
Disley on the 36 measurements we could ship (64 % within ×2 for both; RMSE of log10 0.37 against 0.35),
so it is not the default; it stays selectable, and the bench re-scores it whenever verified rows are
added to the data. `bench/bench_dispersion.py --fit` regenerates the constants below.
All functions broadcast over numpy arrays.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from models.hydraulics import GRAVITY_MS2, deng, fischer, kashefipour_falconer, seo_cheong

__all__ = [
    "disley",
    "disley_corrected",
    "FORMULAS",
    "DEFAULT_METHOD",
    "estimate",
    "band",
    "fit_loglinear",
    "design",
    "DISLEY_COEFFICIENTS",
    "RECALIBRATED_COEFFICIENTS",
    "BIAS_LOG10",
    "BAND_HALF_LOG10",
    "BAND_LEVEL",
    "BAND_MAX_SIDE",
    "centre_and_half_width",
]

DISLEY_COEFFICIENTS = np.array([np.log10(3.563), 0.6776, 1.0132, -0.4117])  # a = log10(3.563), b, c, d
# Fitted by `python bench/bench_dispersion.py --fit` on incident/data/dispersion/us_rivers_tracer.csv.
RECALIBRATED_COEFFICIENTS = np.array([-0.0511, 0.6552, 1.1126, -1.0896])
RECALIBRATED_RIDGE = 0.1  # chosen by leave-one-out among RIDGE_GRID
BIAS_LOG10 = -0.0322  # mean of log10(measured/Disley) on the field data
BAND_HALF_LOG10 = 0.60206  # min(conformal 90 % quantile of |residual| = 0.6170, log10(4)); module docstring
BAND_LEVEL = 0.90  # the band's nominal coverage
BAND_MAX_SIDE = 4.0  # no side of the band wider than ×4 of the estimate
RIDGE_GRID = (0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0)
HUBER_LOG10 = 0.2  # residuals beyond ×1.6 count linearly, not squared
DEFAULT_METHOD = "disley_corrected"


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


def disley_corrected(
    width_m: ArrayLike, depth_m: ArrayLike, velocity_ms: ArrayLike, shear_velocity_ms: ArrayLike
) -> np.ndarray:
    """Disley (2015) × 10^BIAS_LOG10: its mean log error on the field data removed (the default)."""
    return disley(width_m, depth_m, velocity_ms, shear_velocity_ms) * 10.0**BIAS_LOG10


def centre_and_half_width(
    residuals_log10: ArrayLike, level: float = BAND_LEVEL, max_side: float = BAND_MAX_SIDE
) -> tuple[float, float]:
    """(bias, half-width) in log10 from residuals log10(measured/formula): the bias is their mean; the
    half-width the split-conformal `level` quantile of |residual − bias| (the ⌈(n+1)·level⌉-th smallest,
    all of them if n is too small), capped at log10(max_side)."""
    r = np.asarray(residuals_log10, dtype=float)
    if r.ndim != 1 or r.size < 2:
        raise ValueError("need at least two residuals")
    bias = float(np.mean(r))
    spread = np.sort(np.abs(r - bias))
    k = min(r.size, int(np.ceil((r.size + 1) * level)))
    return bias, float(min(spread[k - 1], np.log10(max_side)))


def design(
    width_m: ArrayLike, depth_m: ArrayLike, velocity_ms: ArrayLike, shear_velocity_ms: ArrayLike
) -> np.ndarray:
    """Columns [1, log10(W/H), log10(U/u*), log10(Fr)] of the log-linear form (shape (..., 4))."""
    w, h, u, us = (_arr(v) for v in (width_m, depth_m, velocity_ms, shear_velocity_ms))
    froude = u / np.sqrt(GRAVITY_MS2 * h)
    return np.stack(
        np.broadcast_arrays(np.ones_like(w * h), np.log10(w / h), np.log10(u / us), np.log10(froude)), axis=-1
    )


def _loglinear(coef, width_m, depth_m, velocity_ms, shear_velocity_ms) -> np.ndarray:
    x = design(width_m, depth_m, velocity_ms, shear_velocity_ms)
    return _arr(depth_m) * _arr(shear_velocity_ms) * 10.0 ** (x @ np.asarray(coef, dtype=float))


def recalibrated_disley(
    width_m: ArrayLike, depth_m: ArrayLike, velocity_ms: ArrayLike, shear_velocity_ms: ArrayLike
) -> np.ndarray:
    """Disley's form with coefficients refitted to the field data (a candidate; module docstring)."""
    return _loglinear(RECALIBRATED_COEFFICIENTS, width_m, depth_m, velocity_ms, shear_velocity_ms)


FORMULAS: dict[str, Callable[..., np.ndarray]] = {
    "disley_corrected": disley_corrected,
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
    """(low, high) around the default's estimate: ÷/× 10^BAND_HALF_LOG10 (module docstring)."""
    k = _arr(kx_m2s)
    return k / 10.0**BAND_HALF_LOG10, k * 10.0**BAND_HALF_LOG10


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
