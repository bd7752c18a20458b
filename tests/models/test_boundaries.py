"""Headwater boundaries: a spill at km 0 of a headwater must not lose mass through the upstream face.

A prescribed-concentration (first-type) face let tracer disperse out of the top of the river: 57–80 % of
a spill at km 0 on the demo network never reached any station. The face is now a flux (Danckwerts)
boundary, and the mass budget states what crossed it.
"""

import dataclasses

import numpy as np
import pytest

from models.network import ReachSpec
from models.transport import OutputPoint, Release, simulate

AREA_M2 = 20.0
VELOCITY_MS = 0.4
DISCHARGE_M3S = AREA_M2 * VELOCITY_MS
DISPERSION_M2S = 40.0  # strong dispersion: D/U = 100 m, so a first-type face would lose a lot
STATION_M = 4000.0


def _channel(length_m: float = 12000.0) -> list[ReachSpec]:
    return [ReachSpec("head", length_m, None, DISCHARGE_M3S, AREA_M2, DISPERSION_M2S)]


def _passed_kg(run, i: int, discharge_m3s: float) -> float:
    return discharge_m3s * float(np.trapezoid(run.point_conc_mg_l[i], run.times_s)) / 1000.0


@pytest.mark.parametrize("decay_per_s", [0.0, 2e-5])
def test_spill_at_km_0_delivers_its_mass_past_a_station(decay_per_s):
    mass = 500.0
    run = simulate(
        _channel(),
        [Release(0, 0.0, mass_kg=mass)],
        outputs=[OutputPoint(0, STATION_M)],
        horizon_s=12 * 3600.0,
        decay_per_s=decay_per_s,
    )
    # ∫C dt at x solves D·I'' − U·I' − k·I = 0 with the flux condition U·I − D·I' = M/A at x = 0:
    # Q·∫C dt = M·2U/(U + Γ)·exp(x(U − Γ)/2D), Γ = √(U² + 4kD)  (= M without decay)
    gamma = np.sqrt(VELOCITY_MS**2 + 4 * decay_per_s * DISPERSION_M2S)
    expected = (
        mass
        * 2
        * VELOCITY_MS
        / (VELOCITY_MS + gamma)
        * np.exp(STATION_M * (VELOCITY_MS - gamma) / (2 * DISPERSION_M2S))
    )
    assert _passed_kg(run, 0, DISCHARGE_M3S) == pytest.approx(expected, rel=5e-3)
    if decay_per_s == 0:
        assert _passed_kg(run, 0, DISCHARGE_M3S) == pytest.approx(mass, rel=5e-3)
    balance = run.mass_balance
    head, outlet = balance.boundaries
    assert (head.kind, head.in_kg, head.out_kg) == ("headwater", 0.0, 0.0)
    assert outlet.kind == "outlet" and outlet.out_kg == pytest.approx(balance.exported_kg)
    assert balance.boundary_inflow_kg == 0.0
    # everything is accounted for: still in the river, exported, or decayed
    assert balance.in_channel_kg + balance.exported_kg + balance.decayed_kg == pytest.approx(mass, rel=1e-9)


def test_spill_at_the_top_of_a_tributary_reaches_the_main_stem_whole():
    trib = ReachSpec("trib", 3000.0, 2, 3.0, 8.0, 25.0)
    upper = ReachSpec("upper", 5000.0, 2, DISCHARGE_M3S, AREA_M2, DISPERSION_M2S)
    lower = ReachSpec("lower", 10000.0, None, DISCHARGE_M3S + 3.0, AREA_M2 + 8.0, DISPERSION_M2S)
    run = simulate(
        [trib, upper, lower],
        [Release(0, 0.0, mass_kg=80.0)],
        outputs=[OutputPoint(2, 3000.0)],
        horizon_s=16 * 3600.0,
    )
    assert _passed_kg(run, 0, DISCHARGE_M3S + 3.0) == pytest.approx(80.0, rel=5e-3)
    headwaters = [b for b in run.mass_balance.boundaries if b.kind == "headwater"]
    assert sorted(b.name for b in headwaters) == ["trib", "upper"]
    assert all(b.out_kg == 0.0 for b in headwaters)


def test_headwater_inflow_at_background_is_booked_at_its_face():
    background = 0.2
    reaches = [dataclasses.replace(_channel()[0], length_m=6000.0)]
    run = simulate(reaches, outputs=[OutputPoint(0, 3000.0)], horizon_s=7200.0, background_mg_l=background)
    head = run.mass_balance.boundaries[0]
    assert head.in_kg == pytest.approx(DISCHARGE_M3S * background * run.times_s[-1] / 1000.0, rel=1e-12)
    assert np.allclose(run.point_conc_mg_l, background, rtol=1e-12)  # clean water stays clean
