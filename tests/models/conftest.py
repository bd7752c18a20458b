"""Shared scenarios for the transport tests: a uniform channel where analytic solutions apply."""

from __future__ import annotations

import numpy as np

from models.network import ReachSpec

VELOCITY_MS = 0.5
DISPERSION_M2S = 2.0
AREA_M2 = 10.0
DISCHARGE_M3S = VELOCITY_MS * AREA_M2


def uniform_channel(length_m: float = 6000.0, n_reaches: int = 1) -> list[ReachSpec]:
    """A straight channel, optionally cut into equal reaches (results must not depend on the cut)."""
    each = length_m / n_reaches
    return [
        ReachSpec(
            name=f"r{i}",
            length_m=each,
            downstream=i + 1 if i < n_reaches - 1 else None,
            discharge_m3s=DISCHARGE_M3S,
            area_m2=AREA_M2,
            dispersion_m2s=DISPERSION_M2S,
        )
        for i in range(n_reaches)
    ]


def refined_peak(times: np.ndarray, conc: np.ndarray) -> tuple[float, float]:
    """Peak time and value from a parabola through the largest sample and its neighbours."""
    k = int(np.argmax(conc))
    y0, y1, y2 = conc[k - 1], conc[k], conc[k + 1]
    h = times[k + 1] - times[k]
    denom = y0 - 2 * y1 + y2
    shift = 0.5 * (y0 - y2) / denom
    return float(times[k] + shift * h), float(y1 - 0.25 * (y0 - y2) * shift)
