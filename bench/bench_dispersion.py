"""Benchmark (issue 15): dispersion estimators on rivers they were not fitted to.

Leave-one-out cross-validation on the field tracer data in incident/data/dispersion/ (see its README):
for each measurement in turn, the refitted candidate (recalibrated Disley) is refitted on the others —
including the choice of its ridge weight, by an inner leave-one-out — and predicts the one left out. The
published formulas, the default (Disley 2015) among them, have no constant fitted here, so their scores
are simply their errors (their authors fitted them to data that overlap these rivers: if anything the
scores flatter them).

For every formula and the default it prints: the share of rivers within ×2 of the measured K, the RMSE
of log10(K_measured/K_estimated), and the coverage of its P5–P95 band (for river i, the band is the
P5–P95 of the other rivers' cross-validated residuals), with the band's width. Also the coverage of the
old band (min–max of the four formulas). Goal: the default best, ≥ 75 % within ×2; band ≥ 90 %, each
side ≤ ×4. Figures only; nothing is asserted (tests/models/test_dispersion.py asserts).

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


def band_scores(res: np.ndarray) -> tuple[float, float, float]:
    """(coverage, mean low side ×, mean high side ×) of the leave-one-out P5–P95 band of `res`."""
    n = len(res)
    hits, lows, highs = 0, [], []
    for i in range(n):
        others = np.delete(res, i)
        lo, hi = np.percentile(others, [5, 95])
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
        f"{'estimator':34s} {'within ×2':>9s} {'RMSE log10':>10s} {'P5–P95 band coverage':>21s} {'band ÷/×':>10s}"
    )
    table = {f"default ({dm.DEFAULT_METHOD})": residuals_formula(d, dm.DEFAULT_METHOD)}
    table["recalibrated_disley (nested LOO)"] = cv_residuals_recalibrated(d)
    for name in dm.FORMULAS:
        if name not in (dm.DEFAULT_METHOD, "recalibrated_disley"):
            table[name] = residuals_formula(d, name)
    for name, res in table.items():
        within, rmse = scores(res)
        cover, low, high = band_scores(res)
        print(f"{name:34s} {100 * within:8.1f} % {rmse:10.3f} {100 * cover:19.1f} % {low:4.1f}/{high:4.1f}")
    spread = np.stack(
        [
            dm.FORMULAS[f](d["width_m"], d["depth_m"], d["velocity_m_s"], d["shear_velocity_m_s"])
            for f in ("fischer", "seo_cheong", "deng", "kashefipour_falconer")
        ]
    )
    old = np.mean((spread.min(axis=0) <= d["kx_m2s"]) & (d["kx_m2s"] <= spread.max(axis=0)))
    print(f"old band (min–max of four formulas) holds the measured K for {100 * old:.1f} %")
    print("goal: default best on both scores; ≥ 75 % within ×2; band ≥ 90 %, each side ≤ ×4")
    if "--fit" in argv:
        x, y = _x(d), _target(d)
        ridge = choose_ridge(x, y)
        coef = dm.fit_loglinear(x, y, ridge)
        lo, hi = np.percentile(residuals_formula(d, dm.DEFAULT_METHOD), [5, 95])
        print(f"RECALIBRATED_COEFFICIENTS = np.array([{', '.join(f'{c:.4f}' for c in coef)}])")
        print(f"RECALIBRATED_RIDGE = {ridge}")
        print(f"BAND_LOG10 = ({lo:.4f}, {hi:.4f})")


if __name__ == "__main__":
    main(sys.argv[1:])
