"""Longitudinal dispersion: the published formulas, refitted candidates, the default, and an honest band
from the default's cross-validated errors.

The default is Disley et al. (2015) with its Froude term, as published: nothing is fitted here. On the
field tracer data shipped in incident/data/dispersion/ (91 measurements on 29 U.S. rivers, each row checked
against two transcriptions of the published tables; see its README), cross-validated leaving out one
RIVER at a time (all of its measurements), no estimator fitted on these data beats it: Disley holds 65.9 %
of the measurements within ×2 (RMSE of log10 0.347); the bias-corrected Disley ("disley_corrected",
×10^BIAS_LOG10 refitted per fold) 65.9 % (0.355); a ridge/Huber refit of Disley's four coefficients
("recalibrated_disley", nested; the ridge chosen pulls it almost onto Disley) 64.8 % (0.353); Seo & Cheong
58.2 %, Deng 58.2 %, Kashefipour & Falconer 56.0 %, Fischer 36.3 %. Even scored on its own fitting data, a
log-linear model on W/H, U/u* and the Froude number reaches only 67 %: the issue's 75 % is not reachable
from these four inputs on the verified data (`python bench/bench_dispersion.py` prints every figure).

The band is symmetric in log space around the estimate, K·10^∓BAND_HALF_LOG10. Its half-width is the
split-conformal 90 % quantile of |r|, r = log10(measured/Disley) over the field data (the ⌈(n+1)·0.9⌉-th
smallest of n: a finite-sample 90 % prediction interval when rivers are exchangeable), capped at ×4 a side.
Left one river out at a time — half-width rebuilt from the other rivers only — it holds the measured value
for 90.1 % of the measurements, each side at most ×3.1. The ensemble (models.ensemble) reads it as the
P5–P95 of a log-normal error.

"recalibrated_disley" keeps Disley's form,

    log10(K/(H·u*)) = a + b·log10(W/H) + c·log10(U/u*) + d·log10(Fr),   Fr = U/√(gH),

and refits a..d with a Huber loss and a ridge pull towards Disley's coefficients, the ridge weight chosen
by leave-one-river-out. Both candidates stay selectable, and the bench re-scores them whenever verified
rows are added. `bench/bench_dispersion.py --fit` regenerates the constants below.
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
    "half_width",
]

DISLEY_COEFFICIENTS = np.array([np.log10(3.563), 0.6776, 1.0132, -0.4117])  # a = log10(3.563), b, c, d
# Fitted by `python bench/bench_dispersion.py --fit` on incident/data/dispersion/us_rivers_tracer.csv.
RECALIBRATED_COEFFICIENTS = np.array([0.5489, 0.6702, 1.0112, -0.4132])
RECALIBRATED_RIDGE = 100.0  # chosen by leave-one-river-out among RIDGE_GRID
BIAS_LOG10 = -0.0245  # mean of log10(measured/Disley) on the field data ("disley_corrected")
BAND_HALF_LOG10 = 0.48496  # conformal 90 % quantile of |log10(measured/Disley)|, capped at log10(4)
BAND_LEVEL = 0.90  # the band's nominal coverage
BAND_MAX_SIDE = 4.0  # no side of the band wider than ×4 of the estimate
RIDGE_GRID = (0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
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


def half_width(
    residuals_log10: ArrayLike, level: float = BAND_LEVEL, max_side: float = BAND_MAX_SIDE
) -> float:
    """Half-width in log10 of a band centred on the estimate itself: the split-conformal `level` quantile
    of |residual| (the ⌈(n+1)·level⌉-th smallest, all of them if n is too small), capped at log10(max_side)."""
    r = np.abs(np.asarray(residuals_log10, dtype=float))
    if r.ndim != 1 or r.size < 2:
        raise ValueError("need at least two residuals")
    k = min(r.size, int(np.ceil((r.size + 1) * level)))
    return float(min(np.sort(r)[k - 1], np.log10(max_side)))


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
    "disley_corrected": disley_corrected,
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
