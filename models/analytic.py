"""Closed-form solutions of the 1-D advection–dispersion(–decay) equation, for checking the solver.

All functions broadcast over numpy arrays. Concentrations are mg/L (= g/m³); a mass in kg becomes
1000 g. Times ≤ 0 give 0 (nothing has arrived yet).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import erfc, erfcx

__all__ = ["slug", "ogata_banks", "flux_inlet", "finite_pulse", "slug_peak_time"]


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


def flux_inlet(
    x: ArrayLike,
    t: ArrayLike,
    c0: ArrayLike,
    velocity: ArrayLike,
    dispersion: ArrayLike,
    decay: float = 0.0,
) -> np.ndarray:
    """Continuous inflow at concentration c0 from t = 0 through a flux (third-type, Danckwerts) boundary
    at x = 0 of a semi-infinite channel: U·c0 = U·C − D·∂C/∂x there, so the mass flux in is exactly
    Q·c0 and nothing disperses back out (van Genuchten & Alves 1982, USDA TB 1661; Γ = √(U² + 4kD)):

    k = 0:  C/c0 = ½·erfc(z₋) + √(U²t/(πD))·e^{−(x−Ut)²/4Dt} − ½(1 + Ux/D + U²t/D)·e^{Ux/D}·erfc(z₊)
    k > 0:  C/c0 = U/(U+Γ)·e^{x(U−Γ)/2D}·erfc((x−Γt)/2√(Dt)) + U/(U−Γ)·e^{x(U+Γ)/2D}·erfc((x+Γt)/2√(Dt))
                   + U²/(2kD)·e^{Ux/D − kt}·erfc((x+Ut)/2√(Dt))

    with z∓ = (x ∓ Ut)/(2√(Dt)); large exponentials are paired with erfcx so nothing overflows.
    """
    x_arr, t_arr = np.asarray(x, dtype=float), np.asarray(t, dtype=float)
    u = float(velocity)
    d = float(dispersion)
    k = float(decay)
    positive = t_arr > 0
    t_safe = np.where(positive, t_arr, 1.0)
    root = 2.0 * np.sqrt(d * t_safe)
    z_plus = (x_arr + u * t_safe) / root
    # e^{Ux/D}·erfc(z₊) = e^{Ux/D − z₊²}·erfcx(z₊) = e^{−(x−Ut)²/4Dt}·erfcx(z₊)
    gauss = np.exp(-((x_arr - u * t_safe) ** 2) / (4.0 * d * t_safe))
    if (
        4.0 * k * d < 1e-6 * u**2
    ):  # the k > 0 form cancels catastrophically here; e^{−kt} is exact to O(kD/U²)
        conc = np.exp(-k * t_safe) * (
            0.5 * erfc((x_arr - u * t_safe) / root)
            + np.sqrt(u**2 * t_safe / (np.pi * d)) * gauss
            - 0.5 * (1.0 + u * x_arr / d + u**2 * t_safe / d) * gauss * erfcx(z_plus)
        )
    else:
        gamma = np.sqrt(u**2 + 4.0 * k * d)
        z1 = (x_arr - gamma * t_safe) / root
        z2 = (x_arr + gamma * t_safe) / root
        term1 = u / (u + gamma) * np.exp(x_arr * (u - gamma) / (2.0 * d)) * erfc(z1)
        term2 = u / (u - gamma) * np.exp(x_arr * (u + gamma) / (2.0 * d) - z2**2) * erfcx(z2)
        term3 = u**2 / (2.0 * k * d) * np.exp(-k * t_safe) * gauss * erfcx(z_plus)
        conc = term1 + term2 + term3
    return np.where(positive, np.asarray(c0, dtype=float) * conc, 0.0)


def finite_pulse(
    x: ArrayLike,
    t: ArrayLike,
    c0: ArrayLike,
    duration: ArrayLike,
    velocity: ArrayLike,
    dispersion: ArrayLike,
    decay: ArrayLike = 0.0,
    boundary: str = "concentration",
) -> np.ndarray:
    """Inlet concentration c0 for `duration` seconds, then 0: C(t) = C_cont(t) − C_cont(t − τ) (superposition).

    `boundary` = "concentration" (first type, `ogata_banks`) or "flux" (third type, `flux_inlet`, what
    the solver's headwaters do)."""
    t_arr = np.asarray(t, dtype=float)
    cont = {"concentration": ogata_banks, "flux": flux_inlet}[boundary]
    return cont(x, t_arr, c0, velocity, dispersion, decay) - cont(
        x, t_arr - np.asarray(duration, dtype=float), c0, velocity, dispersion, decay
    )
