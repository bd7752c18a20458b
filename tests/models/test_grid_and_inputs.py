"""Grid checks (Péclet, Courant) and refusal of bad inputs, with messages that say what to do."""

import re

import numpy as np
import pytest

from models.grid import GridTooCoarse
from models.transport import InletSeries, OutputPoint, Release, simulate
from tests.models.conftest import DISPERSION_M2S, VELOCITY_MS, uniform_channel

SLUG = [Release(0, 500.0, mass_kg=1.0)]


def test_automatic_grid_meets_the_limits():
    run = simulate(uniform_channel(), SLUG, horizon_s=3000.0)
    grid = run.grid
    assert grid.max_peclet <= 2.0 and grid.max_courant <= 1.0 + 1e-9
    assert grid.max_peclet == pytest.approx(VELOCITY_MS * grid.dx_m / DISPERSION_M2S)
    assert "Crank–Nicolson" in grid.method
    assert grid.n_steps * grid.dt_s == pytest.approx(3000.0)


def test_too_coarse_cells_are_refused_with_a_working_dx():
    with pytest.raises(GridTooCoarse) as err:
        simulate(uniform_channel(), SLUG, horizon_s=3000.0, dx_m=100.0)
    message = str(err.value)
    assert "Péclet" in message and "25" in message  # U·dx/D = 0.5·100/2
    suggested = float(re.search(r"dx_m ≤ ([0-9.]+)", message).group(1))
    assert suggested == pytest.approx(2 * DISPERSION_M2S / VELOCITY_MS, rel=1e-3)
    assert simulate(uniform_channel(), SLUG, horizon_s=3000.0, dx_m=suggested).grid.max_peclet <= 2.0 + 1e-6
    assert isinstance(err.value, ValueError)


def test_too_long_steps_are_refused_with_a_working_dt():
    # Crank–Nicolson is stable at any Courant number; steps beyond Cr = 10 are refused (sampling)
    assert simulate(uniform_channel(), SLUG, horizon_s=3000.0, dx_m=5.0, dt_s=60.0).grid.max_courant == (
        pytest.approx(6.0)
    )
    with pytest.raises(GridTooCoarse) as err:
        simulate(uniform_channel(), SLUG, horizon_s=3000.0, dx_m=5.0, dt_s=120.0)
    message = str(err.value)
    assert "Courant" in message and "12" in message  # 0.5·120/5
    suggested = float(re.search(r"dt_s ≤ ([0-9.]+)", message).group(1))
    assert suggested == pytest.approx(10 * 5.0 / VELOCITY_MS, rel=1e-3)
    simulate(uniform_channel(), SLUG, horizon_s=3000.0, dx_m=5.0, dt_s=suggested)


def test_output_every_sets_the_sampling():
    run = simulate(
        uniform_channel(), SLUG, outputs=[OutputPoint(0, 900.0)], horizon_s=3000.0, output_every_s=60.0
    )
    assert np.allclose(np.diff(run.times_s), 60.0)
    assert run.times_s[-1] == pytest.approx(3000.0)
    assert run.point_conc_mg_l.shape == (1, run.times_s.size)


def test_profiles_and_progress():
    calls = []
    run = simulate(
        uniform_channel(), SLUG, horizon_s=3000.0, profile_times_s=[0.0, 1000.0], progress=calls.append
    )
    assert 1 <= len(calls) <= 101 and calls[-1] == 1.0 and calls == sorted(calls)
    profiles = run.profiles
    assert profiles.conc_mg_l.shape == (2, run.grid.n_cells)
    peak_offset = profiles.offset_m[np.argmax(profiles.conc_mg_l[1])]
    assert peak_offset == pytest.approx(500.0 + VELOCITY_MS * profiles.times_s[1], abs=2 * run.grid.dx_m)
    mass = profiles.conc_mg_l[1].sum() * run.grid.dx_m * 10.0 / 1000.0
    assert mass == pytest.approx(1.0, rel=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"releases": [Release(0, 500.0, mass_kg=-1.0)]}, "release 0: mass_kg must be"),
        ({"releases": [Release(0, 500.0, mass_rate_kg_s=-1.0)]}, "mass_rate_kg_s must be"),
        ({"releases": [Release(0, 500.0)]}, "exactly one of mass_kg"),
        ({"releases": [Release(0, 500.0, mass_kg=1.0, mass_rate_kg_s=1.0)]}, "exactly one of mass_kg"),
        (
            {"releases": [Release(3, 500.0, mass_kg=1.0)]},
            r"release 0: reach = 3 is not a reach index; use 0..0",
        ),
        ({"releases": [Release(0, 7000.0, mass_kg=1.0)]}, r"offset_m = 7000.0 is outside reach 0"),
        ({"releases": [Release(0, 50.0, start_s=-5.0, mass_kg=1.0)]}, "start_s must be"),
        ({"outputs": [OutputPoint(0, -1.0)]}, "output point 0: offset_m"),
        ({"horizon_s": 0.0}, "horizon_s must be a positive"),
        ({"horizon_s": -10.0}, "horizon_s must be a positive"),
        ({"decay_per_s": -1e-3}, "decay_per_s must be"),
        ({"dx_m": 0.0}, "dx_m must be a positive"),
        ({"inlets": [InletSeries(0, np.array([1.0, 0.0]), np.array([1.0, 1.0]))]}, "non-decreasing"),
        ({"inlets": [InletSeries(0, np.array([0.0]), np.array([-1.0]))]}, "conc_mg_l must be ≥ 0"),
    ],
)
def test_bad_inputs_are_refused_by_name(kwargs, pattern):
    args = {"releases": SLUG, "horizon_s": 1000.0} | kwargs
    releases = args.pop("releases")
    with pytest.raises(ValueError, match=pattern):
        simulate(uniform_channel(), releases, **args)


