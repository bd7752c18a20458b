"""Shared scenarios: a realistic 5-reach network (main stem with lateral inflow, one tributary, a
confluence whose flows do not add up) and synthetic truths generated with the full solver."""

from __future__ import annotations

import dataclasses

import numpy as np

from models.calibrate import Observation
from models.network import ReachSpec
from models.transport import OutputPoint, Release, simulate


def network() -> list[ReachSpec]:
    """m1 → m2 → m3 → m4 (outlet), tributary t1 → m3. Q 120 → ~230 m³/s, U ≈ 0.7–0.8 m/s."""
    return [
        ReachSpec("m1", 15000.0, 1, 120.0, 150.0, 40.0),
        ReachSpec("m2", 20000.0, 2, 125.0, 160.0, 50.0, lateral_inflow_m2s=0.0005),
        ReachSpec("m3", 18000.0, 3, 200.0, 260.0, 70.0),
        ReachSpec("m4", 25000.0, None, 210.0, 270.0, 80.0, lateral_inflow_m2s=0.0004),
        ReachSpec("t1", 12000.0, 2, 65.0, 90.0, 25.0),
    ]


def scaled(
    reaches: list[ReachSpec], velocity_factor: float, dispersion: np.ndarray | float
) -> list[ReachSpec]:
    """The network with velocities × fu at fixed discharge (areas ÷ fu) and dispersion set/scaled."""
    d = np.broadcast_to(np.asarray(dispersion, dtype=float), (len(reaches),))
    return [
        dataclasses.replace(r, area_m2=r.area_m2 / velocity_factor, dispersion_m2s=float(d[i]))
        for i, r in enumerate(reaches)
    ]


def truth_curves(reaches, release: Release, points, *, horizon_s: float, decay_per_s: float = 0.0, dx_m=50.0):
    res = simulate(
        reaches,
        [release],
        outputs=[OutputPoint(r, o) for r, o in points],
        horizon_s=horizon_s,
        dx_m=dx_m,
        output_every_s=300.0,
        decay_per_s=decay_per_s,
    )
    return res.times_s, res.point_conc_mg_l


def noisy_samples(
    times,
    curves,
    rng: np.random.Generator,
    *,
    per_point: int = 6,
    noise_ln: float = 0.1,
    dl: float = 0.002,
    points=None,
) -> list[Observation]:
    """`per_point` grab samples across each point's passage (from 1 h before the 5 %-of-peak rise to
    the 5 % tail), each with log-normal noise; values below the DL become censored non-detects."""
    obs = []
    for j in points if points is not None else range(curves.shape[0]):
        c = curves[j]
        above = np.flatnonzero(c > 0.05 * c.max())
        ts = np.linspace(times[above[0]] - 3600.0, times[above[-1]], per_point)
        for t in ts:
            value = float(np.interp(t, times, c) * np.exp(noise_ln * rng.standard_normal()))
            obs.append(Observation(float(t), int(j), value, dl, censored=value < dl))
    return obs
