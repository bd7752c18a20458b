"""The active window and the symmetrised solve change the speed of `simulate`, not its answers.

Each case runs the same scenario with the window (the default), on the whole network, and with the
unsymmetrised LAPACK gttrs solve, and requires the same concentrations to ~1e-9 of the peak and an exact
mass balance. A spy on `models.window.factorise` checks that the window really was smaller than the
network, so the comparisons cannot pass by accident.
"""

from __future__ import annotations

import numpy as np
import pytest

import models.transport as transport
import models.window as window
from incident.core.rivers import load_river_file
from incident.demo.seed import DEMO_RIVER
from incident.plume.forecast import build_reach_specs, reach_hydraulics
from models.network import ReachSpec
from models.transport import OutputPoint, Release, simulate
from tests.models.conftest import AREA_M2, DISCHARGE_M3S, uniform_channel

HOURS = 3600.0


@pytest.fixture(scope="module")
def demo():
    net = load_river_file(DEMO_RIVER)
    hydraulics, _ = reach_hydraulics(net)
    specs = build_reach_specs(net, hydraulics)
    index = {r.reach_id: i for i, r in enumerate(net.reaches)}
    snap = net.snap(24.68539, 109.32543)  # Qiaotou bridge, the demo spill
    outputs = [OutputPoint(index[rc.reach_id], rc.offset_m, rc.receptor_id) for rc in net.receptors]
    return specs, index[snap.reach_id], snap.offset_m, outputs


def run_modes(monkeypatch, reaches, releases, **kwargs):
    """(windowed, whole network, whole network with gttrs) results and the window sizes factorised."""
    sizes: list[int] = []
    real = window.factorise

    def spy(op, cells, *args):
        sizes.append(int(cells.size))
        return real(op, cells, *args)

    monkeypatch.setattr(transport, "factorise", spy)
    windowed = simulate(reaches, releases, **kwargs)
    window_sizes = list(sizes)
    monkeypatch.setattr(transport, "_WINDOW", False)
    full = simulate(reaches, releases, **kwargs)
    monkeypatch.setattr(transport, "_SYMMETRIC", False)
    plain = simulate(reaches, releases, **kwargs)
    return windowed, full, plain, window_sizes


def assert_same(a, b, tol=1e-9):
    scale = np.max(np.abs(b.point_conc_mg_l))
    assert scale > 0
    assert np.max(np.abs(a.point_conc_mg_l - b.point_conc_mg_l)) <= tol * scale
    if b.profiles is not None:
        pscale = np.max(np.abs(b.profiles.conc_mg_l))
        assert np.max(np.abs(a.profiles.conc_mg_l - b.profiles.conc_mg_l)) <= tol * pscale
    ma, mb = a.mass_balance, b.mass_balance
    for name in ("exported_kg", "decayed_kg", "in_channel_kg", "in_storage_kg"):
        assert getattr(ma, name) == pytest.approx(getattr(mb, name), rel=1e-9, abs=1e-9 * ma.released_kg)


def test_windowed_slug_on_the_demo_network_equals_the_full_run(monkeypatch, demo):
    specs, reach, offset, outputs = demo
    kwargs = dict(
        outputs=outputs,
        horizon_s=72 * HOURS,
        dx_m=100.0,
        dt_s=100.0,
        output_every_s=600.0,
        decay_per_s=0.05 / 86400,
        profile_times_s=[6 * HOURS, 30 * HOURS, 72 * HOURS],
    )
    windowed, full, plain, sizes = run_modes(
        monkeypatch, specs, [Release(reach, offset, mass_kg=8000.0)], **kwargs
    )
    n_cells = windowed.grid.n_cells
    assert sizes and min(sizes) < n_cells / 4  # the window started small …
    assert max(sizes) < n_cells  # … and never needed the whole network
    assert_same(windowed, full)
    assert_same(full, plain)
    for run in (windowed, full, plain):
        assert abs(run.mass_balance.relative_error) < 1e-11
    # the plume reached the receptors downstream: the comparison is about real numbers
    assert np.count_nonzero(windowed.point_conc_mg_l.max(axis=1) > 1e-3) >= 3


def test_windowed_run_with_a_second_spill_elsewhere_and_a_tributary(monkeypatch, demo):
    """A release on a tributary and, later, a small one far from the first plume: the window must grow
    to a new place and carry the junction coupling."""
    specs, reach, offset, outputs = demo
    releases = [Release(4, 3000.0, mass_kg=100.0), Release(reach, offset, start_s=20000.0, mass_kg=5.0)]
    kwargs = dict(outputs=outputs, horizon_s=48 * HOURS, dx_m=100.0, dt_s=100.0, output_every_s=600.0)
    windowed, full, plain, sizes = run_modes(monkeypatch, specs, releases, **kwargs)
    assert len(sizes) > 2
    assert_same(windowed, full)
    assert_same(full, plain)


