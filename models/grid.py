"""Finite-volume grid for a reach network, and the accuracy checks on it.

The transport scheme (see `models.transport`) is Crank–Nicolson in time with central differences in
space. That combination is second-order accurate and unconditionally stable, but it is *not* monotone:

* cell Péclet number Pe = U·Δx/D must stay ≤ 2, otherwise the central advection term produces
  wiggles (negative concentrations) at steep fronts. Upwinding would cure that at the price of a
  numerical dispersion U·Δx(1 − Cr)/2 that would swamp the physical D on coarse grids, so we refine
  instead.
* Courant number Cr = U·Δt/Δx: CN is stable for any Cr, but its phase error grows with Cr. The automatic
  step of `simulate` keeps Cr ≤ 1; `models.accuracy` goes beyond that wherever a grid-refinement check
  shows the forecast numbers still hold to 1 %. A given step with Cr > `COURANT_LIMIT` (10: the front
  would cross ten cells a step and the curves would be sampled too coarsely) is refused.
* diffusion number r = D·Δt/Δx² is reported. CN damps grid-scale modes least (amplification
  (1 − 2r)/(1 + 2r): −0.6 at r = 2, −0.88 at r = 8), and only an instantaneous release (mass dropped into
  one or two cells) excites them strongly: at r = 5 its first profiles dip to −21 % of their peak. So the
  automatic step keeps r ≤ 2 when a release is instantaneous, and r ≤ 8 otherwise, where a release spread
  over time (or an inlet series) is smooth enough. With the Disley dispersion coefficients (D 160–650 m²/s
  on the demo river, 100 m cells) r ≤ 2 set Δt = 30 s; at r ≤ 8 the Courant limit sets it (Δt 100 s,
  Cr 0.96, r 6.5) and the demo's 72 h curves for its 30 min release stay within 0.031 % of peak of a
  Δt = 5 s run (tests/models/test_grid_and_inputs.py::test_automatic_step_keeps_the_curves).

When `dx_m` / `dt_s` are not given they are chosen to satisfy these limits. When they are given and
break a hard limit (Pe > 2, Cr > 1) we refuse with `GridTooCoarse` rather than silently change what
the caller asked for; the message says which dx/dt would work.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.network import ReachSpec, downstream_discharge_m3s, network_order, upstream_reaches

__all__ = ["GridTooCoarse", "GridInfo", "PECLET_LIMIT", "COURANT_LIMIT"]

PECLET_LIMIT = 2.0
COURANT_LIMIT = 10.0  # hard limit for a given dt (stability is not the issue, sampling is)
AUTO_COURANT = 1.0
AUTO_PECLET = 1.5  # margin below PECLET_LIMIT for automatically chosen cells
AUTO_DIFFUSION_NUMBER = 8.0  # releases spread over time, inlet series
IMPULSE_DIFFUSION_NUMBER = 2.0  # when a release is instantaneous (module docstring)
AUTO_MAX_DX_M = 500.0
AUTO_MIN_CELLS_PER_REACH = 4
MAX_CELLS = 400_000
_TOL = 1e-9


class GridTooCoarse(ValueError):
    """The requested dx/dt break the scheme's Péclet or Courant limit; the message gives a grid that works."""


@dataclass(frozen=True)
class GridInfo:
    """What the solver actually used, so a caller can show and audit it."""

    dx_m: float  # largest cell length used
    dx_per_reach_m: tuple[float, ...]
    cells_per_reach: tuple[int, ...]
    dt_s: float
    n_cells: int
    n_steps: int
    max_peclet: float  # U·Δx/D, limit 2
    max_courant: float  # U·Δt/Δx (automatic ≤ 1; > 1 where models.accuracy shows it is accurate)
    max_diffusion_number: float  # D·Δt/Δx²
    method: str


