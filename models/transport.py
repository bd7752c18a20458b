"""One-dimensional solute transport with transient storage on a branched river network (OTIS equations).

Main channel (Runkel 1998, OTIS, USGS WRIR 98-4018):

    ∂C/∂t = −(Q/A)∂C/∂x + (1/A)∂/∂x(A·D·∂C/∂x) + (q_L/A)(C_L − C) + α(C_S − C) − λC
    dC_S/dt = α(A/A_S)(C − C_S) − λ_S·C_S

Scheme, and why
---------------
* Finite volumes in conservative form (face fluxes Q·C_face + A·D·∂C/∂x), so mass is conserved to
  rounding, including at confluences where the tributaries' fluxes enter the first cell of the
  receiving reach (flow-weighted mixing follows from the fluxes).
* Central differences in space and Crank–Nicolson in time: second order in both, unconditionally
  stable, and the system matrix is constant for steady flow, so it is factorised once (per window).
  CN is *not* monotone: it needs cell Péclet U·Δx/D ≤ 2 and we hold Courant U·Δt/Δx ≤ 1
  (see `models.grid` for the checks and the automatic choice). Upwinding would be monotone but adds a
  numerical dispersion U·Δx(1 − Cr)/2 comparable to the physical D on 100 m cells, so we do not use it.
* Each step is written as one half-step of backward Euler followed by extrapolation,
  (I − Δt/2·A)·Ȳ = Cⁿ + Δt/2·s̄,  Cⁿ⁺¹ = 2Ȳ − Cⁿ — algebraically CN, with no matrix–vector product.
  Ȳ is the step-mean concentration, which also gives the outlet export and the decayed mass exactly.
* Transient storage is decoupled as in OTIS: the storage equation (CN as well) is solved for C_S in
  terms of the channel value and substituted, which only changes the matrix diagonal; C_S is then
  updated cell by cell.
* The cells are laid out so that the main stem is contiguous (`network.network_order`): the matrix is
  tridiagonal except for one coupling pair per side-tributary junction. The tridiagonal part is
  symmetrised by a diagonal similarity (both off-diagonals of a row pair have the sign of −(K ± Q/2) < 0
  when Pe < 2) and factorised once as L·D·Lᵀ (LAPACK ``pttrf``); ``pttrs`` has no division on its
  critical path and is ~2.5× faster than the general ``gttrs`` (used instead when the scaling would span
  more than ~10²⁰⁰, e.g. long reaches near Pe = 2). Junction couplings are folded in exactly with the
  Sherman–Morrison–Woodbury identity (a k×k capacitance matrix, k = 2 per junction). See `models.window`.
* Active window. When the river is otherwise clean (background 0, no lateral or boundary sources of
  tracer), only the cells holding more than ``WINDOW_TOL`` (1e-10) of the current peak, channel or
  storage, are stepped, plus a margin of cells sized so that one implicit step carries less than that
  tolerance across it (ρᵏ < tol, ρ the per-cell decay of a column of M⁻¹: ~50 cells on the demo grid),
  with more room downstream. The window is a union of 32-cell blocks grown along faces, so a
  tributary mouth that tracer disperses into joins it; its edge faces are closed (mass-conserving) and
  the cells outside keep their (negligible) values, so the mass balance stays exact to rounding. Every
  8 steps the cells near a closed face are checked against the tolerance (the window grows, and is
  refactorised, if they exceed it); every 128 steps it is reviewed and may shrink. Sources starting
  (impulses, releases, inlet series) make sure their cells are inside first. The result equals the
  whole-network solve to ~1e-12 of the peak (tests/models/test_window.py). With a background
  concentration or tracer-carrying inflows every cell is active.
* Solving with (I − Δt/2·A)/2 returns 2Ȳ, so the update is a single subtraction Cⁿ⁺¹ = 2Ȳ − Cⁿ.

Boundaries: a headwater's upstream face is a flux (Danckwerts) boundary: water enters at the
concentration given (background, or an `InletSeries`) and carries mass flux Q·C_in; there is no
dispersive flux through it, so tracer released near the top of a headwater cannot disperse out of the
river (a prescribed-concentration face lost 57–80 % of a spill at km 0 that way). This is also what
OTIS-type codes do for a tracer injection (the injected flux enters, all of it goes downstream). The
outlet has zero gradient (advective export only). `MassBalance.boundaries` states what crossed each face.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

import numpy as np

from models.grid import (
    GridInfo,
    GridTooCoarse,
    NetworkGrid,
    build_grid,
    check_peclet,
    choose_dt,
    choose_dx,
    grid_numbers,
)
from models.network import ReachSpec, upstream_reaches, validate_network
from models.window import Operator, factorise

__all__ = [
    "Release",
    "InletSeries",
    "OutputPoint",
    "Profiles",
    "MassBalance",
    "BoundaryFlux",
    "SimulationResult",
    "GridTooCoarse",
    "GridInfo",
    "simulate",
]

METHOD = "Crank–Nicolson, central differences, finite volumes; OTIS-decoupled transient storage"
MAX_STEPS = 5_000_000
_G_PER_KG = 1000.0  # 1 kg in 1 m³ = 1000 g/m³ = 1000 mg/L


@dataclass(frozen=True)
class Release:
    """A spill: `mass_kg` (instantaneous if `duration_s` = 0, else spread evenly over the duration) or
    `mass_rate_kg_s` (for `duration_s`, or until the horizon when `duration_s` = 0)."""

    reach: int
    offset_m: float
    start_s: float = 0.0
    duration_s: float = 0.0
    mass_kg: float | None = None
    mass_rate_kg_s: float | None = None


@dataclass(frozen=True)
class InletSeries:
    """Concentration at a headwater reach's upstream boundary, linear between samples (repeat a time for
    a step), held constant before the first and after the last sample."""

    reach: int
    times_s: np.ndarray
    conc_mg_l: np.ndarray


@dataclass(frozen=True)
class OutputPoint:
    reach: int
    offset_m: float
    label: str = ""


@dataclass(frozen=True)
class Profiles:
    """Longitudinal profiles: cells sorted by (reach, offset); rows of `conc_mg_l` are `times_s`."""

    times_s: np.ndarray  # (n_profiles,) actual step times (requests are rounded to the nearest step)
    reach: np.ndarray  # (n_cells,)
    offset_m: np.ndarray  # (n_cells,) cell centre, metres from the reach's upstream end
    conc_mg_l: np.ndarray  # (n_profiles, n_cells)
    storage_conc_mg_l: np.ndarray  # (n_profiles, n_cells)


@dataclass(frozen=True)
class BoundaryFlux:
    """Mass that crossed one boundary face over the run (kg): a headwater's top or the outlet."""

    kind: str  # "headwater" or "outlet"
    reach: int
    name: str
    in_kg: float
    out_kg: float


