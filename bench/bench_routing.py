"""Benchmark (issue 17): crew routes for 40 points and 8 crews.

40 points spread along the demo Jade River (the plume's leading edge reaches each
at 0.8 m/s from the Qiaotou bridge source; points above the source have no
deadline), 8 crews at the demo bases and four more field offices, 20 min on site
per point. Times the whole route plan as ``incident assign`` runs it: the travel-
time matrix (geodesic × 1.4 at 40 km/h) plus the OR-Tools solve with its default
1 s of guided local search. Baseline measured in the same run: the old one-point-
per-crew assignment (``scipy.optimize.linear_sum_assignment`` on the same
matrix). Goal: ≤ 2 s. Figures only; nothing is asserted.

    python bench/bench_routing.py
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from incident.core.rivers import load_river_file  # noqa: E402
from incident.demo.seed import DEMO_RIVER  # noqa: E402
from incident.sampling.routing import (  # noqa: E402
    RouteCrew,
    RouteProblem,
    RouteStop,
    TravelSettings,
    solve_routes,
    travel_matrix,
)

GOAL_S = 2.0
N_POINTS, N_CREWS = 40, 8
BASES = [
    (23.951, 109.598),
    (23.951, 109.598),
    (23.741, 109.701),
    (24.571, 109.381),
    (24.300, 109.450),
    (24.100, 109.560),
    (23.500, 109.760),
    (23.300, 109.850),
]


def instance(seed: int = 17):
    rng = random.Random(seed)
    net = load_river_file(DEMO_RIVER)
    snap = net.snap(24.68539, 109.32543)
    path = net.path_down(snap.reach_id)
    points, deadlines = [], []
    while len(points) < N_POINTS:
        rid = rng.choice(path)
        reach = net.reach(rid)
        off = rng.uniform(0, reach.length_m)
        points.append(net.point_at(rid, off))
        dist = net.distance_downstream_m(snap.reach_id, snap.offset_m, rid, off)
        deadlines.append(None if dist is None or dist <= 0 else dist / 0.8 - 1800)
    return points, deadlines


def plan(points, deadlines, search_s: float):
    matrix = travel_matrix(BASES + points, TravelSettings())
    horizon = 24 * 3600
    stops = [
        RouteStop(
            f"S{k + 1}", 0, int(d) if d and d > 0 else horizon, 1200, d is not None, list(range(N_CREWS))
        )
        for k, d in enumerate(deadlines)
    ]
    problem = RouteProblem(matrix.seconds, [RouteCrew(f"C{i}") for i in range(N_CREWS)], stops)
    return matrix, solve_routes(problem, search_s=search_s)


def main() -> None:
    from scipy.optimize import linear_sum_assignment

    points, deadlines = instance()
    plan(points, deadlines, 0.0)  # warm-up (imports)
    start = time.perf_counter()
    matrix, sol = plan(points, deadlines, 1.0)
    routed_s = time.perf_counter() - start
    start = time.perf_counter()
    m2 = travel_matrix(BASES + points, TravelSettings())
    rows, cols = linear_sum_assignment(m2.seconds[:N_CREWS, N_CREWS:])
    baseline_s = time.perf_counter() - start
    greedy_start = time.perf_counter()
    _, greedy = plan(points, deadlines, 0.0)
    greedy_s = time.perf_counter() - greedy_start
    covered = N_POINTS - len(sol.dropped)
    print(
        f"routes, {N_POINTS} points × {N_CREWS} crews (matrix + OR-Tools, 1 s search): {routed_s:.2f} s  (goal ≤ {GOAL_S:g} s)"
    )
    print(
        f"  points covered {covered}/{N_POINTS}, driving {sol.travel_s / 3600:.1f} h, last crew done after {sol.finish_s / 3600:.1f} h"
    )
    print(
        f"  first local optimum only (--search-seconds 0): {greedy_s:.2f} s, covered {N_POINTS - len(greedy.dropped)}/{N_POINTS}"
    )
    print(
        f"baseline, one point per crew (linear_sum_assignment): {baseline_s:.3f} s, covered {len(rows)}/{N_POINTS}"
    )
    print(f"ratio routes / baseline: {routed_s / baseline_s:.1f}×")
    print("within goal" if routed_s <= GOAL_S else "OVER GOAL")


if __name__ == "__main__":
    main()