@dataclass
class NetworkGrid:
    """Cells laid out in `network_order`, faces between them, and the constant sources (internal)."""

    reach_order: list[int]
    first_cell: np.ndarray  # per reach index
    n_cells_reach: np.ndarray
    dx_reach: np.ndarray
    cell_reach: np.ndarray
    cell_offset_m: np.ndarray  # centre, from the reach's upstream end
    cell_dx_m: np.ndarray
    cell_area_m2: np.ndarray
    cell_dispersion_m2s: np.ndarray
    cell_velocity_ms: np.ndarray  # largest face velocity of the cell
    cell_storage_area_m2: np.ndarray
    cell_exchange_per_s: np.ndarray
    # interior faces: mass flux Q·(w_up·c_up + w_down·c_down) + K·(c_up − c_down) from up to down
    face_up: np.ndarray
    face_down: np.ndarray
    face_q_m3s: np.ndarray
    face_w_up: np.ndarray
    face_w_down: np.ndarray
    face_conductance_m3s: np.ndarray
    # headwater inlets: a flux (Danckwerts) boundary, mass flux Q·C_b in and nothing dispersing back out;
    # `inlet_conductance_m3s` is 0 (kept so a first-type boundary could be restored for a comparison)
    inlet_reach: np.ndarray
    inlet_cell: np.ndarray
    inlet_q_m3s: np.ndarray
    inlet_conductance_m3s: np.ndarray
    outlet_cell: int
    outlet_q_m3s: float
    lateral_source_g_s: np.ndarray  # per cell, constant
    withdrawal_m3s: np.ndarray  # per cell, removes water at the cell concentration

    @property
    def n_cells(self) -> int:
        return int(self.cell_reach.size)

    @property
    def volume_m3(self) -> np.ndarray:
        return self.cell_area_m2 * self.cell_dx_m

    def locate(self, reach: int, offset_m: float) -> tuple[int, int, float, float]:
        """Two cells and weights for linear interpolation of a point value (cell centres as nodes)."""
        first = int(self.first_cell[reach])
        n = int(self.n_cells_reach[reach])
        dx = float(self.dx_reach[reach])
        pos = offset_m / dx - 0.5  # in cell-index units from the first centre
        if pos <= 0.0:
            return first, first, 1.0, 0.0
        if pos >= n - 1:
            return first + n - 1, first + n - 1, 1.0, 0.0
        j = int(math.floor(pos))
        frac = pos - j
        return first + j, first + j + 1, 1.0 - frac, frac


def _reach_label(index: int, reaches: Sequence[ReachSpec]) -> str:
    return f"reach {index} ({reaches[index].name!r})"


def _max_velocity_ms(reach: ReachSpec) -> float:
    return max(reach.discharge_m3s, downstream_discharge_m3s(reach)) / reach.area_m2


def choose_dx(reaches: Sequence[ReachSpec], dx_m: float | None) -> np.ndarray:
    """Cell length per reach: each reach gets a whole number of equal cells no longer than the target."""
    dx = np.empty(len(reaches))
    for i, reach in enumerate(reaches):
        velocity = _max_velocity_ms(reach)
        if reach.dispersion_m2s <= 0:
            raise ValueError(
                f"{_reach_label(i, reaches)}: dispersion_m2s = 0; the central scheme needs D > 0 "
                "(estimate it with models.hydraulics.dispersion_spread)"
            )
        if dx_m is None:
            target = min(
                AUTO_PECLET * reach.dispersion_m2s / velocity,
                reach.length_m / AUTO_MIN_CELLS_PER_REACH,
                AUTO_MAX_DX_M,
            )
        else:
            target = dx_m
        dx[i] = reach.length_m / math.ceil(reach.length_m / target - _TOL)
    return dx


def check_peclet(reaches: Sequence[ReachSpec], dx: np.ndarray) -> float:
    worst = 0.0
    for i, reach in enumerate(reaches):
        velocity = _max_velocity_ms(reach)
        peclet = velocity * dx[i] / reach.dispersion_m2s
        worst = max(worst, peclet)
        if peclet > PECLET_LIMIT + _TOL:
            good_dx = PECLET_LIMIT * reach.dispersion_m2s / velocity
            raise GridTooCoarse(
                f"dx_m = {dx[i]:.4g} m is too coarse for {_reach_label(i, reaches)}: cell Péclet number "
                f"U·dx/D = {velocity:.3g}·{dx[i]:.4g}/{reach.dispersion_m2s:.3g} = {peclet:.3g} > "
                f"{PECLET_LIMIT:g}, so the central scheme would oscillate; use dx_m ≤ {good_dx:.4g} m, "
                "or dx_m=None to choose cells automatically"
            )
    return worst