@dataclass(frozen=True)
class MassBalance:
    """Mass budget over the run (kg). `relative_error` = residual / total input, ~1e-13–1e-12 for this scheme.

    inputs:  initial + released + boundary_inflow + lateral_inflow
    outputs: in_channel + in_storage + exported + decayed + withdrawn
    `boundary_inflow_kg` is the net flux through headwater boundaries (advective in; with the flux
    boundary nothing disperses back out); `withdrawn_kg` leaves with lateral outflows or confluence flow
    losses. `boundaries` lists what crossed each headwater face and the outlet, in and out.
    """

    released_kg: float
    in_channel_kg: float
    in_storage_kg: float
    exported_kg: float
    decayed_kg: float
    relative_error: float
    initial_kg: float = 0.0
    boundary_inflow_kg: float = 0.0
    lateral_inflow_kg: float = 0.0
    withdrawn_kg: float = 0.0
    boundaries: tuple[BoundaryFlux, ...] = ()


@dataclass(frozen=True)
class SimulationResult:
    times_s: np.ndarray  # (n_t,)
    point_conc_mg_l: np.ndarray  # (n_points, n_t)
    point_labels: tuple[str, ...]
    profiles: Profiles | None
    grid: GridInfo
    mass_balance: MassBalance
    storage_point_conc_mg_l: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


# ----------------------------------------------------------------------------------------------
# input checks


def _finite(value: object) -> TypeGuard[int | float | np.floating[Any] | np.integer[Any]]:
    return isinstance(value, int | float | np.floating | np.integer) and math.isfinite(float(value))


def _check_location(
    kind: str, index: int, reach: object, offset_m: object, reaches: Sequence[ReachSpec]
) -> None:
    n = len(reaches)
    if isinstance(reach, bool) or not isinstance(reach, int | np.integer) or not 0 <= int(reach) < n:
        raise ValueError(f"{kind} {index}: reach = {reach!r} is not a reach index; use 0..{n - 1}")
    if not _finite(offset_m):
        raise ValueError(f"{kind} {index}: offset_m must be a finite number of metres (got {offset_m!r})")
    length = reaches[int(reach)].length_m
    if not 0.0 <= float(offset_m) <= length:
        raise ValueError(
            f"{kind} {index}: offset_m = {offset_m!r} is outside reach {reach} ({reaches[int(reach)].name!r}), "
            f"which runs from 0 to {length:g} m; give the distance from that reach's upstream end"
        )


def _check_release(i: int, rel: Release, reaches: Sequence[ReachSpec]) -> None:
    _check_location("release", i, rel.reach, rel.offset_m, reaches)
    for name in ("start_s", "duration_s"):
        value = getattr(rel, name)
        if not _finite(value) or value < 0:
            raise ValueError(f"release {i}: {name} must be a finite number ≥ 0 seconds (got {value!r})")
    if (rel.mass_kg is None) == (rel.mass_rate_kg_s is None):
        raise ValueError(
            f"release {i}: give exactly one of mass_kg (total) or mass_rate_kg_s (continuous); "
            f"got mass_kg={rel.mass_kg!r}, mass_rate_kg_s={rel.mass_rate_kg_s!r}"
        )
    name = "mass_kg" if rel.mass_kg is not None else "mass_rate_kg_s"
    value = getattr(rel, name)
    if not _finite(value) or value < 0:
        raise ValueError(
            f"release {i}: {name} must be a finite number ≥ 0 (got {value!r}); masses are positive"
        )


def _check_inlet(i: int, inlet: InletSeries, reaches: Sequence[ReachSpec], ups: list[list[int]]) -> None:
    _check_location("inlet", i, inlet.reach, 0.0, reaches)
    if ups[int(inlet.reach)]:
        raise ValueError(
            f"inlet {i}: reach {inlet.reach} ({reaches[int(inlet.reach)].name!r}) is not a headwater "
            f"(reaches {ups[int(inlet.reach)]} drain into it); put the series on a reach with nothing upstream"
        )
    times = np.asarray(inlet.times_s, dtype=float)
    conc = np.asarray(inlet.conc_mg_l, dtype=float)
    if times.ndim != 1 or times.shape != conc.shape or times.size == 0:
        raise ValueError(f"inlet {i}: times_s and conc_mg_l must be 1-D arrays of the same, non-zero length")
    if not (np.all(np.isfinite(times)) and np.all(np.isfinite(conc))):
        raise ValueError(f"inlet {i}: times_s and conc_mg_l must be finite")
    if np.any(np.diff(times) < 0):
        raise ValueError(f"inlet {i}: times_s must be non-decreasing (repeat a time to make a step)")
    if np.any(conc < 0):
        raise ValueError(f"inlet {i}: conc_mg_l must be ≥ 0")


# ----------------------------------------------------------------------------------------------
# sources in time


