"""Closed-form solutions of the 1-D advection–dispersion(–decay) equation, for checking the solver.

All functions broadcast over numpy arrays. Concentrations are mg/L (= g/m³); a mass in kg becomes
1000 g. Times ≤ 0 give 0 (nothing has arrived yet).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import erfc, erfcx

__all__ = ["slug", "ogata_banks", "finite_pulse", "slug_peak_time"]


def slug(
    x_m: ArrayLike,
    t_s: ArrayLike,
    mass_kg: ArrayLike,
    area_m2: ArrayLike,
    velocity_ms: ArrayLike,
    dispersion_m2s: ArrayLike,
    decay_per_s: ArrayLike = 0.0,
) -> np.ndarray:
    """Instantaneous release of `mass_kg` at x = 0, t = 0 in an infinite uniform channel:

    C = M/(A·√(4πDt))·exp(−(x − Ut)²/(4Dt))·e^(−kt)
    """
    x, t = np.asarray(x_m, dtype=float), np.asarray(t_s, dtype=float)
    mass_g = 1000.0 * np.asarray(mass_kg, dtype=float)
    positive = t > 0
    t_safe = np.where(positive, t, 1.0)
    spread = 4.0 * np.asarray(dispersion_m2s, dtype=float) * t_safe
    conc = (
        mass_g
        / (np.asarray(area_m2, dtype=float) * np.sqrt(np.pi * spread))
        * np.exp(-((x - np.asarray(velocity_ms, dtype=float) * t_safe) ** 2) / spread)
        * np.exp(-np.asarray(decay_per_s, dtype=float) * t_safe)
    )
    return np.where(positive, conc, 0.0)


def slug_peak_time(x_m: float, velocity_ms: float, dispersion_m2s: float, decay_per_s: float = 0.0) -> float:
    """Time of the maximum of `slug` at a fixed station x (root of ∂ln C/∂t = 0; slightly before x/U)."""
    # ∂/∂t [−½ln t − (x − Ut)²/(4Dt) − kt] = 0  ⇔  (U²/(4D) + k)·t² + t/2 − x²/(4D) = 0
    a = velocity_ms**2 / (4.0 * dispersion_m2s) + decay_per_s
    c = -(x_m**2) / (4.0 * dispersion_m2s)
    return float((-0.5 + np.sqrt(0.25 - 4.0 * a * c)) / (2.0 * a))


def ogata_banks(
    x: ArrayLike,
    t: ArrayLike,
    c0: ArrayLike,
    velocity: ArrayLike,
    dispersion: ArrayLike,
    decay: ArrayLike = 0.0,
) -> np.ndarray:
    """Continuous inlet concentration c0 from t = 0 at x = 0 (semi-infinite, first-type boundary),
    with first-order decay; Γ = √(U² + 4kD) (Ogata & Banks 1961, USGS PP 411-A; decay form as in
    van Genuchten & Alves 1982, USDA TB 1661):

    C = (c0/2)·[e^{x(U−Γ)/2D}·erfc((x − Γt)/(2√(Dt))) + e^{x(U+Γ)/2D}·erfc((x + Γt)/(2√(Dt)))]

    The second term is evaluated as exp(x(U+Γ)/2D − z²)·erfcx(z) so it never overflows.
    """
    x_arr, t_arr = np.asarray(x, dtype=float), np.asarray(t, dtype=float)
    u = np.asarray(velocity, dtype=float)
    d = np.asarray(dispersion, dtype=float)
    gamma = np.sqrt(u**2 + 4.0 * np.asarray(decay, dtype=float) * d)
    positive = t_arr > 0
    t_safe = np.where(positive, t_arr, 1.0)
    root = 2.0 * np.sqrt(d * t_safe)
    z1 = (x_arr - gamma * t_safe) / root
    z2 = (x_arr + gamma * t_safe) / root  # ≥ 0 for x ≥ 0
    term1 = np.exp(x_arr * (u - gamma) / (2.0 * d)) * erfc(z1)
    term2 = np.exp(x_arr * (u + gamma) / (2.0 * d) - z2**2) * erfcx(z2)
    conc = 0.5 * np.asarray(c0, dtype=float) * (term1 + term2)
    return np.where(positive, conc, 0.0)


def finite_pulse(
    x: ArrayLike,
    t: ArrayLike,
    c0: ArrayLike,
    duration: ArrayLike,
    velocity: ArrayLike,
    dispersion: ArrayLike,
    decay: ArrayLike = 0.0,
) -> np.ndarray:
    """Inlet concentration c0 for `duration` seconds, then 0: C(t) = C_cont(t) − C_cont(t − τ) (superposition)."""
    t_arr = np.asarray(t, dtype=float)
    return ogata_banks(x, t_arr, c0, velocity, dispersion, decay) - ogata_banks(
        x, t_arr - np.asarray(duration, dtype=float), c0, velocity, dispersion, decay
    )
