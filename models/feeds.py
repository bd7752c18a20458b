"""Synthetic automatic-station feeds for tests and the bench: what a quiet river looks like.

A feed is level + diurnal cycle + slow drift + autocorrelated noise + spikes, with gaps (lost
packets, no value) and maintenance/calibration periods (flagged readings; after a calibration the
instrument's offset changes a little). The detector's false-alarm rate is measured on these.

AR(1) noise: eₙ = φ·eₙ₋₁ + √(1 − φ²)·σ·εₙ keeps the marginal standard deviation at σ for any φ;
φ = exp(−Δt/τ) for a correlation time τ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FeedSpec", "Feed", "synthetic_feed", "PROFILES"]


@dataclass(frozen=True)
class FeedSpec:
    level: float
    diurnal_amp: float  # half the peak-to-trough of the daily cycle
    noise_sd: float  # marginal standard deviation of the AR(1) noise
    noise_tau_h: float = 0.5  # correlation time of the noise
    drift_per_day_sd: float = 0.0  # random-walk drift of the level, sd per day
    peak_hour: float = 15.0  # local hour of the daily maximum
    spikes_per_day: float = 1.0  # isolated outliers (bubbles, fouling)
    spike_sd: float = 8.0  # spike size in noise sd (two-sided unless positive_spikes)
    gaps_per_day: float = 0.5  # lost-packet runs
    gap_mean_h: float = 0.3
    maintenance_per_month: float = 2.0
    maintenance_h: float = 3.0
    calibration_offset_sd: float = 0.0  # offset change after each maintenance, in the value's unit
    floor: float = 0.0  # physical floor (concentrations are ≥ 0)


#: realistic quiet-river profiles for the project's station parameters
PROFILES: dict[str, FeedSpec] = {
    "ammonia_nitrogen": FeedSpec(
        0.35, 0.05, 0.02, drift_per_day_sd=0.01, calibration_offset_sd=0.01, floor=0.01
    ),
    "cod": FeedSpec(14.0, 1.0, 0.6, noise_tau_h=1.0, drift_per_day_sd=0.3, calibration_offset_sd=0.3),
    "total_phosphorus": FeedSpec(0.08, 0.01, 0.005, drift_per_day_sd=0.002, calibration_offset_sd=0.002),
    "dissolved_oxygen": FeedSpec(
        7.5, 1.0, 0.12, drift_per_day_sd=0.05, peak_hour=15.0, calibration_offset_sd=0.05
    ),
    "ph": FeedSpec(7.8, 0.2, 0.03, peak_hour=16.0, calibration_offset_sd=0.02),
    "conductivity": FeedSpec(
        420.0, 8.0, 4.0, noise_tau_h=2.0, drift_per_day_sd=3.0, calibration_offset_sd=3.0
    ),
    "turbidity": FeedSpec(
        25.0, 2.0, 2.0, noise_tau_h=1.0, drift_per_day_sd=1.0, spikes_per_day=4.0, floor=0.1
    ),
    "water_temperature": FeedSpec(22.0, 1.2, 0.05, noise_tau_h=2.0, peak_hour=17.0, drift_per_day_sd=0.2),
}


@dataclass
class Feed:
    t_h: np.ndarray  # hours since a local midnight
    value: np.ndarray  # NaN where no value arrived
    flag: np.ndarray  # HJ 212 data flag per reading ('N', 'M' maintenance, 'C' calibration)
    breaks: np.ndarray  # True at the first reading after maintenance

    @property
    def valid(self) -> np.ndarray:
        return (self.flag == "N") & np.isfinite(self.value)

    def clean(self) -> np.ndarray:
        """Values with everything that is not valid data set to NaN (what the detector sees)."""
        return np.where(self.valid, self.value, np.nan)


def synthetic_feed(spec: FeedSpec, *, days: float, interval_min: float, rng: np.random.Generator) -> Feed:
    dt_h = interval_min / 60.0
    n = int(round(days * 24.0 / dt_h))
    t = np.arange(n) * dt_h
    phi = float(np.exp(-dt_h / spec.noise_tau_h))
    shocks = rng.standard_normal(n) * spec.noise_sd * np.sqrt(1.0 - phi**2)
    noise = np.empty(n)
    acc = rng.standard_normal() * spec.noise_sd
    for i in range(n):  # AR(1); a loop is fine for the sizes used in tests and the bench
        acc = phi * acc + shocks[i]
        noise[i] = acc
    drift = np.cumsum(rng.standard_normal(n)) * spec.drift_per_day_sd * np.sqrt(dt_h / 24.0)
    diurnal = spec.diurnal_amp * np.cos(2.0 * np.pi * (t - spec.peak_hour) / 24.0)
    value = spec.level + diurnal + drift + noise
    flag = np.full(n, "N", dtype="<U1")
    breaks = np.zeros(n, dtype=bool)
    # maintenance: flagged M, then C for the last half hour, and a new calibration offset afterwards
    n_maint = rng.poisson(spec.maintenance_per_month * days / 30.0)
    for start in np.sort(rng.uniform(0, n, n_maint)).astype(int):
        stop = min(n, start + int(spec.maintenance_h / dt_h))
        flag[start:stop] = "M"
        flag[max(start, stop - int(0.5 / dt_h)) : stop] = "C"
        value[stop:] += rng.standard_normal() * spec.calibration_offset_sd
        if stop < n:
            breaks[stop] = True
    spikes = rng.random(n) < spec.spikes_per_day * dt_h / 24.0
    value[spikes] += rng.standard_normal(int(spikes.sum())) * spec.spike_sd * spec.noise_sd
    value = np.maximum(value, spec.floor)
    n_gaps = rng.poisson(spec.gaps_per_day * days)
    for start in rng.uniform(0, n, n_gaps).astype(int):
        length = max(1, int(rng.exponential(spec.gap_mean_h) / dt_h))
        value[start : start + length] = np.nan
    return Feed(t_h=t, value=value, flag=flag, breaks=breaks)
