"""Benchmark: 72 h forecast on a synthetic ~230 km, 12-reach network with one tributary, 100 m cells.

Run: python bench/bench_models.py
Prints the wall time of `simulate` and, measured in the same run, the time to evaluate the analytic slug
solution on the same cells and output times (the cheapest possible "model"), and their ratio.
Figures only; nothing is asserted.
"""

from __future__ import annotations

import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.analytic import slug  # noqa: E402
from models.network import ReachSpec  # noqa: E402
from models.transport import OutputPoint, Release, simulate  # noqa: E402

HORIZON_S = 72 * 3600.0
DX_M = 100.0
REPEATS = 7


def synthetic_network() -> list[ReachSpec]:
    """Main stem of 10 reaches (Q 900 → 1500 m³/s), a 2-reach tributary (Q 300 → 330) joining reach 6."""
    reaches: list[ReachSpec] = []
    main_lengths_km = [22, 18, 25, 20, 15, 19, 21, 17, 24, 19]  # 200 km
    q = 900.0
    for i, length_km in enumerate(main_lengths_km):
        length = length_km * 1000.0
        if i == 5:
            q += 330.0  # tributary joins here
        lateral = 0.0015 if i != 5 else 0.0  # m³/s per m
        area = q / 1.0  # ≈ 1 m/s
        reaches.append(
            ReachSpec(
                name=f"main {i + 1}",
                length_m=length,
                downstream=i + 1 if i < len(main_lengths_km) - 1 else None,
                discharge_m3s=q,
                area_m2=area,
                dispersion_m2s=120.0 + 10.0 * i,
                lateral_inflow_m2s=lateral,
            )
        )
        q += lateral * length
    for j, (length_km, q_trib) in enumerate([(16, 300.0), (14, 315.0)]):
        reaches.append(
            ReachSpec(
                name=f"tributary {j + 1}",
                length_m=length_km * 1000.0,
                downstream=len(main_lengths_km) + 1 if j == 0 else 5,
                discharge_m3s=q_trib,
                area_m2=q_trib / 0.9,
                dispersion_m2s=80.0,
                lateral_inflow_m2s=(315.0 - 300.0) / 16000.0 if j == 0 else (330.0 - 315.0) / 14000.0,
            )
        )
    return reaches


def main() -> None:
    reaches = synthetic_network()
    total_km = sum(r.length_m for r in reaches) / 1000.0
    releases = [Release(0, 2000.0, mass_kg=5000.0), Release(10, 1000.0, start_s=3600.0, mass_kg=800.0)]
    outputs = [OutputPoint(i, reaches[i].length_m / 2, f"main {i + 1} mid") for i in range(10)]
    outputs += [OutputPoint(11, 7000.0, "tributary 2 mid")]
    kwargs = {"horizon_s": HORIZON_S, "dx_m": DX_M, "output_every_s": 600.0}

    result = simulate(reaches, releases, outputs=outputs, **kwargs)  # warm-up
    solver_times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = simulate(reaches, releases, outputs=outputs, **kwargs)
        solver_times.append(time.perf_counter() - start)

    # analytic slug on the same cells and output times (a uniform-channel stand-in, same array sizes)
    x_cells = (np.arange(result.grid.n_cells) + 0.5) * DX_M
    analytic_times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        slug(x_cells[:, None], result.times_s[None, :], 5000.0, 1000.0, 1.0, 150.0)
        analytic_times.append(time.perf_counter() - start)

    grid = result.grid
    solver_s = statistics.median(solver_times)
    analytic_s = statistics.median(analytic_times)
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    print(
        f"network: {len(reaches)} reaches, {total_km:.0f} km, Q {reaches[10].discharge_m3s:.0f}–"
        f"{reaches[9].discharge_m3s + reaches[9].lateral_inflow_m2s * reaches[9].length_m:.0f} m³/s"
    )
    print(
        f"grid: {grid.n_cells} cells (dx {grid.dx_m:.1f} m), {grid.n_steps} steps of {grid.dt_s:.1f} s, "
        f"max Péclet {grid.max_peclet:.2f}, max Courant {grid.max_courant:.2f}, "
        f"max diffusion number {grid.max_diffusion_number:.2f}"
    )
    print(f"outputs: {result.point_conc_mg_l.shape[0]} points × {result.times_s.size} times")
    print(
        f"mass balance relative error: {result.mass_balance.relative_error:.2e}; "
        f"exported {result.mass_balance.exported_kg:.0f} kg of {result.mass_balance.released_kg:.0f} kg"
    )
    print(
        f"simulate (72 h): median {solver_s * 1e3:.1f} ms, min {min(solver_times) * 1e3:.1f} ms over {REPEATS} runs"
    )
    print(
        f"analytic slug on {x_cells.size} cells × {result.times_s.size} times: median {analytic_s * 1e3:.1f} ms"
    )
    print(f"ratio simulate / analytic: {solver_s / analytic_s:.2f}")
    print(f"per step: {solver_s / grid.n_steps * 1e6:.1f} µs")


if __name__ == "__main__":
    main()
