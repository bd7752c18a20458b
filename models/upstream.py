"""How far upstream of the source a spill is detectable: the upstream reach of Fickian dispersion.

A 1D advection–dispersion model spreads a slug both ways. For an instantaneous release of mass M
at x = 0 in a channel of cross-section A with velocity U, dispersion D and first-order decay k:

    C(x, t) = M / (A √(4πDt)) · exp(−(x − Ut)² / (4Dt)) · e^(−kt)

At time t the concentration exceeds a threshold c where (x − Ut)² < 4Dt · ln(K(t)), with
K(t) = M e^(−kt) / (A c √(4πDt)). The plume's upstream edge then lies

    L(t) = √(4Dt · ln K(t)) − Ut     metres above the source (when ln K > 0),

and the upstream extent within a horizon T is max over 0 < t ≤ T of L(t) (0 when never positive).
Without advection and decay the maximum has a closed form: ln(4πDt*) = 2 ln(M/(Ac)) − 1 gives
L* = M / (A c √(2πe)) (the check in the tests).

An instantaneous slug is the conservative case: spreading the same mass over a release duration
lowers every concentration, so the extent of a slug bounds that of any release of the same mass.
Units: mass in g, area m², concentration g/m³ (= mg/L), seconds and metres.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["upstream_extent_m"]


def upstream_extent_m(
    mass_g: ArrayLike,
    area_m2: ArrayLike,
    velocity_ms: ArrayLike,
    dispersion_m2s: ArrayLike,
    threshold_g_m3: float,
    horizon_s: float,
    *,
    decay_per_s: float = 0.0,
    n_times: int = 2000,
) -> np.ndarray:
    """Farthest distance (m) above the source where C > threshold within the horizon, per member.

    Inputs broadcast against each other (one value per ensemble member). The maximum over time is
    taken on a log-spaced grid from 1 s to the horizon (``n_times`` points), then refined by one
    parabola through the best grid point and its neighbours.
    """
    m, a, u, d = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (mass_g, area_m2, velocity_ms, dispersion_m2s))
    )
    if np.any(a <= 0) or np.any(d <= 0) or np.any(m < 0) or np.any(u < 0):
        raise ValueError("area and dispersion must be > 0; mass and velocity ≥ 0")
    if not threshold_g_m3 > 0 or not horizon_s > 0:
        raise ValueError("threshold and horizon must be > 0")
    t = np.geomspace(min(1.0, horizon_s), horizon_s, int(n_times))
    shape = m.shape
    m, a, u, d = (x.reshape(-1, 1) for x in (m, a, u, d))

    def edge(tt: np.ndarray, rows: slice | np.ndarray = slice(None)) -> np.ndarray:
        mm, aa_, uu, dd = m[rows], a[rows], u[rows], d[rows]
        with np.errstate(divide="ignore", invalid="ignore"):
            log_k = np.log(mm / (aa_ * threshold_g_m3 * np.sqrt(4 * np.pi * dd * tt))) - decay_per_s * tt
            reach = np.sqrt(4 * dd * tt * np.clip(log_k, 0.0, None)) - uu * tt
        return np.where(log_k > 0, reach, -np.inf)

    values = edge(t[None, :])
    best = np.argmax(values, axis=1)
    extent = values[np.arange(values.shape[0]), best]
    # parabolic refinement in log-time around the best grid point
    inner = (best > 0) & (best < len(t) - 1) & np.isfinite(extent)
    if np.any(inner):
        rows = np.nonzero(inner)[0]
        j = best[rows]
        lt = np.log(t)
        x0, x1, x2 = lt[j - 1], lt[j], lt[j + 1]
        y0, y1, y2 = values[rows, j - 1], values[rows, j], values[rows, j + 1]
        denom = (x0 - x1) * (x0 - x2) * (x1 - x2)
        with np.errstate(divide="ignore", invalid="ignore"):
            aa = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / denom
            bb = (x2 * x2 * (y0 - y1) + x1 * x1 * (y2 - y0) + x0 * x0 * (y1 - y2)) / denom
            xv = np.where(aa < 0, -bb / (2 * aa), x1)
        xv = np.clip(np.nan_to_num(xv, nan=x1), x0, x2)
        tv = np.exp(xv)
        refined = edge(tv[:, None], rows)[:, 0]
        extent[rows] = np.maximum(extent[rows], refined)
    return np.clip(np.where(np.isfinite(extent), extent, 0.0), 0.0, None).reshape(shape)
