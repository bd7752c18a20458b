"""Benchmark (issue 15): dispersion estimators on rivers they were not fitted to.

Cross-validation on the verified field tracer data in incident/data/dispersion/ (see its README), leaving
out one RIVER at a time: all of that river's measurements are held out together, whatever is fitted is
refitted on the other rivers, and predicts the held-out ones. "disley_corrected" refits its one constant
(the bias); "recalibrated_disley" refits its four coefficients and its ridge weight (chosen by an inner
leave-one-river-out: nested). The published formulas, the default among them, have no constant fitted
here, so their scores are simply their errors (their authors fitted them to data that overlap these
rivers: if anything the scores flatter them).

For every formula and the default it prints: the share of measurements within ×2 of the measured K, the
RMSE of log10(K_measured/K_estimated), and the coverage of the band construction applied to that
formula's residuals (half-width = conformal 90 % quantile of |residual| over the other rivers, capped at
×4 a side; centred on the estimate, or on the refitted bias for disley_corrected), with the band's side.
Also the default band leaving one measurement out, the P5–P95 band and the min–max of four formulas.
Goal (issue 15): the default best; ≥ 75 % within ×2; band ≥ 90 % coverage, each side ≤ ×4. Figures only;
nothing is asserted here (tests/models/test_dispersion.py asserts).

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
PUBLISHED = ("disley", "seo_cheong", "deng", "fischer", "kashefipour_falconer")


def load(path: Path = DATA) -> dict:
    with path.open() as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    cols = ("width_m", "depth_m", "velocity_m_s", "shear_velocity_m_s", "kx_m2s")
    return {c: np.array([float(r[c]) for r in rows]) for c in cols} | {
        "river": [r["river"] for r in rows],
        "rows": rows,
    }


def _target(d) -> np.ndarray:
    return np.log10(d["kx_m2s"] / (d["depth_m"] * d["shear_velocity_m_s"]))


def _x(d) -> np.ndarray:
    return dm.design(d["width_m"], d["depth_m"], d["velocity_m_s"], d["shear_velocity_m_s"])


def folds(groups) -> list[np.ndarray]:
    """Boolean masks of the held-out rows, one per river (in order of first appearance)."""
    g = np.asarray(groups)
    return [g == river for river in dict.fromkeys(groups)]


def choose_ridge(x: np.ndarray, y: np.ndarray, groups) -> float:
    """The ridge weight with the smallest leave-one-river-out RMSE of log10 on (x, y)."""
    best, best_rmse = dm.RIDGE_GRID[0], np.inf
    for ridge in dm.RIDGE_GRID:
        res = np.empty(len(y))
        for out in folds(groups):
            res[out] = y[out] - x[out] @ dm.fit_loglinear(x[~out], y[~out], ridge)
        rmse = float(np.sqrt(np.mean(res**2)))
        if rmse < best_rmse - 1e-12:
            best, best_rmse = ridge, rmse
    return best


def cv_residuals_recalibrated(d) -> np.ndarray:
    """Nested leave-one-river-out residuals log10(measured/estimate) of the refitted candidate."""
    x, y, groups = _x(d), _target(d), np.asarray(d["river"])
    res = np.empty(len(y))
    for out in folds(d["river"]):
        ridge = choose_ridge(x[~out], y[~out], groups[~out])
        res[out] = y[out] - x[out] @ dm.fit_loglinear(x[~out], y[~out], ridge)
    return res


def residuals_formula(d, name: str) -> np.ndarray:
    est = dm.FORMULAS[name](d["width_m"], d["depth_m"], d["velocity_m_s"], d["shear_velocity_m_s"])
    return np.log10(d["kx_m2s"] / est)


def band_scores(res: np.ndarray, groups, centred: bool = False) -> tuple[np.ndarray, float, float, float]:
    """Cross-validated scores of the band construction applied to residuals `res`, each group (river)
    held out in turn: (residuals about the refitted centre, coverage, mean side ×, largest side ×).

    Centred: the centre (mean residual, a fitted bias) and the half-width come from
    `dm.centre_and_half_width` on the other rivers; else the band is centred on the estimate itself and
    its half-width is `dm.half_width` of the other rivers' residuals."""
    cv, hits, sides = np.empty(len(res)), 0, []
    for out in folds(groups):
        if centred:
            bias, half = dm.centre_and_half_width(res[~out])
        else:
            bias, half = 0.0, dm.half_width(res[~out])
        cv[out] = res[out] - bias
        hits += int(np.sum(np.abs(cv[out]) <= half))
        sides.append(10 ** (half + abs(bias)))
    return cv, hits / len(res), float(np.mean(sides)), float(np.max(sides))


