"""The speed-ups of issue 19 return the same answers: per-reach profile slices equal the boolean masks
they replace, the one-call dispersion estimates equal the per-reach ones, and the window's block
dilation equals the sparse-matrix dilation it replaced (so the stepped cells, and the curves, are the same)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from scipy import sparse

from incident.core.rivers import load_river_file
from incident.demo.seed import DEMO_RIVER
from incident.plume.forecast import build_reach_specs, reach_hydraulics
from models import dispersion as dm
from models.hydraulics import hydraulic_radius, shear_velocity
from models.transport import OutputPoint, Release, _Stepper, simulate


def test_one_call_dispersion_equals_per_reach_estimates():
    net = load_river_file(DEMO_RIVER)
    hydraulics, _ = reach_hydraulics(net)
    for r, h in zip(net.reaches, hydraulics, strict=True):
        slope = r.get("slope")
        radius = hydraulic_radius(r.width_m, r.depth_m)
        u_star = float(shear_velocity(radius, slope)) if slope else 0.1 * h.velocity_ms
        for name in dm.FORMULAS:
            one = float(dm.estimate(r.width_m, r.depth_m, h.velocity_ms, u_star, method=name))
            assert h.spread_m2s[name] == pytest.approx(one, rel=1e-12), (r.reach_id, name)


def test_profile_columns_are_contiguous_per_reach():
    net = load_river_file(DEMO_RIVER)
    specs = build_reach_specs(net, reach_hydraulics(net)[0])
    index = {r.reach_id: i for i, r in enumerate(net.reaches)}
    res = simulate(
        specs,
        [Release(index["M03"], 5000.0, duration_s=1800.0, mass_kg=1000.0)],
        outputs=[OutputPoint(index["M08"], 1000.0)],
        horizon_s=6 * 3600.0,
        profile_times_s=[3600.0, 7200.0],
    )
    prof = res.profiles
    bounds = np.searchsorted(prof.reach, np.arange(len(specs) + 1))
    for ri in range(len(specs)):
        mask = prof.reach == ri
        cols = slice(bounds[ri], bounds[ri + 1])
        np.testing.assert_array_equal(prof.offset_m[cols], prof.offset_m[mask])
        np.testing.assert_array_equal(prof.conc_mg_l[:, cols], prof.conc_mg_l[:, mask])


def _sparse_dilation(pairs: np.ndarray, n: int, mask: np.ndarray, steps: int, both: bool) -> np.ndarray:
    """The replaced implementation: powers of (I + D [+ Dᵀ]) as boolean sparse matrices."""
    one = sparse.identity(n, format="csr")
    down = sparse.csr_matrix((np.ones(len(pairs)), (pairs[:, 1], pairs[:, 0])), shape=(n, n))
    step = ((one + down + down.T) if both else (one + down)).astype(bool).astype(float)
    grow = one
    for _ in range(steps):
        grow = (grow @ step).astype(bool).astype(float)
    return grow @ mask > 0


@pytest.mark.parametrize("both", [True, False])
def test_block_dilation_equals_the_sparse_matrix_powers(both):
    rng = np.random.default_rng(3)
    # a branched block graph: a main stem 0..29 and a tributary 30..39 joining block 12
    pairs = np.array([(i, i + 1) for i in range(29)] + [(i, i + 1) for i in range(30, 39)] + [(39, 12)])
    stepper = SimpleNamespace(down_pairs=pairs)
    for _ in range(20):
        mask = rng.random(40) < 0.08
        for steps in (0, 1, 3, 6):
            got = _Stepper.dilate(stepper, mask, steps, both)
            np.testing.assert_array_equal(got, _sparse_dilation(pairs, 40, mask, steps, both))
