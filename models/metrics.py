"""Arrival, peak and exceedance times from a breakthrough curve (concentration at one point vs time).

Definitions (what a monitoring plan needs):
* leading edge: the first time the excess over background, C − C_bg, reaches the detection threshold
  (the first time a sampler would detect the spill);
* trailing edge: the last time, after the peak, the excess falls below the threshold. None while the
  excess is still at or above it at the end of the series;
* peak: the largest sample (time and total concentration C, including background);
* exceedance window: from the first time the total concentration C reaches the standard until it
  falls below it again for the last time (end None while still exceeding); the maximum exceedance
  multiple is (C_max − limit)/limit, as reports state it ("33 times over").
Crossing times are interpolated linearly between samples. If the series starts above a threshold the
window starts at the first sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["BreakthroughMetrics", "breakthrough_metrics"]


@dataclass(frozen=True)
class BreakthroughMetrics:
    reached: bool  # the excess reached the detection threshold at some sample
    leading_edge_s: float | None
    peak_s: float | None
    peak_mg_l: float | None
    trailing_edge_s: float | None
    exceeds_standard: bool
    exceedance_start_s: float | None
    exceedance_end_s: float | None
    max_exceedance_multiple: float | None


def _crossing(times: np.ndarray, values: np.ndarray, level: float, i: int) -> float:
    """Time where the segment (i, i+1) crosses `level`, linearly."""
    v0, v1 = values[i], values[i + 1]
    if v1 == v0:
        return float(times[i + 1])
    return float(times[i] + (level - v0) / (v1 - v0) * (times[i + 1] - times[i]))


def _window(times: np.ndarray, values: np.ndarray, level: float) -> tuple[float | None, float | None]:
    above = values >= level
    if not above.any():
        return None, None
    first = int(np.argmax(above))
    start = float(times[0]) if first == 0 else _crossing(times, values, level, first - 1)
    last = int(above.size - 1 - np.argmax(above[::-1]))
    end = None if last == above.size - 1 else _crossing(times, values, level, last)
    return start, end


def breakthrough_metrics(
    times_s: ArrayLike,
    conc_mg_l: ArrayLike,
    *,
    detection_mg_l: float,
    standard_mg_l: float | None = None,
    background_mg_l: float = 0.0,
) -> BreakthroughMetrics:
    """Leading edge, peak, trailing edge and exceedance window of one curve (definitions above)."""
    times = np.asarray(times_s, dtype=float)
    conc = np.asarray(conc_mg_l, dtype=float)
    if times.ndim != 1 or times.shape != conc.shape or times.size == 0:
        raise ValueError("times_s and conc_mg_l must be 1-D arrays of the same, non-zero length")
    if np.any(np.diff(times) < 0):
        raise ValueError("times_s must be non-decreasing")
    if not np.isfinite(detection_mg_l) or detection_mg_l <= 0:
        raise ValueError(f"detection_mg_l must be > 0 (got {detection_mg_l!r})")
    if standard_mg_l is not None and (not np.isfinite(standard_mg_l) or standard_mg_l <= 0):
        raise ValueError(f"standard_mg_l must be > 0 or None (got {standard_mg_l!r})")

    excess = conc - background_mg_l
    leading, trailing = _window(times, excess, detection_mg_l)
    reached = leading is not None
    peak_index = int(np.argmax(conc))
    exceed_start = exceed_end = multiple = None
    exceeds = False
    if standard_mg_l is not None:
        exceed_start, exceed_end = _window(times, conc, standard_mg_l)
        exceeds = exceed_start is not None
        if exceeds:
            multiple = float((conc[peak_index] - standard_mg_l) / standard_mg_l)
    return BreakthroughMetrics(
        reached=reached,
        leading_edge_s=leading,
        peak_s=float(times[peak_index]) if reached else None,
        peak_mg_l=float(conc[peak_index]) if reached else None,
        trailing_edge_s=trailing,
        exceeds_standard=exceeds,
        exceedance_start_s=exceed_start,
        exceedance_end_s=exceed_end,
        max_exceedance_multiple=multiple,
    )
