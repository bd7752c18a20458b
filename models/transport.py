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
  stable, and the system matrix is constant for steady flow, so it is factorised once.
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
  tridiagonal except for one coupling pair per side-tributary junction. We factorise the tridiagonal
  part with LAPACK ``gttrf`` and fold the junction couplings in exactly with the Sherman–Morrison–
  Woodbury identity (a k×k capacitance matrix, k = 2 per junction).

Boundaries: a headwater's upstream face has a prescribed concentration (background or an
`InletSeries`, as OTIS and Ogata–Banks); the outlet has zero gradient (advective export only).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import lapack

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

__all__ = [
    "Release",
    "InletSeries",
    "OutputPoint",
    "Profiles",
    "MassBalance",
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
class MassBalance:
    """Mass budget over the run (kg). `relative_error` = residual / total input, ~1e-12 for this scheme.

    inputs:  initial + released + boundary_inflow + lateral_inflow
    outputs: in_channel + in_storage + exported + decayed + withdrawn
    `boundary_inflow_kg` is the net flux through headwater boundaries (advective in, minus any tracer
    dispersing back out); `withdrawn_kg` leaves with lateral outflows or confluence flow losses.
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


def _finite(value: object) -> bool:
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


@dataclass
class _Factorised:
    dl: np.ndarray
    d: np.ndarray
    du: np.ndarray
    du2: np.ndarray
    ipiv: np.ndarray
    woodbury_z: np.ndarray  # (n, k)
    woodbury_cols: np.ndarray  # (k,)
    woodbury_cinv: np.ndarray  # (k, k)


def _assemble(
    grid: NetworkGrid, dt_s: float, decay_per_s: float, storage_decay_per_s: float
) -> tuple[_Factorised, np.ndarray, np.ndarray, np.ndarray]:
    """Factorise (I − Δt/2·A) with storage folded in; return it and the storage coefficients."""
    n = grid.n_cells
    volume = grid.volume_m3
    theta = 0.5 * dt_s
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []  # entries of the mass-form operator L (m³/s)

    up, down = grid.face_up, grid.face_down
    q, k = grid.face_q_m3s, grid.face_conductance_m3s
    a_uu = -(q * grid.face_w_up + k)
    a_ud = -(q * grid.face_w_down - k)
    rows += [up, up, down, down]
    cols += [up, down, up, down]
    vals += [a_uu, a_ud, -a_uu, -a_ud]
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

    r = np.concatenate(rows)
    c = np.concatenate(cols)
    v = -theta * np.concatenate(vals) / volume[r]  # −θ·A
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

    dlf, df, duf, du2, ipiv, info = lapack.dgttrf(dl, d, du)
    if info != 0:
        raise RuntimeError(f"transport matrix is singular (LAPACK gttrf info={info})")
    off_rows, off_cols, off_vals = r[off], c[off], v[off]
    if off_rows.size:
        u_mat = np.zeros((n, off_rows.size))
        u_mat[off_rows, np.arange(off_rows.size)] = off_vals
        z, info = lapack.dgttrs(dlf, df, duf, du2, ipiv, u_mat)
        capacitance = np.eye(off_rows.size) + z[off_cols, :]
        cinv = np.linalg.inv(capacitance)
    else:
        z = np.zeros((n, 0))
        cinv = np.zeros((0, 0))
    fact = _Factorised(dlf, df, duf, du2, ipiv, z, off_cols, cinv)
    storage_rhs_coef = theta * alpha / storage_den  # rhs += coef·C_S
    storage_y_coef = theta * alpha_s  # Y_S = (C_S + coef_y·Y)/den
    return fact, storage_rhs_coef, storage_y_coef, 1.0 / storage_den


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
    for name, value in (("dx_m", dx_m), ("dt_s", dt_s), ("output_every_s", output_every_s)):
        if value is not None and (not _finite(value) or value <= 0):
            raise ValueError(
                f"{name} must be a positive number (got {value!r}), or None to choose automatically"
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
    dt_max = choose_dt(grid, dt_s, float(horizon_s), float(decay_per_s))
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
    fact, storage_rhs_coef, storage_y_coef, storage_inv_den = _assemble(
        grid, dt, float(decay_per_s), float(storage_decay_per_s)
    )
    step_times = dt * np.arange(n_steps + 1)

    # constant sources: lateral inflow, confluence make-up water, headwaters at background
    constant_g_s = grid.lateral_source_g_s.copy()
    lateral_g_per_step = float(np.sum(grid.lateral_source_g_s)) * dt
    series_by_reach = {int(inlet.reach): inlet for inlet in inlets}
    boundary_in_g = 0.0  # advective + dispersive-in part; the dispersive-out part is subtracted at the end
    channels: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (cells, conc per gram, grams per step)
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
            boundary_in_g += float(grams.sum())
        else:
            constant_g_s[cell] += (q_in + k_in) * background_mg_l
            boundary_in_g += (q_in + k_in) * background_mg_l * dt * n_steps
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

    # --- state
    conc = np.full(n, float(background_mg_l))
    storage = np.where(storage_volume > 0, float(background_mg_l), 0.0)
    initial_g = float(volume @ conc + storage_volume @ storage)
    mean_sum = np.zeros(n)  # Σ_n Ȳ: step-mean concentrations, for fluxes and decay
    storage_mean_sum = np.zeros(n)

    z, z_cols, cinv = fact.woodbury_z, fact.woodbury_cols, fact.woodbury_cinv
    has_junctions = z_cols.size > 0
    gttrs = lapack.dgttrs
    dlf, df, duf, du2, ipiv = fact.dl, fact.d, fact.du, fact.du2, fact.ipiv
    progress_every = max(1, math.ceil(n_steps / 100))

    # Nothing happens while the river is clean and nothing enters: skip to the first event.
    first_step = 0
    if background_mg_l == 0 and not has_constant:
        events = [min(impulse_arrays)] if impulse_arrays else []
        events += [int(np.flatnonzero(g)[0]) for _, _, g in channels]
        first_step = min(events) if events else n_steps
        first_step = (first_step // stride) * stride  # keep the output grid aligned

    def record(step: int) -> None:
        if step % stride == 0:
            k = step // stride
            point_conc[:, k] = conc[pa] * wa_arr + conc[pb] * wb_arr
            if has_storage:
                point_storage[:, k] = storage[pa] * wa_arr + storage[pb] * wb_arr
        for j in profile_at.get(step, ()):
            profile_conc[j] = conc
            profile_storage[j] = storage

    for step in range(first_step, n_steps):
        if step in impulse_arrays:
            cells, values = impulse_arrays[step]
            np.add.at(conc, cells, values)
        record(step)
        if has_constant or has_storage or channels:
            rhs = conc + constant_rhs if has_constant else conc.copy()
            if has_storage:
                rhs += storage_rhs_coef * storage
            for cells, conc_per_g, grams in channels:
                g = grams[step]
                if g != 0.0:
                    rhs[cells] += (0.5 * g) * conc_per_g
            mean, _ = gttrs(dlf, df, duf, du2, ipiv, rhs, overwrite_b=1)
        else:
            mean, _ = gttrs(dlf, df, duf, du2, ipiv, conc)
        if has_junctions:
            mean -= z @ (cinv @ mean[z_cols])
        mean_sum += mean
        if has_storage:
            storage_mean = (storage + storage_y_coef * mean) * storage_inv_den
            storage_mean_sum += storage_mean
            np.subtract(storage_mean, storage, out=storage)
            storage += storage_mean
        np.subtract(mean, conc, out=conc)
        conc += mean
        if progress is not None and (step + 1) % progress_every == 0:
            progress((step + 1) / n_steps)
    if n_steps in impulse_arrays:
        cells, values = impulse_arrays[n_steps]
        np.add.at(conc, cells, values)
    record(n_steps)
    if progress is not None:
        progress(1.0)

    # --- mass balance (grams until the end)
    boundary_net_g = boundary_in_g - dt * float(grid.inlet_conductance_m3s @ mean_sum[grid.inlet_cell])
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
        decayed_kg=decayed_g / _G_PER_KG,
        relative_error=float(residual / scale),
        initial_kg=initial_g / _G_PER_KG,
        boundary_inflow_kg=float(boundary_net_g) / _G_PER_KG,
        lateral_inflow_kg=lateral_in_g / _G_PER_KG,
        withdrawn_kg=withdrawn_g / _G_PER_KG,
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
