"""Jobson (1996) empirical travel time and attenuation of a soluble spill in rivers.

Jobson, H.E. (1996). Prediction of traveltime and longitudinal dispersion in rivers and streams.
USGS Water-Resources Investigations Report 96-4013.

Used as an independent, calibration-free check on the transport model: it needs only drainage area,
mean annual flow, the current flow, and (optionally) slope. Units: SI; drainage area in m².

With D′a = Da^1.25·g^0.5/Qa and Q′a = Q/Qa:
  most probable peak velocity      Vp  = 0.094 + 0.0143·D′a^0.919·Q′a^−0.469·S^0.159·Q/Da
  maximum probable peak velocity   Vmp = 0.25  + 0.020 ·(same terms)
  without slope                    Vp  = 0.020 + 0.051·D′a^0.821·Q′a^−0.465·Q/Da,  Vmp = 0.20 + 0.093·(same)
  leading edge                     Tl  = 0.890·Tp   (once per route: see `route_travel_time`)
  unit peak concentration          Cup = 857·Tp[h]^(−0.760·Q′a^−0.079)
  peak concentration               Cp[mg/L] = Cup·M[kg]/(1000·Q)
  leading edge to 10 % of peak     Td10[s] = 2·10⁶/Cup

The worked example (Q = 1068, Qa = 730 m³/s, Da = 48 000 km², L = 104.8 km, no slope given) gives
Vp 1.01 m/s, Tp 28.8 h, Cup 71.9, Tl 25.6 h, Td10 7.7 h, passage ends 33.4 h with the no-slope formulas.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "LEADING_EDGE_RATIO",
    "peak_velocity_ms",
    "JobsonReach",
    "JobsonTravelTime",
    "route_travel_time",
    "unit_peak_concentration",
    "ENVELOPE_Z",
    "velocity_sigma_ln",
]

GRAVITY_MS2 = 9.81
LEADING_EDGE_RATIO = 0.890
# Checked (session 3) against stored sources, offline: the velocity coefficients and exponents above match
# USGS's own implementation (GitHub USGS-WiM/TravelTimeService, TravelTimeAgent/Jobson.cs: Eqs 12-15, slope
# Vp 0.094 + 0.0143, Vmp 0.25 + 0.020, exponents 0.919, -0.469, 0.159; no slope 0.020 + 0.051, 0.20 + 0.093,
# 0.821, -0.465), and Jobson (1997, J. Hydraul. Eng. 123(11), the journal version; USGS SMIG page
# smig.usgs.gov/SMIG/features_1296/dispersion.html) confirms the velocity equations rest on "more than 980
# subreaches in 90 different rivers" and that the maximum probable velocity is an envelope curve drawn above
# most of them. The share the envelope encloses could NOT be read in any stored copy (the excerpt breaks off
# at "An envelope curve for which more t..."); "more than 99 %" is this module's recollection, unverified.
# Reading Vmp as the P99 of a log-normal error around Vp gives σ_ln = ln(Vmp/Vp)/z_0.99 (`velocity_sigma_ln`);
# if the envelope were drawn at P95 instead, σ_ln would be 1.41× larger (z 1.645 for 2.326).
ENVELOPE_Z = 2.326  # z of the normal P99


def _terms(
    discharge_m3s: ArrayLike, mean_annual_discharge_m3s: ArrayLike, drainage_area_m2: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    q = np.asarray(discharge_m3s, dtype=float)
    qa = np.asarray(mean_annual_discharge_m3s, dtype=float)
    da = np.asarray(drainage_area_m2, dtype=float)
    for name, value in (
        ("discharge_m3s", q),
        ("mean_annual_discharge_m3s", qa),
        ("drainage_area_m2", da),
    ):
        if np.any(~np.isfinite(value)) or np.any(value <= 0):
            raise ValueError(f"{name} must be finite and > 0 (got {value!r})")
    dimensionless_area = da**1.25 * np.sqrt(GRAVITY_MS2) / qa
    return q, qa, da, dimensionless_area, q / qa


def peak_velocity_ms(
    discharge_m3s: ArrayLike,
    mean_annual_discharge_m3s: ArrayLike,
    drainage_area_m2: ArrayLike,
    slope: ArrayLike | None = None,
    *,
    maximum_probable: bool = False,
) -> np.ndarray:
    """Velocity of the peak concentration (most probable, or maximum probable for a worst case)."""
    q, _, da, d_a, q_a = _terms(discharge_m3s, mean_annual_discharge_m3s, drainage_area_m2)
    if slope is None:
        terms = d_a**0.821 * q_a**-0.465 * q / da
        return 0.20 + 0.093 * terms if maximum_probable else 0.020 + 0.051 * terms
    s = np.asarray(slope, dtype=float)
    if np.any(~np.isfinite(s)) or np.any(s <= 0):
        raise ValueError(f"slope must be finite and > 0 (got {slope!r}), or None for the no-slope formula")
    terms = d_a**0.919 * q_a**-0.469 * s**0.159 * q / da
    return 0.25 + 0.020 * terms if maximum_probable else 0.094 + 0.0143 * terms


def velocity_sigma_ln(peak_velocity_ms: ArrayLike) -> np.ndarray:
    """σ of ln(true/predicted velocity) implied by Jobson's envelope, at a most probable velocity Vp.

    With the slope formulas, Vp = 0.094 + 0.0143·T and Vmp = 0.25 + 0.020·T for the same terms T, so
    Vmp follows from Vp alone; σ_ln = ln(Vmp/Vp)/ENVELOPE_Z. At the report's worked example (Vp 1.01 m/s)
    this is 0.18; at 0.5 m/s, 0.21; the relative error grows in slow rivers. (The no-slope formulas, a
    weaker fit, give wider envelopes: 0.30 at 1 m/s.)"""
    vp = np.asarray(peak_velocity_ms, dtype=float)
    if np.any(~np.isfinite(vp)) or np.any(vp <= 0):
        raise ValueError(f"peak_velocity_ms must be finite and > 0 (got {peak_velocity_ms!r})")
    terms = np.maximum(vp - 0.094, 0.0) / 0.0143
    return np.log((0.25 + 0.020 * terms) / vp) / ENVELOPE_Z


def unit_peak_concentration(
    peak_time_s: ArrayLike, discharge_m3s: ArrayLike, mean_annual_discharge_m3s: ArrayLike
) -> np.ndarray:
    """Cup = 857·Tp[h]^(−0.760·(Q/Qa)^−0.079)."""
    tp_h = np.asarray(peak_time_s, dtype=float) / 3600.0
    q_a = np.asarray(discharge_m3s, dtype=float) / np.asarray(mean_annual_discharge_m3s, dtype=float)
    return 857.0 * tp_h ** (-0.760 * q_a**-0.079)


@dataclass(frozen=True)
class JobsonReach:
    length_m: float
    discharge_m3s: float
    mean_annual_discharge_m3s: float
    drainage_area_m2: float
    slope: float | None = None


@dataclass(frozen=True)
class JobsonTravelTime:
    """Times from the spill, in seconds, at the end of a route."""

    peak_time_s: float  # Tp, most probable
    leading_edge_s: float  # Tl = 0.890·Tp
    peak_velocity_ms: float  # route mean, L/Tp
    unit_peak_conc: float  # Cup
    td10_s: float  # leading edge until concentration falls to 10 % of the peak
    passage_end_s: float  # Tl + Td10
    max_probable_peak_time_s: float  # from Vmp: the earliest plausible peak
    max_probable_leading_edge_s: float
    peak_conc_mg_l: float | None  # Cp, when a mass is given


def route_travel_time(
    reaches: Sequence[JobsonReach], mass_kg: float | None = None, *, use_slope: bool = True
) -> JobsonTravelTime:
    """Sum peak travel times over reaches, then derive the leading edge ONCE for the route.

    The ratio must be applied exactly once: multiplying per-reach leading-edge times by 0.890 again
    (as one public implementation does) makes the route's leading edge 0.890² of Tp. Cup and Cp use the route's total Tp and the flow of
    the last reach (where the concentration is wanted). `use_slope=False` ignores given slopes.
    """
    if not reaches:
        raise ValueError("give at least one JobsonReach")
    for i, reach in enumerate(reaches):
        if not np.isfinite(reach.length_m) or reach.length_m <= 0:
            raise ValueError(f"reach {i}: length_m must be > 0 (got {reach.length_m!r})")
    # every reach at once: one array call per formula (with slope where given and wanted, else without)
    lengths = np.array([r.length_m for r in reaches], dtype=float)
    columns = [
        np.array([getattr(r, name) for r in reaches], dtype=float)
        for name in ("discharge_m3s", "mean_annual_discharge_m3s", "drainage_area_m2")
    ]
    with_slope = np.array([use_slope and r.slope is not None for r in reaches])
    slopes = np.array([r.slope if use_slope and r.slope is not None else 1.0 for r in reaches], dtype=float)
    vp, vmp = np.empty(len(reaches)), np.empty(len(reaches))
    slope_sets: tuple[tuple[np.ndarray, np.ndarray | None], ...] = (
        (with_slope, slopes[with_slope]),
        (~with_slope, None),
    )
    for mask, slope in slope_sets:
        if mask.any():
            q, qa, da = (c[mask] for c in columns)
            vp[mask] = peak_velocity_ms(q, qa, da, slope)
            vmp[mask] = peak_velocity_ms(q, qa, da, slope, maximum_probable=True)
    tp = float(np.sum(lengths / vp))
    tp_max = float(np.sum(lengths / vmp))
    length = float(np.sum(lengths))
    last = reaches[-1]
    cup = float(unit_peak_concentration(tp, last.discharge_m3s, last.mean_annual_discharge_m3s))
    leading = LEADING_EDGE_RATIO * tp
    td10 = 2.0e6 / cup
    if mass_kg is not None and (not np.isfinite(mass_kg) or mass_kg < 0):
        raise ValueError(f"mass_kg must be ≥ 0 (got {mass_kg!r})")
    return JobsonTravelTime(
        peak_time_s=tp,
        leading_edge_s=leading,
        peak_velocity_ms=length / tp,
        unit_peak_conc=cup,
        td10_s=td10,
        passage_end_s=leading + td10,
        max_probable_peak_time_s=tp_max,
        max_probable_leading_edge_s=LEADING_EDGE_RATIO * tp_max,
        peak_conc_mg_l=None if mass_kg is None else cup * mass_kg / (1000.0 * last.discharge_m3s),
    )