def _step_overlap_s(step_times: np.ndarray, start_s: float, end_s: float) -> np.ndarray:
    """Seconds of [start, end] inside each step [t_n, t_{n+1}]."""
    lo = np.maximum(step_times[:-1], start_s)
    hi = np.minimum(step_times[1:], end_s)
    return np.clip(hi - lo, 0.0, None)


def _series_integral(times_s: np.ndarray, conc: np.ndarray, at_s: np.ndarray) -> np.ndarray:
    """∫ C dt from times_s[0] to each of `at_s` for the piecewise-linear series (exact, steps allowed)."""
    widths = np.diff(times_s)
    cumulative = np.concatenate([[0.0], np.cumsum(0.5 * widths * (conc[:-1] + conc[1:]))])
    k = np.clip(np.searchsorted(times_s, at_s, side="right") - 1, 0, times_s.size - 1)
    slope = np.zeros_like(conc)
    nonzero = widths > 0
    slope[:-1][nonzero] = np.diff(conc)[nonzero] / widths[nonzero]
    slope[-1] = 0.0
    tau = at_s - times_s[k]
    before = at_s < times_s[0]
    slope_k = np.where(before, 0.0, slope[k])
    return cumulative[k] + tau * (conc[k] + 0.5 * slope_k * tau)


