"""Benchmark (issue 3): a 72 h forecast on the demo network at 100 m cells.

Prints the wall time of the transport solve for the demo spill (8 t over
30 min at Qiaotou bridge, every receptor as an output point, outputs every
10 min) and, measured in the same run, the time to evaluate the analytic slug
solution on the same cells and output times; the ratio is the figure to
track. Goal: ≤ 50 ms on 2 cores. Figures only; nothing is asserted.

    python bench/bench_forecast.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from incident.core.rivers import load_river_file  # noqa: E402
from incident.demo.seed import DEMO_RIVER  # noqa: E402
from incident.plume.forecast import build_reach_specs, reach_hydraulics  # noqa: E402
from models.analytic import slug  # noqa: E402
from models.transport import OutputPoint, Release, simulate  # noqa: E402

REPEATS = 7


def main() -> None:
    net = load_river_file(DEMO_RIVER)
    hydraulics, _ = reach_hydraulics(net)
    specs = build_reach_specs(net, hydraulics)
    index = {r.reach_id: i for i, r in enumerate(net.reaches)}
    snap = net.snap(24.68539, 109.32543)
    releases = [Release(index[snap.reach_id], snap.offset_m, duration_s=1800.0, mass_kg=8000.0)]
    outputs = [OutputPoint(index[rc.reach_id], rc.offset_m, rc.receptor_id) for rc in net.receptors]
    kwargs = {
        "horizon_s": 72 * 3600.0,
        "dx_m": 100.0,
        "dt_s": 100.0,
        "output_every_s": 600.0,
        "decay_per_s": 0.05 / 86400,
    }
    result = simulate(specs, releases, outputs=outputs, **kwargs)  # warm-up
    solve = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = simulate(specs, releases, outputs=outputs, **kwargs)
        solve.append(time.perf_counter() - start)
    x_cells = (np.arange(result.grid.n_cells) + 0.5) * 100.0
    analytic = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        slug(x_cells[:, None], result.times_s[None, :], 8000.0, 450.0, 0.7, 300.0)
        analytic.append(time.perf_counter() - start)
    g = result.grid
    s, a = statistics.median(solve), statistics.median(analytic)
    print(
        f"dt {g.dt_s:.0f} s: Courant ≤ 1; diffusion number D·dt/dx² up to {g.max_diffusion_number:.1f} (Crank–Nicolson is stable for any)"
    )
    print(
        f"demo network: {len(specs)} reaches, {net.total_length_km:.0f} km; grid {g.n_cells} cells of ~100 m, "
        f"{g.n_steps} steps of {g.dt_s:.0f} s (max Péclet {g.max_peclet:.2f}, Courant {g.max_courant:.2f})"
    )
    print(f"forecast 72 h:          median {s * 1e3:7.1f} ms  (goal ≤ 50 ms on 2 cores)")
    print(
        f"baseline analytic slug: median {a * 1e3:7.1f} ms  on the same {g.n_cells} cells × {result.times_s.size} times"
    )
    print(f"ratio forecast / analytic: {s / a:.1f}")


if __name__ == "__main__":
    main()