def build_grid(reaches: Sequence[ReachSpec], dx: np.ndarray, background_mg_l: float) -> NetworkGrid:
    order = network_order(reaches)
    ups = upstream_reaches(reaches)
    n_reach = len(reaches)
    n_cells_reach = np.array([round(reaches[i].length_m / dx[i]) for i in range(n_reach)], dtype=np.int64)
    total = int(n_cells_reach.sum())
    if total > MAX_CELLS:
        raise ValueError(
            f"the grid would need {total} cells (limit {MAX_CELLS}); give a larger dx_m, "
            "or check dispersion_m2s (very small D forces very small cells)"
        )
    first_cell = np.zeros(n_reach, dtype=np.int64)
    pos = 0
    for r in order:
        first_cell[r] = pos
        pos += int(n_cells_reach[r])

    cell_reach = np.empty(total, dtype=np.int64)
    cell_offset = np.empty(total)
    cell_dx = np.empty(total)
    cell_area = np.empty(total)
    cell_disp = np.empty(total)
    cell_vel = np.empty(total)
    cell_as = np.empty(total)
    cell_alpha = np.empty(total)
    lateral_src = np.zeros(total)
    withdrawal = np.zeros(total)

    f_up: list[np.ndarray] = []
    f_down: list[np.ndarray] = []
    f_q: list[np.ndarray] = []
    f_wu: list[np.ndarray] = []
    f_wd: list[np.ndarray] = []
    f_k: list[np.ndarray] = []
    inlet_reach, inlet_cell, inlet_q, inlet_k = [], [], [], []

    for r in order:
        reach = reaches[r]
        n = int(n_cells_reach[r])
        h = float(dx[r])
        s = slice(int(first_cell[r]), int(first_cell[r]) + n)
        idx = np.arange(s.start, s.stop)
        cell_reach[s] = r
        cell_offset[s] = (np.arange(n) + 0.5) * h
        cell_dx[s] = h
        cell_area[s] = reach.area_m2
        cell_disp[s] = reach.dispersion_m2s
        q_faces = reach.discharge_m3s + reach.lateral_inflow_m2s * h * np.arange(n + 1)
        cell_vel[s] = np.maximum(q_faces[:-1], q_faces[1:]) / reach.area_m2
        cell_as[s] = reach.storage_area_m2
        cell_alpha[s] = reach.exchange_rate_per_s
        lateral_q = reach.lateral_inflow_m2s * h
        if lateral_q > 0:
            lateral_src[s] = lateral_q * reach.lateral_conc_mg_l
        elif lateral_q < 0:
            withdrawal[s] = -lateral_q
        if n > 1:
            f_up.append(idx[:-1])
            f_down.append(idx[1:])
            f_q.append(q_faces[1:-1])
            f_wu.append(np.full(n - 1, 0.5))
            f_wd.append(np.full(n - 1, 0.5))
            f_k.append(np.full(n - 1, reach.area_m2 * reach.dispersion_m2s / h))
        inflow = 0.0
        for u in ups[r]:
            up = reaches[u]
            hu = float(dx[u])
            last_u = int(first_cell[u] + n_cells_reach[u] - 1)
            q_u = downstream_discharge_m3s(up)
            inflow += q_u
            # conductance of two half-cells in series
            k = 1.0 / (
                hu / (2 * up.area_m2 * up.dispersion_m2s) + h / (2 * reach.area_m2 * reach.dispersion_m2s)
            )
            f_up.append(np.array([last_u]))
            f_down.append(np.array([s.start]))
            f_q.append(np.array([q_u]))
            f_wu.append(np.array([h / (h + hu)]))
            f_wd.append(np.array([hu / (h + hu)]))
            f_k.append(np.array([k]))
        if not ups[r]:
            inlet_reach.append(r)
            inlet_cell.append(s.start)
            inlet_q.append(reach.discharge_m3s)
            inlet_k.append(0.0)  # flux boundary: no dispersive exchange with the water upstream
        else:
            # A confluence whose flows do not add up: the difference enters as clean (background) water,
            # or leaves at the cell concentration. Either way mass stays accounted for.
            mismatch = reach.discharge_m3s - inflow
            if mismatch > 0:
                lateral_src[s.start] += mismatch * background_mg_l
            elif mismatch < 0:
                withdrawal[s.start] += -mismatch

    outlet = next(i for i, rr in enumerate(reaches) if rr.downstream is None)

    def cat(parts: list[np.ndarray], dtype: type = float) -> np.ndarray:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

    return NetworkGrid(
        reach_order=order,
        first_cell=first_cell,
        n_cells_reach=n_cells_reach,
        dx_reach=np.asarray(dx, dtype=float),
        cell_reach=cell_reach,
        cell_offset_m=cell_offset,
        cell_dx_m=cell_dx,
        cell_area_m2=cell_area,
        cell_dispersion_m2s=cell_disp,
        cell_velocity_ms=cell_vel,
        cell_storage_area_m2=cell_as,
        cell_exchange_per_s=cell_alpha,
        face_up=cat(f_up, np.int64),
        face_down=cat(f_down, np.int64),
        face_q_m3s=cat(f_q),
        face_w_up=cat(f_wu),
        face_w_down=cat(f_wd),
        face_conductance_m3s=cat(f_k),
        inlet_reach=np.array(inlet_reach, dtype=np.int64),
        inlet_cell=np.array(inlet_cell, dtype=np.int64),
        inlet_q_m3s=np.array(inlet_q, dtype=float),
        inlet_conductance_m3s=np.array(inlet_k, dtype=float),
        outlet_cell=int(first_cell[outlet] + n_cells_reach[outlet] - 1),
        outlet_q_m3s=downstream_discharge_m3s(reaches[outlet]),
        lateral_source_g_s=lateral_src,
        withdrawal_m3s=withdrawal,
    )