def p5_p95_coverage(res: np.ndarray, groups) -> tuple[float, float, float]:
    """The P5–P95 of the other rivers' residuals as a band: coverage, mean ÷, mean ×."""
    hits, lows, highs = 0, [], []
    for out in folds(groups):
        lo, hi = np.percentile(res[~out], [5, 95])
        hits += int(np.sum((lo <= res[out]) & (res[out] <= hi)))
        lows.append(10**-lo)
        highs.append(10**hi)
    return hits / len(res), float(np.mean(lows)), float(np.mean(highs))


def scores(res: np.ndarray) -> tuple[float, float]:
    """(share within ×2, RMSE of log10)."""
    return float(np.mean(np.abs(res) <= LOG2)), float(np.sqrt(np.mean(res**2)))


def table(d) -> dict[str, tuple[np.ndarray, float, float, float]]:
    """name -> (cross-validated residuals, band coverage, mean side ×, largest side ×), every estimator."""
    groups = d["river"]
    rows = {}
    for name in dm.FORMULAS:
        if name == "disley_corrected":
            rows[name] = band_scores(residuals_formula(d, "disley"), groups, centred=True)
        elif name == "recalibrated_disley":
            recal = cv_residuals_recalibrated(d)
            rows[name] = (recal, *band_scores(recal, groups)[1:])
        else:
            rows[name] = band_scores(residuals_formula(d, name), groups)
    return rows


def main(argv: list[str]) -> None:
    d = load()
    n, groups = len(d["kx_m2s"]), d["river"]
    print(f"{n} field tracer measurements on {len(set(groups))} rivers; leave-one-RIVER-out cross-validation")
    print(
        f"{'estimator':32s} {'within ×2':>9s} {'RMSE log10':>10s} {'band coverage':>14s} {'side × (mean/max)':>18s}"
    )
    for name, (res, cover, side, side_max) in table(d).items():
        within, rmse = scores(res)
        label = f"{name} (default)" if name == dm.DEFAULT_METHOD else name
        if name == "recalibrated_disley":
            label += " (nested)"
        print(
            f"{label:32s} {100 * within:8.1f} % {rmse:10.3f} {100 * cover:12.1f} % {side:11.2f} / {side_max:4.2f}"
        )
    raw = residuals_formula(d, dm.DEFAULT_METHOD)
    _, loo_cover, _, loo_max = band_scores(raw, list(range(n)))
    print(
        f"default band leaving one MEASUREMENT out: {100 * loo_cover:.1f} % coverage, sides up to ×{loo_max:.2f}"
    )
    old_cover, old_low, old_high = p5_p95_coverage(raw, groups)
    print(
        f"P5–P95 of the default's errors as a band: {100 * old_cover:.1f} % coverage, ÷{old_low:.1f}/×{old_high:.1f}"
    )
    spread = np.stack(
        [
            dm.FORMULAS[f](d["width_m"], d["depth_m"], d["velocity_m_s"], d["shear_velocity_m_s"])
            for f in ("fischer", "seo_cheong", "deng", "kashefipour_falconer")
        ]
    )
    old = np.mean((spread.min(axis=0) <= d["kx_m2s"]) & (d["kx_m2s"] <= spread.max(axis=0)))
    print(f"min–max of four formulas as a band holds the measured K for {100 * old:.1f} %")
    x, y = _x(d), _target(d)
    insample = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
    print(
        f"ceiling: a log-linear fit on W/H, U/u*, Fr scored on its own fitting data: {100 * scores(insample)[0]:.1f} %"
        " within ×2"
    )
    print("goal: default best; ≥ 75 % within ×2; band ≥ 90 % coverage, each side ≤ ×4")
    if "--fit" in argv:
        ridge = choose_ridge(x, y, groups)
        coef = dm.fit_loglinear(x, y, ridge)
        print(f"RECALIBRATED_COEFFICIENTS = np.array([{', '.join(f'{c:.4f}' for c in coef)}])")
        print(f"RECALIBRATED_RIDGE = {ridge}")
        print(f"BIAS_LOG10 = {np.mean(raw):.4f}")
        print(f"BAND_HALF_LOG10 = {dm.half_width(raw):.5f}")


if __name__ == "__main__":
    main(sys.argv[1:])
