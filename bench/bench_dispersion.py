"""Benchmark (issue 15): dispersion estimators on rivers they were not fitted to.

Leave-one-out cross-validation on the field tracer data in incident/data/dispersion/ (see its README):
for each measurement in turn, whatever is fitted is refitted on the others and predicts the one left out.
The default (Disley 2015 × 10^bias) refits its one constant, the bias; the refitted candidate (recalibrated
Disley) refits its four coefficients and its ridge weight (by an inner leave-one-out). The other published
formulas have no constant fitted here, so their scores are simply their errors (their authors fitted them
to data that overlap these rivers: if anything the scores flatter them).

For every formula and the default it prints: the share of measurements within ×2 of the measured K, the
RMSE of log10(K_measured/K_estimated), and the coverage of the default's band construction applied to that
formula's residuals (centre = mean residual, half-width = conformal 90 % quantile of |residual|, capped at
×4 a side; both from the other measurements only), with the band's side. Also the default band left one
RIVER out at a time, the previous band (P5–P95 of Disley's errors) and the older one (min–max of the four
formulas). Goal: the default best, ≥ 75 % within ×2; band ≥ 90 %, each side ≤ ×4. Figures only; nothing
is asserted (tests/models/test_dispersion.py asserts).

    python bench/bench_dispersion.py          # the table
    python bench/bench_dispersion.py --fit    # also print the constants for models/dispersion.py
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models import dispersion as dm  # noqa: E402

DATA = ROOT / "incident" / "data" / "dispersion" / "us_rivers_tracer.csv"
LOG2 = np.log10(2.0)


def load(path: Path = DATA) -> dict[str, np.ndarray]:
    with path.open() as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    cols = ("width_m", "depth_m", "velocity_m_s", "shear_velocity_m_s", "kx_m2s")
    return {c: np.array([float(r[c]) for r in rows]) for c in cols} | {"river": [r["river"] for r in rows]}


def _target(d) -> np.ndarray:
    return np.log10(d["kx_m2s"] / (d["depth_m"] * d["shear_velocity_m_s"]))


def _x(d) -> np.ndarray:
    return dm.design(d["width_m"], d["depth_m"], d["velocity_m_s"], d["shear_velocity_m_s"])


def choose_ridge(x: np.ndarray, y: np.ndarray) -> float:
    """The ridge weight with the smallest leave-one-out RMSE of log10 on (x, y)."""
    best, best_rmse = dm.RIDGE_GRID[0], np.inf
    n = len(y)
    for ridge in dm.RIDGE_GRID:
        res = np.empty(n)
        for i in range(n):
            keep = np.arange(n) != i
            res[i] = y[i] - x[i] @ dm.fit_loglinear(x[keep], y[keep], ridge)
        rmse = float(np.sqrt(np.mean(res**2)))
        if rmse < best_rmse - 1e-12:
            best, best_rmse = ridge, rmse
    return best


def cv_residuals_recalibrated(d) -> np.ndarray:
    """Nested leave-one-out residuals log10(measured/estimate) of the refitted candidate."""
    x, y = _x(d), _target(d)
    n = len(y)
    res = np.empty(n)
    for i in range(n):
        keep = np.arange(n) != i
        ridge = choose_ridge(x[keep], y[keep])
        res[i] = y[i] - x[i] @ dm.fit_loglinear(x[keep], y[keep], ridge)
    return res


def residuals_formula(d, name: str) -> np.ndarray:
    est = dm.FORMULAS[name](d["width_m"], d["depth_m"], d["velocity_m_s"], d["shear_velocity_m_s"])
    return np.log10(d["kx_m2s"] / est)


def band_scores(res: np.ndarray, groups: list[str] | None = None) -> tuple[np.ndarray, float, float, float]:
    """Leave-one-out scores of the default's band construction applied to a formula's residuals `res`:
    (cross-validated residuals about the refitted centre, coverage, mean side ×, largest side ×).

    For measurement i, the centre (bias) and half-width come from `dm.centre_and_half_width` on the
    other measurements only (with `groups`, on the other rivers only: leave-one-river-out)."""
    n = len(res)
    cv, hits, sides = np.empty(n), 0, []
    for i in range(n):
        keep = np.arange(n) != i if groups is None else np.array([g != groups[i] for g in groups])
        bias, half = dm.centre_and_half_width(res[keep])
        cv[i] = res[i] - bias
        hits += abs(cv[i]) <= half
        sides.append(10**half)
    return cv, hits / n, float(np.mean(sides)), float(np.max(sides))


def p5_p95_coverage(res: np.ndarray) -> tuple[float, float, float]:
    """The previous band (P5–P95 of the other measurements' residuals, no centring): coverage, ÷, ×."""
    n = len(res)
    hits, lows, highs = 0, [], []
    for i in range(n):
        lo, hi = np.percentile(np.delete(res, i), [5, 95])
        hits += lo <= res[i] <= hi
        lows.append(10**-lo)
        highs.append(10**hi)
    return hits / n, float(np.mean(lows)), float(np.mean(highs))


def scores(res: np.ndarray) -> tuple[float, float]:
    return float(np.mean(np.abs(res) <= LOG2)), float(np.sqrt(np.mean(res**2)))


def main(argv: list[str]) -> None:
    d = load()
    n = len(d["kx_m2s"])
    print(f"{n} field tracer measurements ({len(set(d['river']))} rivers), leave-one-out")
    print(
        "Each formula's band: centre = mean log residual, half-width = conformal 90 % quantile of |residual|,"
        f" capped at ×{dm.BAND_MAX_SIDE:g}; both refitted without the measurement left out."
    )
    print(
        f"{'estimator':36s} {'within ×2':>9s} {'RMSE log10':>10s} {'band coverage':>14s} {'side × (mean/max)':>18s}"
    )
    raw_disley = residuals_formula(d, "disley")
    rows = {}
    cv_default, cover, side, side_max = band_scores(raw_disley)  # the default refits its bias in each fold
    rows[f"default ({dm.DEFAULT_METHOD}, LOO)"] = (cv_default, cover, side, side_max)
    recal = cv_residuals_recalibrated(d)
    rows["recalibrated_disley (nested LOO)"] = (recal, *band_scores(recal)[1:])
    for name in dm.FORMULAS:
        if name not in (dm.DEFAULT_METHOD, "recalibrated_disley"):
            res = residuals_formula(d, name)
            rows[name] = (res, *band_scores(res)[1:])
    for name, (res, cover, side, side_max) in rows.items():
        within, rmse = scores(res)
        print(
            f"{name:36s} {100 * within:8.1f} % {rmse:10.3f} {100 * cover:12.1f} % {side:11.2f} / {side_max:4.2f}"
        )
    _, river_cover, _, river_max = band_scores(raw_disley, groups=d["river"])
    print(
        f"default band, leave-one-RIVER-out (all of a river's measurements held out): {100 * river_cover:.1f} %"
        f" coverage, sides up to ×{river_max:.2f}"
    )
    old_cover, old_low, old_high = p5_p95_coverage(raw_disley)
    print(
        f"previous band (P5–P95 of Disley's errors): {100 * old_cover:.1f} % coverage, ÷{old_low:.1f}/×{old_high:.1f}"
    )
    spread = np.stack(
        [
            dm.FORMULAS[f](d["width_m"], d["depth_m"], d["velocity_m_s"], d["shear_velocity_m_s"])
            for f in ("fischer", "seo_cheong", "deng", "kashefipour_falconer")
        ]
    )
    old = np.mean((spread.min(axis=0) <= d["kx_m2s"]) & (d["kx_m2s"] <= spread.max(axis=0)))
    print(f"older band (min–max of four formulas) holds the measured K for {100 * old:.1f} %")
    print("goal: default best; ≥ 75 % within ×2; band ≥ 90 % coverage, each side ≤ ×4")
    if "--fit" in argv:
        x, y = _x(d), _target(d)
        ridge = choose_ridge(x, y)
        coef = dm.fit_loglinear(x, y, ridge)
        bias, half = dm.centre_and_half_width(raw_disley)
        print(f"RECALIBRATED_COEFFICIENTS = np.array([{', '.join(f'{c:.4f}' for c in coef)}])")
        print(f"RECALIBRATED_RIDGE = {ridge}")
        print(f"BIAS_LOG10 = {bias:.4f}")
        print(f"BAND_HALF_LOG10 = {half:.5f}")


if __name__ == "__main__":
    main(sys.argv[1:])