def test_continuous_release_reaches_the_mixed_plateau_and_matches_the_full_run(monkeypatch):
    reaches = uniform_channel(length_m=6000.0)
    rate_kg_s = 2e-4
    kwargs = dict(outputs=[OutputPoint(0, 1500.0), OutputPoint(0, 3000.0)], horizon_s=6 * HOURS)
    windowed, full, plain, _ = run_modes(
        monkeypatch, reaches, [Release(0, 500.0, start_s=600.0, mass_rate_kg_s=rate_kg_s)], **kwargs
    )
    assert_same(windowed, full)
    assert_same(full, plain)
    plateau = rate_kg_s * 1000.0 / DISCHARGE_M3S  # mg/L once fully mixed and steady
    assert windowed.point_conc_mg_l[:, -1] == pytest.approx([plateau, plateau], rel=1e-3)
    assert abs(windowed.mass_balance.relative_error) < 1e-11
    assert windowed.mass_balance.released_kg == pytest.approx(rate_kg_s * (6 * HOURS - 600.0))


def test_storage_and_decay_in_the_window(monkeypatch):
    reaches = [
        ReachSpec(
            name="storage",
            length_m=20000.0,
            downstream=None,
            discharge_m3s=DISCHARGE_M3S,
            area_m2=AREA_M2,
            dispersion_m2s=3.0,
            storage_area_m2=3.0,
            exchange_rate_per_s=2e-4,
        )
    ]
    kwargs = dict(
        outputs=[OutputPoint(0, 3000.0), OutputPoint(0, 12000.0)], horizon_s=12 * HOURS, decay_per_s=2e-6
    )
    windowed, full, plain, sizes = run_modes(
        monkeypatch, reaches, [Release(0, 1000.0, mass_kg=1.0)], **kwargs
    )
    assert min(sizes) < windowed.grid.n_cells / 2
    assert_same(windowed, full)
    assert_same(full, plain)
    scale = np.max(full.storage_point_conc_mg_l)
    assert scale > 0
    assert np.max(np.abs(windowed.storage_point_conc_mg_l - full.storage_point_conc_mg_l)) <= 1e-9 * scale


def test_symmetrisation_falls_back_to_gttrs_when_the_scaling_would_overflow():
    """Near the Péclet limit the similarity scaling grows by ~√7 a cell; over a long reach it would leave
    floating point, so the solver factorises the plain tridiagonal instead, and still solves exactly."""
    reaches = [
        ReachSpec(
            name="long",
            length_m=60000.0,
            downstream=None,
            discharge_m3s=10.0,
            area_m2=10.0,
            dispersion_m2s=55.0,
        )
    ]
    grid_dx = 100.0  # Péclet 1·100/55 ≈ 1.8
    from models.grid import build_grid, choose_dx

    grid = build_grid(reaches, choose_dx(reaches, grid_dx), 0.0)
    op, *_ = transport._assemble(grid, 50.0, 0.0, 0.0)
    cells = np.arange(op.n)
    active = np.ones(op.n, dtype=bool)
    system = window.factorise(op, cells, active, cells.copy(), True)
    assert not system.symmetric
    short = window.factorise(op, cells[:200], cells < 200, np.where(cells < 200, cells, -1), True)
    assert short.symmetric
    rhs = np.random.default_rng(1).random(op.n)
    z = system.solve(*system.args, rhs)[0]
    m = np.diag(op.d) + np.diag(op.dl, -1) + np.diag(op.du, 1)
    np.testing.assert_allclose(0.5 * m @ z, rhs, rtol=0, atol=1e-12)


@pytest.mark.parametrize("m", [2, 3])
def test_a_two_cell_window_that_cannot_be_symmetrised_is_solved(m):
    """Two active cells whose neighbours' couplings have opposite signs (cell Péclet > 2) take the general
    solve; scipy's gttrf wrapper refuses n = 2, so two cells are solved by their 2×2 inverse instead.
    Three cells, through LAPACK, are the yardstick."""
    n = 5
    op = window.Operator(
        d=np.full(n, 2.0),
        dl=np.full(n - 1, -0.9),  # M[i+1, i]
        du=np.full(n - 1, 0.3),  # M[i, i+1]: the opposite sign
        off_r=np.zeros(0, np.int64),
        off_c=np.zeros(0, np.int64),
        off_v=np.zeros(0),
        face_up=np.arange(n - 1),
        face_down=np.arange(1, n),
        face_d_up=np.full(n - 1, 0.1),
        face_d_down=np.full(n - 1, 0.1),
    )
    cells = np.arange(1, 1 + m)
    active = np.zeros(n, dtype=bool)
    active[cells] = True
    pos = np.full(n, -1)
    pos[cells] = np.arange(m)
    system = window.factorise(op, cells, active, pos, True)
    assert not system.symmetric
    # M on the cells, with the closed faces' shares taken off the edge cells' diagonal
    local = np.diag(op.d[cells]) + np.diag(op.dl[cells[:-1]], -1) + np.diag(op.du[cells[:-1]], 1)
    local[0, 0] -= op.face_d_down[cells[0] - 1]
    local[-1, -1] -= op.face_d_up[cells[-1]]
    rhs = np.random.default_rng(m).random((m, 2))
    z = system.solve(*system.args, rhs)[0]
    np.testing.assert_allclose(0.5 * local @ z, rhs, rtol=0, atol=1e-14)
