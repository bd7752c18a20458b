"""Linear algebra of the Crank–Nicolson step on a subset of cells (internal to `models.transport`).

The step matrix M = I − Δt/2·A (storage folded into the diagonal) is assembled once for the whole
network as a tridiagonal part (cells in `network_order`) plus a few off-band entries (one pair per
side-tributary junction), and each face's share of the diagonal is kept. `factorise` then restricts M
to a set of *active* cells:

* Faces with exactly one end active are **closed** (their share of the diagonal is removed), so the
  active set is a closed sub-system: mass that is in it stays in it or leaves through the real
  boundaries (outlet, withdrawals, decay), and the cells outside keep their values unchanged. The
  whole-network mass balance therefore stays exact to rounding whatever the active set is; what the
  closure drops is the exchange through those faces, which the caller keeps negligible by making
  sure the cells next to a closed face hold less than a tiny fraction of the peak.
* The tridiagonal part T is symmetrised by a diagonal similarity, S = Δ⁻¹·T·Δ with
  Δᵢ₊₁/Δᵢ = √(T[i+1,i]/T[i,i+1]) (possible because both off-diagonals of a row pair have the same
  sign when the cell Péclet number is < 2), and S/2 is factorised as L·D·Lᵀ by LAPACK ``pttrf``.
  ``pttrs`` has no division on its critical path and runs ~2.5× faster than ``gttrs``. The caller keeps
  its state scaled by Δ⁻¹ (every other term of the step is diagonal, so it commutes with Δ). If the
  scaling would span more than ~10²⁰⁰ or S is not positive definite, T is factorised with ``gttrf``
  instead (Δ = 1).
* Off-band entries whose two cells are both active and not neighbours in the active ordering are
  folded in exactly with the Sherman–Morrison–Woodbury identity: z ← z − W·z[cols],
  W = Z·(I + Z[cols])⁻¹, Z = (S/2)⁻¹·U. Rows of W below 10⁻¹⁸ of its largest entry are dropped.

Solving with S/2 rather than S returns 2Ȳ, so the CN update is a single subtraction, Cⁿ⁺¹ = 2Ȳ − Cⁿ.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from models import compiled

MAX_LOG_SCALE = 230.0  # |ln Δ| after centring: Δ stays within ~1e±100
_W_ROW_TOL = 1e-18


@dataclass
class Operator:
    """M = I − Δt/2·A for the whole network: diagonal with every face open, tridiagonal neighbours,
    off-band entries, and each face's share of the diagonal at its two cells."""

    d: np.ndarray
    dl: np.ndarray  # M[i+1, i]
    du: np.ndarray  # M[i, i+1]
    off_r: np.ndarray
    off_c: np.ndarray
    off_v: np.ndarray
    face_up: np.ndarray
    face_down: np.ndarray
    face_d_up: np.ndarray
    face_d_down: np.ndarray

    @property
    def n(self) -> int:
        return int(self.d.size)


@dataclass
class LocalSystem:
    """M restricted to `cells` (closed faces at the edges), factorised. Solve with
    ``z = solve(*args, rhs)[0]`` then ``z[rows] -= w @ z[cols]`` when `w` is not None; z = 2Ȳ/Δ."""

    cells: np.ndarray  # global indices, increasing
    scale: np.ndarray  # Δ: the local state is C/Δ
    solve: Callable[..., tuple[np.ndarray, int]] | None
    args: tuple[Any, ...]
    w: np.ndarray | None
    rows: slice
    cols: np.ndarray
    closed_inside: np.ndarray  # global cells inside the set that have a closed face
    symmetric: bool


def _solve_two(inverse: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, int]:
    """A 2-cell system, solved as LAPACK's ``gttrs`` would be called: (solution, info)."""
    return inverse @ rhs, 0