def test_zero_dispersion_is_refused_with_a_hint():
    reaches = uniform_channel()
    import dataclasses

    reaches = [dataclasses.replace(reaches[0], dispersion_m2s=0.0)]
    with pytest.raises(ValueError, match="dispersion_spread"):
        simulate(reaches, SLUG, horizon_s=1000.0)


def _fast_channel():
    """A strongly dispersive channel (D 500 m²/s; on 100 m cells r, not Courant, used to set Δt) with
    three stations, at 10, 20 and 30 km."""
    from models.network import ReachSpec

    channel = [ReachSpec("fast", 60_000.0, None, 50.0, 50.0, 500.0)]  # U 1 m/s
    return channel, [OutputPoint(0, x, f"{x:g}") for x in (10_000.0, 20_000.0, 30_000.0)]


def _runs(duration_s: float) -> tuple:
    """One release of 1 kg at 2 km, on the automatic step and on the r = 2 step."""
    channel, outputs = _fast_channel()
    release = [Release(0, 2000.0, mass_kg=1.0, duration_s=duration_s)]
    kw = {"horizon_s": 12 * 3600.0, "dx_m": 100.0, "output_every_s": 300.0, "profile_times_s": [300.0, 600.0]}
    auto = simulate(channel, release, outputs=outputs, **kw)
    r_2 = simulate(channel, release, outputs=outputs, dt_s=37.5, **kw)  # r = 1.875: 300 s / 8
    return auto, r_2


def _exact(times_s: np.ndarray, duration_s: float) -> np.ndarray:
    """The slug solution at each station, averaged over 600 sub-releases spread across the duration."""
    from models.analytic import slug

    subs = (np.arange(600) + 0.5) * duration_s / 600
    return np.array(
        [
            np.mean(
                [
                    slug(x - 2000.0, np.maximum(times_s - s, 1e-9), 1.0, 50.0, 1.0, 500.0) * (times_s > s)
                    for s in subs
                ],
                axis=0,
            )
            for x in (10_000.0, 20_000.0, 30_000.0)
        ]
    )


def test_automatic_step_keeps_the_curves():
    """Issue 19: a release spread over time may take diffusion numbers up to 8 (was 2), which cut the demo's
    steps 3.3×. The curves must stay as close to the exact answer as on the old step, with no wiggles."""
    auto, r_2 = _runs(1800.0)
    assert auto.grid.max_diffusion_number == pytest.approx(5.0)  # Courant (1.0) binds now, not r
    assert auto.grid.n_steps * 2.5 <= r_2.grid.n_steps
    exact = _exact(auto.times_s, 1800.0)
    peak = exact.max(axis=1)
    auto_err = np.abs(auto.point_conc_mg_l - exact).max(axis=1) / peak
    r_2_err = np.abs(r_2.point_conc_mg_l - exact).max(axis=1) / peak
    assert np.all(auto_err < 0.003)  # measured 0.23 %, 0.15 %, 0.11 % of peak (the 100 m cells dominate)
    assert np.all(auto_err < r_2_err + 0.0005)  # and within 0.05 % of peak of the r = 2 step
    assert auto.profiles is not None and auto.profiles.conc_mg_l.min() >= 0.0


def test_an_instantaneous_release_keeps_the_r_2_step():
    """Dropped into one or two cells at once, a release excites the grid-scale modes Crank–Nicolson damps
    least: at r = 5 the first profile dips far below zero. The automatic step stays at r ≤ 2 and has none."""
    auto, _ = _runs(0.0)
    assert auto.grid.max_diffusion_number <= 2.0 + 1e-9
    assert auto.profiles is not None and auto.profiles.conc_mg_l.min() >= 0.0
    channel, _ = _fast_channel()
    wiggly = simulate(
        channel,
        [Release(0, 2000.0, mass_kg=1.0)],
        dx_m=100.0,
        dt_s=100.0,
        horizon_s=300.0,
        profile_times_s=[100.0],
    )
    assert wiggly.grid.max_diffusion_number == pytest.approx(5.0)
    assert wiggly.profiles is not None
    assert wiggly.profiles.conc_mg_l.min() < -0.1 * wiggly.profiles.conc_mg_l.max()  # measured −21 %