def _release_cells(grid: NetworkGrid, reach: int, offset_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Split a point release between the two nearest cell centres of its reach (keeps its centroid)."""
    a, b, wa, wb = grid.locate(reach, offset_m)
    if a == b or wb == 0.0:
        return np.array([a]), np.array([1.0])
    return np.array([a, b]), np.array([wa, wb])


# ----------------------------------------------------------------------------------------------
# system matrix


def _assemble(
    grid: NetworkGrid, dt_s: float, decay_per_s: float, storage_decay_per_s: float
) -> tuple[Operator, np.ndarray, np.ndarray, np.ndarray]:
    """Assemble M = I − Δt/2·A with storage folded in (see `models.window`); return it and the storage
    coefficients."""
    n = grid.n_cells
    volume = grid.volume_m3
    theta = 0.5 * dt_s

    up, down = grid.face_up, grid.face_down
    q, k = grid.face_q_m3s, grid.face_conductance_m3s
    a_uu = -(q * grid.face_w_up + k)  # entries of the mass-form operator L (m³/s)
    a_ud = -(q * grid.face_w_down - k)
    r = np.concatenate([up, up, down, down])
    c = np.concatenate([up, down, up, down])
    v = -theta * np.concatenate([a_uu, a_ud, -a_uu, -a_ud]) / volume[r]  # −θ·A
    diag = np.zeros(n)
    np.add.at(diag, grid.inlet_cell, -grid.inlet_conductance_m3s)
    diag[grid.outlet_cell] -= grid.outlet_q_m3s
    diag -= grid.withdrawal_m3s
    diag -= decay_per_s * volume

    alpha = grid.cell_exchange_per_s
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha_s = np.where(
            grid.cell_storage_area_m2 > 0, alpha * grid.cell_area_m2 / grid.cell_storage_area_m2, 0.0
        )
    storage_den = 1.0 + theta * (alpha_s + storage_decay_per_s)
    # channel diagonal after substituting the storage update (OTIS decoupling)
    extra_diag = theta * alpha - theta**2 * alpha * alpha_s / storage_den

    d = 1.0 - theta * diag / volume + extra_diag
    dl = np.zeros(max(n - 1, 0))
    du = np.zeros(max(n - 1, 0))
    on_diag = r == c
    np.add.at(d, r[on_diag], v[on_diag])
    upper = c == r + 1
    np.add.at(du, r[upper], v[upper])
    lower = c == r - 1
    np.add.at(dl, c[lower], v[lower])
    off = ~(on_diag | upper | lower)
    op = Operator(
        d=d,
        dl=dl,
        du=du,
        off_r=r[off],
        off_c=c[off],
        off_v=v[off],
        face_up=up,
        face_down=down,
        face_d_up=-theta * a_uu / volume[up],
        face_d_down=theta * a_ud / volume[down],
    )
    storage_rhs_coef = theta * alpha / storage_den  # rhs += coef·C_S
    storage_y_coef = theta * alpha_s  # Y_S = (C_S + coef_y·Y)/den
    return op, storage_rhs_coef, storage_y_coef, 1.0 / storage_den


# ----------------------------------------------------------------------------------------------
# stepping on the active cells

_WINDOW = True  # step only the active window when the river is otherwise clean (tests switch it off)
_SYMMETRIC = True  # symmetrised tridiagonal solve where possible (tests switch it off)
WINDOW_TOL = 1e-10  # cells below this fraction of the peak (channel or storage) may be left out
_BLOCK_CELLS = 32  # the window is a union of blocks of consecutive cells
_MIN_REACH_CELLS = 32  # margin beyond the last cell above the tolerance, at least (plus one step's reach)
_AHEAD_BLOCKS = 6  # extra blocks downstream when the window grows (fewer refactorisations)
_CHECK_EVERY = 8  # steps between guard checks (the tolerance contour moves ~1–2 cells a step)
_REVIEW_EVERY = 128  # steps between full reviews (which may also shrink the window)
_SHRINK_BLOCKS = 8  # shrink only when at least this many blocks can go (each rebuild costs a factorisation)


def _unique_rows(a: np.ndarray) -> np.ndarray:
    """The distinct rows of the 2-D integer array ``a``, sorted: ``np.unique(a, axis=0)``.

    Not ``np.unique`` itself: from numpy 2.3 its first call imports ``numpy.ma`` (~25 ms), a
    twentieth of the forecast command's 0.5 s budget (issue 19)."""
    if a.shape[0] == 0:
        return a
    order = np.lexsort(a.T[::-1])
    a = a[order]
    first = np.concatenate(([True], np.any(a[1:] != a[:-1], axis=1)))
    return a[first]


class _Stepper:
    """The Crank–Nicolson state on the active cells: all of them, or a window that follows the plume.

    The whole-network arrays (`conc`, `storage`, `mean_sum`, `storage_mean_sum`) hold the truth for
    the inactive cells, which do not change; the active cells live in local arrays scaled by Δ⁻¹
    (`models.window`) and are written back by `flush` before every change of the window and at the end.
    """

    def __init__(
        self,
        op: Operator,
        conc: np.ndarray,
        storage: np.ndarray,
        mean_sum: np.ndarray,
        storage_mean_sum: np.ndarray,
        storage_coefs: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
        constant_rhs: np.ndarray | None,
        channels: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
        *,
        windowed: bool,
        point_cells: tuple[np.ndarray, np.ndarray],
        point_weights: tuple[np.ndarray, np.ndarray],
    ) -> None:
        self.op = op
        n = op.n
        self.conc, self.storage = conc, storage
        self.mean_sum, self.storage_mean_sum = mean_sum, storage_mean_sum
        self.storage_coefs = storage_coefs
        self.constant_rhs = constant_rhs
        self.channels = []  # (cells, conc per gram, grams per step, first and last step with grams)
        for cells, per_g, grams in channels:
            steps = np.flatnonzero(grams)
            self.channels.append((cells, per_g, grams, int(steps[0]), int(steps[-1])))
        self.windowed = windowed
        self.pa, self.pb = point_cells
        self.wa, self.wb = point_weights
        self.block_of = np.arange(n) // _BLOCK_CELLS
        self.n_blocks = int(self.block_of[-1]) + 1 if n else 0
        # block neighbours, from upstream to downstream: through a face, or next in memory (cheap
        # insurance for the guard, which looks at neighbours in memory)
        ba = np.concatenate([self.block_of[op.face_up], np.arange(self.n_blocks - 1)])
        bb = np.concatenate([self.block_of[op.face_down], np.arange(1, self.n_blocks)])
        cross = ba != bb
        self.down_pairs = _unique_rows(np.stack([ba[cross], bb[cross]], axis=1))
        if windowed:
            self._margins()
        self.blocks = np.zeros(self.n_blocks, dtype=bool)
        self.active = np.zeros(n, dtype=bool)
        self.pos = np.full(n, -1, dtype=np.int64)
        self.local = factorise(op, np.zeros(0, np.int64), self.active, self.pos, _SYMMETRIC)
        self.thr = 0.0
        self.rebuilds = 0
        self._load(0)

    # -- window bookkeeping

    def _margins(self) -> None:
        """Size the window's margin from how far one implicit step carries a unit source: below the
        tolerance after k cells where ρᵏ = tol, ρ the decay per cell of a column of M⁻¹ (from the roots
        of each row's recurrence M[i,i−1]·x₋ + M[i,i]·x + M[i,i+1]·x₊ = 0)."""
        op = self.op
        rho = 0.0
        if op.n > 2:
            lower, diag, upper = op.dl[:-1], op.d[1:-1], op.du[1:]
            root = diag + np.sqrt(np.maximum(diag**2 - 4.0 * lower * upper, 0.0))
            rho = float(np.max(2.0 * np.maximum(np.abs(lower), np.abs(upper)) / root))
        if not 0.0 < rho < 1.0:
            self.windowed = False  # cannot bound the reach of a step: step the whole network
            return
        reach = math.ceil(math.log(WINDOW_TOL) / math.log(rho))
        margin = max(reach, _MIN_REACH_CELLS) + 2 * _CHECK_EVERY
        self.guard_cells = margin // 2
        self.near_steps = -(-margin // _BLOCK_CELLS)  # block dilations along faces either way

    def dilate(self, mask: np.ndarray, steps: int, both: bool) -> np.ndarray:
        """`mask` grown by `steps` blocks along block neighbours: downstream only, or both ways."""
        up, down = self.down_pairs[:, 0], self.down_pairs[:, 1]
        for _ in range(steps):
            grown = mask.copy()
            grown[down[mask[up]]] = True
            if both:
                grown[up[mask[down]]] = True
            mask = grown
        return mask

    def start(self, step: int, cells: np.ndarray | None) -> None:
        if not self.windowed:
            self._set_blocks(np.ones(self.n_blocks, dtype=bool), step)
        elif cells is not None:
            self.review(step, cells, force=True)

    def _blocks_of(self, cells: np.ndarray) -> np.ndarray:
        mask = np.zeros(self.n_blocks, dtype=bool)
        mask[self.block_of[cells]] = True
        return mask

    def _significant(self) -> np.ndarray:
        loc = self.local
        if loc.cells.size == 0:
            return np.zeros(0, np.int64)
        size = np.abs(self.c * loc.scale)
        if self.storage_coefs is not None:
            np.maximum(size, np.abs(self.s * loc.scale), out=size)
        peak = float(size.max())
        self.thr = WINDOW_TOL * peak
        return loc.cells[size > self.thr] if peak > 0 else np.zeros(0, np.int64)

    def review(self, step: int, extra: np.ndarray | None = None, force: bool = False) -> bool:
        """Grow the window if the cells above the tolerance (and the sources live at `step`, and
        `extra`) are not all `inner_blocks` inside it; shrink it when many blocks have become idle.
        True if it changed (call `hot` again)."""
        core = self._blocks_of(self._significant())
        for cells, _, _, first, last in self.channels:
            if first <= step <= last:
                core[self.block_of[cells]] = True
        if extra is not None:
            core[self.block_of[extra]] = True
        if not core.any():
            return False
        need = self.dilate(core, self.near_steps, both=True)
        want = self.dilate(need, _AHEAD_BLOCKS, both=False)
        if force or np.any(need & ~self.blocks):
            self._set_blocks(want, step)
            return True
        if int(np.count_nonzero(self.blocks & ~want)) >= _SHRINK_BLOCKS:
            self._set_blocks(self.blocks & want, step)
            return True
        return False

    def check(self, step: int, review: bool) -> bool:
        """Between steps: review the window if it is time, or if a guard cell (near a closed face) came
        above the tolerance. True if the window changed (call `hot` again)."""
        if not review:
            guard = self.guard
            if guard.size == 0:
                return False
            scale = self.local.scale[guard]
            size = float(np.max(np.abs(self.c[guard] * scale)))
            if self.storage_coefs is not None:
                size = max(size, float(np.max(np.abs(self.s[guard] * scale))))
            if size <= self.thr:
                return False
        return self.review(step)

    def event(
        self, step: int, needed: list[np.ndarray], impulse: tuple[np.ndarray, np.ndarray] | None
    ) -> bool:
        """Sources that start at `step` (and impulses added now) need their cells well inside the
        window. True if the window changed."""
        changed = False
        if self.windowed:
            changed = self.review(step, np.concatenate(needed))
        if impulse is not None:
            cells, values = impulse
            where = self.pos[cells]
            np.add.at(self.c, where, values / self.local.scale[where])
        return changed

    def _set_blocks(self, blocks: np.ndarray, step: int) -> None:
        self.flush()
        self.rebuilds += 1
        self.blocks = blocks
        self.active = blocks[self.block_of]
        self.pos[self.local.cells] = -1
        cells = np.flatnonzero(self.active)
        self.pos[cells] = np.arange(cells.size)
        self.local = factorise(self.op, cells, self.active, self.pos, _SYMMETRIC)
        self._load(step)

    def _load(self, step: int) -> None:
        loc = self.local
        cells, scale = loc.cells, loc.scale
        self.c = self.conc[cells] / scale
        self.s = self.storage[cells] / scale
        self.msum = np.zeros(cells.size)
        self.smsum = np.zeros(cells.size)
        if self.storage_coefs is not None:
            rhs_coef, y_coef, inv_den = self.storage_coefs
            self.rcoef, self.ycoef, self.invden = rhs_coef[cells], 0.5 * y_coef[cells], inv_den[cells]
        else:
            self.rcoef = self.ycoef = self.invden = None
        self.base = None if self.constant_rhs is None else self.constant_rhs[cells] / scale
        self.chans = []
        self.chans_last = -1
        for ch_cells, per_g, grams, _, last in self.channels:
            where = self.pos[ch_cells]
            if last >= step and np.all(where >= 0):
                self.chans.append((where, 0.5 * per_g / scale[where], grams))
                self.chans_last = max(self.chans_last, last)
        # point stencils: active cells read the local state, inactive ones are frozen
        pts = []
        for cells_p, w in ((self.pa, self.wa), (self.pb, self.wb)):
            where = self.pos[cells_p]
            inside = where >= 0
            where0 = np.where(inside, where, 0)
            pts.append((where0, np.where(inside, w * scale[where0] if scale.size else 0.0, 0.0), inside))
        (la, sa, ia), (lb, sb, ib) = pts
        const = np.where(ia, 0.0, self.wa * self.conc[self.pa]) + np.where(
            ib, 0.0, self.wb * self.conc[self.pb]
        )
        const_s = np.where(ia, 0.0, self.wa * self.storage[self.pa]) + np.where(
            ib, 0.0, self.wb * self.storage[self.pb]
        )
        if cells.size == 0:  # nothing active: a one-cell dummy state keeps the gathers valid
            self.c = np.zeros(1)
            self.s = np.zeros(1)
        self.pt = (la, sa, lb, sb, const, const_s)
        if loc.closed_inside.size and self.windowed:
            near = (loc.closed_inside[:, None] + np.arange(-self.guard_cells, self.guard_cells + 1)).ravel()
            near = _unique_rows(np.clip(near, 0, self.op.n - 1)[:, None])[:, 0]
            self.guard = self.pos[near[self.active[near]]]
        else:
            self.guard = np.zeros(0, np.int64)

    def hot(self) -> tuple[Any, ...]:
        loc = self.local
        return (
            self.c,
            self.s,
            self.msum,
            self.smsum,
            loc.solve,
            loc.args,
            loc.w,
            loc.rows,
            loc.cols,
            self.rcoef,
            self.ycoef,
            self.invden,
            self.base,
            self.chans,
            self.chans_last,
            self.pt,
        )

    def flush(self) -> None:
        """Write the active cells back into the whole-network arrays."""
        loc = self.local
        if loc.cells.size == 0:
            return
        cells, scale = loc.cells, loc.scale
        self.conc[cells] = self.c * scale
        self.mean_sum[cells] += 0.5 * self.msum * scale
        self.msum[:] = 0.0
        if self.storage_coefs is not None:
            self.storage[cells] = self.s * scale
            self.storage_mean_sum[cells] += self.smsum * scale
            self.smsum[:] = 0.0

    def full_state(self) -> tuple[np.ndarray, np.ndarray]:
        """Channel and storage concentrations of the whole network now (copies)."""
        conc, storage = self.conc.copy(), self.storage.copy()
        loc = self.local
        if loc.cells.size:
            conc[loc.cells] = self.c * loc.scale
            if self.storage_coefs is not None:
                storage[loc.cells] = self.s * loc.scale
        return conc, storage


# ----------------------------------------------------------------------------------------------


def simulate(
    reaches: Sequence[ReachSpec],
    releases: Sequence[Release] = (),
    inlets: Sequence[InletSeries] = (),
    outputs: Sequence[OutputPoint] = (),
    *,
    horizon_s: float,
    decay_per_s: float = 0.0,
    storage_decay_per_s: float | None = None,
    background_mg_l: float = 0.0,
    dx_m: float | None = None,
    dt_s: float | None = None,
    output_every_s: float | None = None,
    profile_times_s: Sequence[float] = (),
    progress: Callable[[float], None] | None = None,
) -> SimulationResult:
    """Run the OTIS equations on `reaches` from t = 0 to `horizon_s` (the run ends at the first step ≥ it).

    `background_mg_l` is the initial concentration in channel and storage and the boundary concentration
    of headwaters without an `InletSeries` (and of clean water added where confluence flows do not add up).
    `storage_decay_per_s` defaults to `decay_per_s`. `dx_m`/`dt_s` default to values meeting the
    Péclet/Courant limits (module docstring); given values that break them raise `GridTooCoarse`.
    Outputs are recorded every `output_every_s` (default: every step), a multiple of the step.
    """
    validate_network(reaches)
    if not _finite(horizon_s) or horizon_s <= 0:
        raise ValueError(f"horizon_s must be a positive number of seconds (got {horizon_s!r})")
    for name, value in (("decay_per_s", decay_per_s), ("background_mg_l", background_mg_l)):
        if not _finite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number ≥ 0 (got {value!r})")
    if storage_decay_per_s is None:
        storage_decay_per_s = decay_per_s
    if not _finite(storage_decay_per_s) or storage_decay_per_s < 0:
        raise ValueError(f"storage_decay_per_s must be a finite number ≥ 0 (got {storage_decay_per_s!r})")
    for name, step in (("dx_m", dx_m), ("dt_s", dt_s), ("output_every_s", output_every_s)):
        if step is not None and (not _finite(step) or step <= 0):
            raise ValueError(
                f"{name} must be a positive number (got {step!r}), or None to choose automatically"
            )
    ups = upstream_reaches(reaches)
    for i, rel in enumerate(releases):
        _check_release(i, rel, reaches)
    seen_inlets: set[int] = set()
    for i, inlet in enumerate(inlets):
        _check_inlet(i, inlet, reaches, ups)
        if int(inlet.reach) in seen_inlets:
            raise ValueError(
                f"inlet {i}: reach {inlet.reach} already has an InletSeries; give one per headwater"
            )
        seen_inlets.add(int(inlet.reach))
    for i, point in enumerate(outputs):
        _check_location("output point", i, point.reach, point.offset_m, reaches)
    profile_times = np.asarray(profile_times_s, dtype=float).ravel()
    if np.any(~np.isfinite(profile_times)) or np.any(profile_times < 0):
        raise ValueError("profile_times_s must be finite times ≥ 0 seconds")

    # --- grid and step
    dx = choose_dx(reaches, dx_m)
    check_peclet(reaches, dx)
    grid = build_grid(reaches, dx, float(background_mg_l))
    impulse = any(rel.mass_kg is not None and rel.duration_s == 0 for rel in releases)
    dt_max = choose_dt(grid, dt_s, float(horizon_s), float(decay_per_s), impulse)
    if output_every_s is not None:
        stride = max(1, math.ceil(output_every_s / dt_max - 1e-9))
        if dt_s is not None and abs(stride * dt_s - output_every_s) > 1e-9 * output_every_s:
            raise ValueError(
                f"output_every_s = {output_every_s:g} must be a whole multiple of dt_s = {dt_s:g}"
            )
        dt = output_every_s / stride
        n_steps = math.ceil(horizon_s / dt - 1e-9)
    else:
        stride = 1
        n_steps = math.ceil(horizon_s / dt_max - 1e-9)
        dt = dt_max if dt_s is not None else horizon_s / n_steps
    if n_steps > MAX_STEPS:
        raise ValueError(
            f"the run would need {n_steps} time steps (limit {MAX_STEPS}); shorten horizon_s or coarsen the grid"
        )
    peclet, courant, diffusion = grid_numbers(grid, dt)
    info = GridInfo(
        dx_m=float(np.max(dx)),
        dx_per_reach_m=tuple(float(v) for v in dx),
        cells_per_reach=tuple(int(v) for v in grid.n_cells_reach),
        dt_s=float(dt),
        n_cells=grid.n_cells,
        n_steps=int(n_steps),
        max_peclet=peclet,
        max_courant=courant,
        max_diffusion_number=diffusion,
        method=METHOD,
    )

    # --- operators
    n = grid.n_cells
    volume = grid.volume_m3
    storage_volume = grid.cell_storage_area_m2 * grid.cell_dx_m
    has_storage = bool(np.any(grid.cell_exchange_per_s > 0))
    op, storage_rhs_coef, storage_y_coef, storage_inv_den = _assemble(
        grid, dt, float(decay_per_s), float(storage_decay_per_s)
    )
    step_times = dt * np.arange(n_steps + 1)

    # constant sources: lateral inflow, confluence make-up water, headwaters at background
    constant_g_s = grid.lateral_source_g_s.copy()
    lateral_g_per_step = float(np.sum(grid.lateral_source_g_s)) * dt
    series_by_reach = {int(inlet.reach): inlet for inlet in inlets}
    boundary_in_g = 0.0  # advective + dispersive-in part; the dispersive-out part is subtracted at the end
    channels: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (cells, conc per gram, grams per step)
    inlet_in_g: list[float] = []
    for reach, cell, q_in, k_in in zip(
        grid.inlet_reach, grid.inlet_cell, grid.inlet_q_m3s, grid.inlet_conductance_m3s, strict=True
    ):
        if int(reach) in series_by_reach:
            inlet = series_by_reach[int(reach)]
            integral = _series_integral(
                np.asarray(inlet.times_s, float), np.asarray(inlet.conc_mg_l, float), step_times
            )
            grams = (q_in + k_in) * np.diff(integral)
            channels.append((np.array([cell]), np.array([1.0 / volume[cell]]), grams))
            inlet_in_g.append(float(grams.sum()))
        else:
            constant_g_s[cell] += (q_in + k_in) * background_mg_l
            inlet_in_g.append((q_in + k_in) * background_mg_l * dt * n_steps)
        boundary_in_g += inlet_in_g[-1]
    constant_rhs = 0.5 * dt * constant_g_s / volume
    has_constant = bool(np.any(constant_rhs != 0))

    impulses: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
    released_g = 0.0
    for rel in releases:
        cells, weights = _release_cells(grid, int(rel.reach), float(rel.offset_m))
        conc_per_g = weights / volume[cells]
        if rel.mass_kg is not None and rel.duration_s == 0:
            position = rel.start_s / dt
            step = math.floor(position)
            frac = position - step
            for s, share in ((step, 1.0 - frac), (step + 1, frac)):
                if share > 0 and s <= n_steps:
                    grams = _G_PER_KG * rel.mass_kg * share
                    impulses.setdefault(s, []).append((cells, conc_per_g * grams))
                    released_g += grams
            continue
        if rel.mass_kg is not None:
            rate_kg_s, end_s = rel.mass_kg / rel.duration_s, rel.start_s + rel.duration_s
        else:
            assert rel.mass_rate_kg_s is not None
            rate_kg_s = rel.mass_rate_kg_s
            end_s = rel.start_s + rel.duration_s if rel.duration_s > 0 else math.inf
        grams = _G_PER_KG * rate_kg_s * _step_overlap_s(step_times, rel.start_s, end_s)
        channels.append((cells, conc_per_g, grams))
        released_g += float(grams.sum())
    channels = [ch for ch in channels if np.any(ch[2] != 0)]
    impulse_arrays = {
        s: (np.concatenate([c for c, _ in items]), np.concatenate([v for _, v in items]))
        for s, items in impulses.items()
    }

    # --- outputs
    point_cells = np.zeros((len(outputs), 2), dtype=np.int64)
    point_weights = np.zeros((len(outputs), 2))
    for i, point in enumerate(outputs):
        a, b, wa, wb = _point_stencil(grid, reaches, ups, int(point.reach), float(point.offset_m))
        point_cells[i] = (a, b)
        point_weights[i] = (wa, wb)
    n_out = n_steps // stride + 1
    out_times = step_times[::stride][:n_out]
    point_conc = np.zeros((len(outputs), n_out))
    point_storage = np.zeros((len(outputs), n_out))
    pa, pb = point_cells[:, 0], point_cells[:, 1]
    wa_arr, wb_arr = point_weights[:, 0], point_weights[:, 1]
    profile_steps = np.clip(np.rint(profile_times / dt).astype(np.int64), 0, n_steps)
    profile_conc = np.zeros((profile_steps.size, n))
    profile_storage = np.zeros((profile_steps.size, n))
    profile_at: dict[int, list[int]] = {}
    for j, s in enumerate(profile_steps):
        profile_at.setdefault(int(s), []).append(j)

    # --- state (whole network; the steps run on the active cells, see `_Stepper`)
    conc = np.full(n, float(background_mg_l))
    storage = np.where(storage_volume > 0, float(background_mg_l), 0.0)
    initial_g = float(volume @ conc + storage_volume @ storage)
    mean_sum = np.zeros(n)  # Σ_n Ȳ: step-mean concentrations, for fluxes and decay
    storage_mean_sum = np.zeros(n)
    progress_every = max(1, math.ceil(n_steps / 100))

    # Nothing happens while the river is clean and nothing enters: skip to the first event.
    first_step = 0
    clean = background_mg_l == 0 and not has_constant
    if clean:
        starts = [min(impulse_arrays)] if impulse_arrays else []
        starts += [int(np.flatnonzero(g)[0]) for _, _, g in channels]
        first_step = min(starts) if starts else n_steps
        first_step = (first_step // stride) * stride  # keep the output grid aligned

    # cells that must be active from a step on: impulses, and sources (releases, inlet series) starting
    events: dict[int, list[np.ndarray]] = {}
    for step_, (cells, _) in impulse_arrays.items():
        events.setdefault(step_, []).append(cells)
    for cells, _, grams in channels:
        events.setdefault(int(np.flatnonzero(grams)[0]), []).append(cells)
    stepper = _Stepper(
        op,
        conc,
        storage,
        mean_sum,
        storage_mean_sum,
        (storage_rhs_coef, storage_y_coef, storage_inv_den) if has_storage else None,
        constant_rhs if has_constant else None,
        channels,
        windowed=_WINDOW and clean,
        point_cells=(pa, pb),
        point_weights=(wa_arr, wb_arr),
    )
    if first_step < n_steps:
        stepper.start(first_step, np.concatenate(events[min(events)]) if events else None)

    c, s_, msum, smsum, solve, args, w, rows, cols, rcoef, ycoef, invden, base, chans, chans_last, pt = (
        stepper.hot()
    )
    always_rhs = has_storage or has_constant
    needs_rhs = always_rhs or bool(chans)
    windowed = stepper.windowed
    next_record = -(-first_step // stride) * stride
    next_check = first_step + _CHECK_EVERY
    next_review = first_step + _REVIEW_EVERY
    for step in range(first_step, n_steps):
        if step in events:
            stepper.event(step, events[step], impulse_arrays.get(step))
            (
                c,
                s_,
                msum,
                smsum,
                solve,
                args,
                w,
                rows,
                cols,
                rcoef,
                ycoef,
                invden,
                base,
                chans,
                chans_last,
                pt,
            ) = stepper.hot()
            needs_rhs = always_rhs or bool(chans)
        if step == next_record:
            k = step // stride
            la, sa, lb, sb, const, const_s = pt
            point_conc[:, k] = c[la] * sa + c[lb] * sb + const
            if has_storage:
                point_storage[:, k] = s_[la] * sa + s_[lb] * sb + const_s
            next_record += stride
        if step in profile_at:
            full_c, full_s = stepper.full_state()
            for j in profile_at[step]:
                profile_conc[j] = full_c
                profile_storage[j] = full_s
        if step > chans_last and chans:
            chans = ()
            needs_rhs = always_rhs
        if needs_rhs:
            rhs = c + base if base is not None else c.copy()
            if has_storage:
                rhs += rcoef * s_
            for loc, per_g, grams in chans:
                g = grams[step]
                if g != 0.0:
                    rhs[loc] += g * per_g
        else:
            rhs = c
        z = solve(*args, rhs)[0]  # 2·Ȳ (scaled)
        if w is not None:
            z[rows] -= w @ z[cols]
        msum += z
        if has_storage:
            storage_mean = s_ + ycoef * z
            storage_mean *= invden
            smsum += storage_mean
            np.subtract(storage_mean, s_, out=s_)
            s_ += storage_mean
        np.subtract(z, c, out=c)
        if windowed and step >= next_check:
            next_check = step + _CHECK_EVERY
            review = step >= next_review
            if review:
                next_review = step + _REVIEW_EVERY
            if stepper.check(step + 1, review):
                (
                    c,
                    s_,
                    msum,
                    smsum,
                    solve,
                    args,
                    w,
                    rows,
                    cols,
                    rcoef,
                    ycoef,
                    invden,
                    base,
                    chans,
                    chans_last,
                    pt,
                ) = stepper.hot()
                needs_rhs = always_rhs or bool(chans)
        if progress is not None and (step + 1) % progress_every == 0:
            progress((step + 1) / n_steps)
    stepper.flush()
    if n_steps in impulse_arrays:
        cells, values = impulse_arrays[n_steps]
        np.add.at(conc, cells, values)
    if n_steps % stride == 0:
        point_conc[:, -1] = conc[pa] * wa_arr + conc[pb] * wb_arr
        if has_storage:
            point_storage[:, -1] = storage[pa] * wa_arr + storage[pb] * wb_arr
    for j in profile_at.get(n_steps, ()):
        profile_conc[j] = conc
        profile_storage[j] = storage
    if progress is not None:
        progress(1.0)

    # --- mass balance (grams until the end)
    inlet_out_g = dt * grid.inlet_conductance_m3s * mean_sum[grid.inlet_cell]  # 0 with the flux boundary
    boundary_net_g = boundary_in_g - float(inlet_out_g.sum())
    lateral_in_g = lateral_g_per_step * n_steps  # lateral inflow and confluence make-up water
    exported_g = grid.outlet_q_m3s * dt * float(mean_sum[grid.outlet_cell])
    decayed_g = dt * (
        decay_per_s * float(volume @ mean_sum)
        + storage_decay_per_s * float(storage_volume @ storage_mean_sum)
    )
    withdrawn_g = dt * float(grid.withdrawal_m3s @ mean_sum)
    channel_g = float(volume @ conc)
    storage_g = float(storage_volume @ storage)
    inputs_g = initial_g + released_g + boundary_net_g + lateral_in_g
    residual = inputs_g - (channel_g + storage_g + exported_g + decayed_g + withdrawn_g)
    scale = max(abs(initial_g) + released_g + abs(boundary_net_g) + lateral_in_g, 1e-300)
    balance = MassBalance(
        released_kg=released_g / _G_PER_KG,
        in_channel_kg=channel_g / _G_PER_KG,
        in_storage_kg=storage_g / _G_PER_KG,
        exported_kg=exported_g / _G_PER_KG,
        decayed_kg=float(decayed_g / _G_PER_KG),
        relative_error=float(residual / scale),
        initial_kg=initial_g / _G_PER_KG,
        boundary_inflow_kg=float(boundary_net_g) / _G_PER_KG,
        lateral_inflow_kg=lateral_in_g / _G_PER_KG,
        withdrawn_kg=withdrawn_g / _G_PER_KG,
        boundaries=tuple(
            BoundaryFlux(
                "headwater", int(r), reaches[int(r)].name, g_in / _G_PER_KG, float(g_out) / _G_PER_KG
            )
            for r, g_in, g_out in zip(grid.inlet_reach, inlet_in_g, inlet_out_g, strict=True)
        )
        + (
            BoundaryFlux(
                "outlet",
                int(grid.cell_reach[grid.outlet_cell]),
                reaches[int(grid.cell_reach[grid.outlet_cell])].name,
                0.0,
                exported_g / _G_PER_KG,
            ),
        ),
    )

    profiles = None
    if profile_steps.size:
        perm = np.lexsort((grid.cell_offset_m, grid.cell_reach))
        profiles = Profiles(
            times_s=profile_steps * dt,
            reach=grid.cell_reach[perm],
            offset_m=grid.cell_offset_m[perm],
            conc_mg_l=profile_conc[:, perm],
            storage_conc_mg_l=profile_storage[:, perm],
        )
    return SimulationResult(
        times_s=out_times,
        point_conc_mg_l=point_conc,
        point_labels=tuple(p.label or f"reach {p.reach} @ {p.offset_m:g} m" for p in outputs),
        profiles=profiles,
        grid=info,
        mass_balance=balance,
        storage_point_conc_mg_l=point_storage,
    )


def _point_stencil(
    grid: NetworkGrid, reaches: Sequence[ReachSpec], ups: list[list[int]], reach: int, offset_m: float
) -> tuple[int, int, float, float]:
    """Interpolate between cell centres; across a reach end, use the neighbouring reach's end cell."""
    first = int(grid.first_cell[reach])
    last = first + int(grid.n_cells_reach[reach]) - 1
    h = float(grid.dx_reach[reach])
    if offset_m < 0.5 * h and len(ups[reach]) == 1:
        u = ups[reach][0]
        hu = float(grid.dx_reach[u])
        last_u = int(grid.first_cell[u] + grid.n_cells_reach[u] - 1)
        w = (offset_m + 0.5 * hu) / (0.5 * (hu + h))
        return last_u, first, 1.0 - w, w
    down = reaches[reach].downstream
    if offset_m > reaches[reach].length_m - 0.5 * h and down is not None:
        hd = float(grid.dx_reach[down])
        w = (offset_m - (reaches[reach].length_m - 0.5 * h)) / (0.5 * (hd + h))
        return last, int(grid.first_cell[down]), 1.0 - w, w
    return grid.locate(reach, offset_m)