def factorise(
    op: Operator, cells: np.ndarray, active: np.ndarray, pos: np.ndarray, symmetric: bool
) -> LocalSystem:
    """Factorise M on `cells` (`active` is the boolean mask of the same set, `pos` maps global → local)."""
    m = cells.size
    if m == 0:
        return LocalSystem(cells, np.ones(0), None, (), None, slice(0, 0), cells, cells, False)
    d = op.d[cells]
    up_in = active[op.face_up]
    down_in = active[op.face_down]
    closed_up = up_in & ~down_in
    closed_down = down_in & ~up_in
    if closed_up.any():
        np.add.at(d, pos[op.face_up[closed_up]], -op.face_d_up[closed_up])
    if closed_down.any():
        np.add.at(d, pos[op.face_down[closed_down]], -op.face_d_down[closed_down])
    closed_inside = np.concatenate([op.face_up[closed_up], op.face_down[closed_down]])

    neighbours = cells[1:] == cells[:-1] + 1
    lo = np.where(neighbours, op.dl[cells[:-1]], 0.0)
    hi = np.where(neighbours, op.du[cells[:-1]], 0.0)
    both = active[op.off_r] & active[op.off_c]
    r, c, v = pos[op.off_r[both]], pos[op.off_c[both]], op.off_v[both]
    band_hi = c == r + 1
    band_lo = c == r - 1
    if band_hi.any():
        np.add.at(hi, r[band_hi], v[band_hi])
    if band_lo.any():
        np.add.at(lo, c[band_lo], v[band_lo])
    rest = ~(band_hi | band_lo)
    r, c, v = r[rest], c[rest], v[rest]

    factors: tuple[Callable[..., Any], tuple[Any, ...]] | None = None
    scale: np.ndarray = np.ones(m)
    if symmetric or m == 1:
        prod = lo * hi
        coupled = (lo != 0) | (hi != 0)
        if np.all(prod[coupled] > 0):
            half_log = np.zeros(m - 1)
            half_log[coupled] = 0.5 * np.log(lo[coupled] / hi[coupled])
            log_scale = np.concatenate(([0.0], np.cumsum(half_log)))
            log_scale -= 0.5 * (log_scale.max() + log_scale.min())
            if log_scale.max() <= MAX_LOG_SCALE:
                e = np.sign(hi) * np.sqrt(prod)
                df, ef, info = compiled.dpttrf(0.5 * d, 0.5 * e if m > 1 else np.zeros(1))
                if info == 0:
                    # a running product keeps each ratio Δᵢ₊₁/Δᵢ exact to an ulp (exp of a sum of logs
                    # would not, and the step would then lose conservation at the 1e-14 level)
                    ratio = np.ones(m - 1)
                    ratio[coupled] = np.sqrt(lo[coupled] / hi[coupled])
                    scale = np.cumprod(np.concatenate(([math.exp(log_scale[0])], ratio)))
                    factors = (compiled.dpttrs, (df, ef))
    if factors is None and m == 2:  # scipy's gttrf wrapper refuses n = 2: invert the 2×2 directly
        scale = np.ones(m)
        half = 0.5 * np.array([[d[0], hi[0]], [lo[0], d[1]]])
        det = half[0, 0] * half[1, 1] - half[0, 1] * half[1, 0]
        if det == 0 or not math.isfinite(det):
            raise RuntimeError("transport matrix is singular (2 active cells)")
        inverse = np.array([[half[1, 1], -half[0, 1]], [-half[1, 0], half[0, 0]]]) / det
        factors = (_solve_two, (inverse,))
    if factors is None:
        scale = np.ones(m)
        dlf, df, duf, du2, ipiv, info = compiled.dgttrf(0.5 * lo, 0.5 * d, 0.5 * hi)
        if info != 0:
            raise RuntimeError(f"transport matrix is singular (LAPACK gttrf info={info})")
        factors = (compiled.dgttrs, (dlf, df, duf, du2, ipiv))
    solve, args = factors

    w = None
    rows = slice(0, 0)
    if r.size:
        v = v * scale[c] / scale[r]
        u_mat = np.zeros((m, r.size), order="F")
        u_mat[r, np.arange(r.size)] = 0.5 * v
        z = solve(*args, u_mat)[0]
        w_full = z @ np.linalg.inv(np.eye(r.size) + z[c, :])
        # what each row adds to the unscaled solution per unit of the unscaled coupled values
        size = np.abs(w_full[:, 0]) / scale[c[0]]
        for j in range(1, r.size):
            np.maximum(size, np.abs(w_full[:, j]) / scale[c[j]], out=size)
        size *= scale
        keep = np.flatnonzero(size > _W_ROW_TOL * size.max())
        rows = slice(int(keep[0]), int(keep[-1]) + 1)
        w = np.ascontiguousarray(w_full[rows])
    return LocalSystem(cells, scale, solve, args, w, rows, c, closed_inside, factors[0] is compiled.dpttrs)