def choose_dt(
    grid: NetworkGrid, dt_s: float | None, horizon_s: float, decay_per_s: float, impulse: bool = False
) -> float:
    """Largest step meeting Cr ≤ 1, r ≤ 8 (≤ 2 with an instantaneous release: `impulse`) and λ·Δt ≤ 0.5 when
    automatic; refuse a given dt with Cr > 10."""
    courant_dt = float(np.min(COURANT_LIMIT * grid.cell_dx_m / grid.cell_velocity_ms))
    if dt_s is not None:
        courant = COURANT_LIMIT * dt_s / courant_dt
        if courant > COURANT_LIMIT + _TOL:
            worst = int(np.argmin(grid.cell_dx_m / grid.cell_velocity_ms))
            raise GridTooCoarse(
                f"dt_s = {dt_s:.4g} s is too long: Courant number U·dt/dx = {courant:.3g} > {COURANT_LIMIT:g} "
                f"in reach {int(grid.cell_reach[worst])} (U = {grid.cell_velocity_ms[worst]:.3g} m/s, "
                f"dx = {grid.cell_dx_m[worst]:.4g} m); use dt_s ≤ {courant_dt:.4g} s, or dt_s=None"
            )
        return float(dt_s)
    limits = [courant_dt * AUTO_COURANT / COURANT_LIMIT, horizon_s / 10.0]
    r_max = IMPULSE_DIFFUSION_NUMBER if impulse else AUTO_DIFFUSION_NUMBER
    limits.append(float(np.min(r_max * grid.cell_dx_m**2 / grid.cell_dispersion_m2s)))
    if decay_per_s > 0:
        limits.append(0.5 / decay_per_s)
    return min(limits)


def grid_numbers(grid: NetworkGrid, dt_s: float) -> tuple[float, float, float]:
    """(max Péclet, max Courant, max diffusion number) on the grid."""
    peclet = float(np.max(grid.cell_velocity_ms * grid.cell_dx_m / grid.cell_dispersion_m2s))
    courant = float(np.max(grid.cell_velocity_ms * dt_s / grid.cell_dx_m))
    diffusion = float(np.max(grid.cell_dispersion_m2s * dt_s / grid.cell_dx_m**2))
    return peclet, courant, diffusion
