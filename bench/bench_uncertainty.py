"""Benchmark (issue 9): a 1,000-member ensemble and a 20-observation recalibration on the demo network.

Baseline, measured in the same run: one full 72 h Crank–Nicolson forecast (`models.transport.simulate`)
of the demo spill (8 t of nitrobenzene over 30 min at Qiaotou bridge, every receptor an output point).

1. Ensemble: 1,000 members of the fast travel-time model with sampled velocity, dispersion (across
   the four formulas), mass, release start and duration; P10/P50/P90 of arrival, peak time, peak
   concentration and exceedance at every receptor. Goal ≤ 1 s on 2 cores.
2. Recalibration: 20 noisy samples (10 % log-normal) at 4 receptors taken from a full-solver "truth"
   (mass 0.7×, release 40 min late, velocity 1.1×, dispersion 1.5× the report); fit mass, start,
   velocity and dispersion factors from the report as prior. Goal ≤ 1 s.

    python bench/bench_uncertainty.py
Figures only; nothing is asserted.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from incident.core.rivers import load_river_file  # noqa: E402
from incident.demo.seed import DEMO_RIVER  # noqa: E402
from incident.plume.forecast import ForecastRequest, Spill, receptor_points  # noqa: E402
from incident.plume.uncertainty import ensemble_setup  # noqa: E402
from models.calibrate import Observation, Prior, calibrate  # noqa: E402
from models.ensemble import run_ensemble  # noqa: E402
from models.fastplume import route  # noqa: E402
from models.transport import OutputPoint, Release, simulate  # noqa: E402

REPEATS = 5
HORIZON_S = 72 * 3600.0
DECAY = 0.05 / 86400


def main() -> None:
    net = load_river_file(DEMO_RIVER)
    snap = net.snap(24.68539, 109.32543)
    req = ForecastRequest(
        network=net,
        start=None,  # not used by the arrays
        spills=[Spill(snap.reach_id, snap.offset_m, mass_kg=8000.0, duration_h=0.5)],
        points=receptor_points(net),
        decay_per_day=0.05,
        standard_mg_l=0.017,
        detection_mg_l=0.0005,
    )
    setup = ensemble_setup(req)
    specs = setup.specs
    outputs = [OutputPoint(i, o) for i, o in setup.points]
    sim_kwargs = {"horizon_s": HORIZON_S, "output_every_s": 600.0, "decay_per_s": DECAY}
    release = Release(*setup.source, duration_s=1800.0, mass_kg=8000.0)

    simulate(specs, [release], outputs=outputs, **sim_kwargs)  # warm-up
    base = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        sim = simulate(specs, [release], outputs=outputs, **sim_kwargs)
        base.append(time.perf_counter() - t0)

    def ensemble():
        return run_ensemble(
            specs,
            *setup.source,
            setup.points,
            setup.inputs,
            horizon_s=HORIZON_S,
            detection_mg_l=setup.detection_mg_l,
            standard_mg_l=setup.standard_mg_l,
            decay_per_s=DECAY,
            dispersion_low_m2s=setup.dispersion_low_m2s,
            dispersion_high_m2s=setup.dispersion_high_m2s,
            n_members=1000,
            seed=0,
        )

    ensemble()  # warm-up
    ens = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        result = ensemble()
        ens.append(time.perf_counter() - t0)

    # synthetic truth with the full solver, 5 samples at each of 4 receptors
    fu, fd, mass, start = 1.1, 1.5, 0.7 * 8000.0, 40 * 60.0
    truth_specs = [
        dataclasses.replace(s, area_m2=s.area_m2 / fu, dispersion_m2s=s.dispersion_m2s * fd) for s in specs
    ]
    chosen = [p.label for p in receptor_points(net)][1:5]
    labels = [p.label for p in req.points]
    idx = [labels.index(c) for c in chosen]
    truth = simulate(
        truth_specs,
        [Release(*setup.source, start_s=start, duration_s=1800.0, mass_kg=mass)],
        outputs=[outputs[i] for i in idx],
        **sim_kwargs,
    )
    rng = np.random.default_rng(9)
    obs = []
    for j in range(len(idx)):
        c = truth.point_conc_mg_l[j]
        above = np.flatnonzero(c > 0.05 * c.max())
        for t in np.linspace(truth.times_s[above[0]] - 3600, truth.times_s[above[-1]], 5):
            v = float(np.interp(t, truth.times_s, c) * np.exp(0.1 * rng.standard_normal()))
            obs.append(Observation(float(t), j, v, 0.0005, censored=v < 0.0005))
    routes = route(specs, *setup.source, [setup.points[i] for i in idx])
    prior = Prior(mass_kg=8000.0, start_s=0.0, duration_s=1800.0)
    calibrate(routes, obs, prior, decay_per_s=DECAY)  # warm-up
    cal_t = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        cal = calibrate(routes, obs, prior, decay_per_s=DECAY)
        cal_t.append(time.perf_counter() - t0)

    b, e, c = statistics.median(base), statistics.median(ens), statistics.median(cal_t)
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    print(
        f"demo network: {len(specs)} reaches, {net.total_length_km:.0f} km, {len(setup.points)} receptors; "
        f"full solver grid {sim.grid.n_cells} cells, {sim.grid.n_steps} steps"
    )
    print(f"baseline  full 72 h simulate:               median {b * 1e3:7.1f} ms")
    print(
        f"ensemble  1,000 members × {len(setup.points)} points:         median {e * 1e3:7.1f} ms "
        f"(goal ≤ 1000 ms)  = {e / b:.2f} × one full run, {1000 * b / e:.0f}× faster than 1,000 full runs"
    )
    print(
        f"calibrate {len(obs)} observations, 4 parameters:    median {c * 1e3:7.1f} ms "
        f"(goal ≤ 1000 ms)  = {c / b:.2f} × one full run"
    )
    est = cal.estimates
    print(
        f"  recovered: mass {est['mass_kg']:.0f} kg (truth {mass:.0f}, {est['mass_kg'] / mass - 1:+.1%}), "
        f"start {(est['start_s'] - start) / 60:+.1f} min from truth, velocity ×{est['velocity_factor']:.3f} "
        f"(truth {fu}), dispersion ×{est['dispersion_factor']:.2f} (truth {fd}); misfit ×{cal.factor_error:.3f}"
    )
    w = labels.index("W2")
    print(
        "  W2 arrival band P10/P50/P90: "
        + " / ".join(f"{v / 3600:.1f} h" for v in result.leading_edge_s.at(w))
        + f"; peak {' / '.join(f'{v:.3f}' for v in result.peak_mg_l.at(w))} mg/L"
    )


if __name__ == "__main__":
    main()
