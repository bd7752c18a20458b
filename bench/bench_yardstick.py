"""Benchmark (issue 19): the OTIS yardstick — 200 km, U 0.5 m/s, D 100 m²/s, a 1 h pulse of 1 mg/L at the
upstream end, 150 h, 100 m cells — solved with peak error ≤ 0.08 % in ≤ 50 ms (≥ 5× OTIS's ~0.26 s).

The exact answer is the flux-inlet (Danckwerts, third-type) pulse solution (models.analytic.finite_pulse,
boundary="flux"), which is what the solver's headwaters do. Errors at the stations 50, 100 and 150 km:
the peak (the largest of the solver's samples against the exact curve's true maximum), the peak time, and
the largest difference anywhere on the curve (its phase error), in % of the peak.

Two grids, both with 100 m cells, timed in this run on this machine:
* baseline — the time step the solver picks by itself (Courant ≤ 1: Δt 150 s, 3,600 steps);
* fast — Δt 900 s (Courant 4.5, 600 steps): Crank–Nicolson is stable at any Courant number and, the
  pulse being smooth, the peak stays within the goal; tests/models/test_yardstick.py asserts it.
Figures only; nothing is asserted here.

    python bench/bench_yardstick.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.analytic import finite_pulse  # noqa: E402
from models.network import ReachSpec  # noqa: E402
from models.transport import InletSeries, OutputPoint, simulate  # noqa: E402

LENGTH_M, VELOCITY_MS, DISPERSION_M2S, AREA_M2 = 200_000.0, 0.5, 100.0, 100.0
PULSE_S, HORIZON_S, DX_M = 3600.0, 150 * 3600.0, 100.0
STATIONS_M = (50_000.0, 100_000.0, 150_000.0)
FAST_DT_S = 900.0
OTIS_S = 0.26  # OTIS (Fortran) on the same problem, as issue 19 states it (not run here)
REPEATS = 7


def problem():
    reach = [ReachSpec("yardstick", LENGTH_M, None, VELOCITY_MS * AREA_M2, AREA_M2, DISPERSION_M2S)]
    inlet = InletSeries(0, np.array([0.0, PULSE_S, PULSE_S, 1e7]), np.array([1.0, 1.0, 0.0, 0.0]))
    return reach, inlet


def solve(dt_s: float | None, outputs=True):
    reach, inlet = problem()
    every = 300.0 if dt_s is None or dt_s <= 300.0 else dt_s
    kwargs = {"horizon_s": HORIZON_S, "dx_m": DX_M, "output_every_s": every}
    if dt_s is not None:
        kwargs["dt_s"] = dt_s
    points = [OutputPoint(0, s) for s in STATIONS_M] if outputs else []
    return simulate(reach, inlets=[inlet], outputs=points, **kwargs)


def errors(result) -> dict[str, list[float]]:
    """Per station: peak error %, peak time error min, largest curve error % of the peak."""
    fine_t = np.arange(0.0, HORIZON_S + 1.0, 10.0)
    out = {"peak_pct": [], "peak_time_min": [], "curve_pct": []}
    for i, x in enumerate(STATIONS_M):
        exact_fine = finite_pulse(x, fine_t, 1.0, PULSE_S, VELOCITY_MS, DISPERSION_M2S, boundary="flux")
        exact_same = finite_pulse(
            x, result.times_s, 1.0, PULSE_S, VELOCITY_MS, DISPERSION_M2S, boundary="flux"
        )
        curve = result.point_conc_mg_l[i]
        peak = exact_fine.max()
        out["peak_pct"].append(100 * abs(curve.max() - peak) / peak)
        out["peak_time_min"].append(
            abs(result.times_s[np.argmax(curve)] - fine_t[np.argmax(exact_fine)]) / 60
        )
        out["curve_pct"].append(100 * float(np.max(np.abs(curve - exact_same))) / peak)
    return out


def median_ms(fn) -> float:
    fn()
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    base_run, fast_run = solve(None), solve(FAST_DT_S)
    base_ms = median_ms(lambda: solve(None, outputs=False))
    fast_ms = median_ms(lambda: solve(FAST_DT_S, outputs=False))
    print(
        f"OTIS yardstick: {LENGTH_M / 1e3:.0f} km, U {VELOCITY_MS} m/s, D {DISPERSION_M2S:g} m²/s, "
        f"{PULSE_S / 3600:g} h pulse, {HORIZON_S / 3600:g} h, {DX_M:g} m cells; stations "
        + ", ".join(f"{s / 1e3:g} km" for s in STATIONS_M)
    )
    for name, run, ms in (("baseline", base_run, base_ms), ("fast", fast_run, fast_ms)):
        e = errors(run)
        g = run.grid
        print(
            f"{name:8s} Δt {g.dt_s:5.0f} s ({g.n_steps} steps, Courant {g.max_courant:.1f}): {ms:6.1f} ms; "
            f"peak error {max(e['peak_pct']):.4f} % (goal ≤ 0.08 %), peak time ±{max(e['peak_time_min']):.1f} min, "
            f"largest curve error {max(e['curve_pct']):.2f} % of the peak"
        )
    print(
        f"fast: {fast_ms:.1f} ms (goal ≤ 50 ms); {base_ms / fast_ms:.1f}× the same-run baseline; "
        f"{OTIS_S * 1e3 / fast_ms:.1f}× OTIS's ~{OTIS_S * 1e3:.0f} ms (goal ≥ 5×)"
    )


if __name__ == "__main__":
    main()
