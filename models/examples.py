"""Ready-made scenarios for demos and tests.

Uvas Creek (Bencala, K.E. and Walters, R.A., 1983, Simulation of solute transport in a mountain
pool-and-riffle stream: a transient storage model. Water Resources Research 19(3), 718–724; the
parameter set is OTIS's strontium example, Runkel 1998, USGS WRIR 98-4018).
"""

from __future__ import annotations

import numpy as np

from models.network import ReachSpec
from models.transport import InletSeries, OutputPoint

__all__ = ["UVAS_HORIZON_S", "UVAS_BACKGROUND_MG_L", "uvas_creek"]

UVAS_BACKGROUND_MG_L = 0.13
UVAS_HORIZON_S = 24 * 3600.0

_LENGTHS_M = (38.0, 67.0, 176.0, 152.0, 236.0)
_DISPERSION_M2S = (0.12, 0.15, 0.24, 0.31, 0.40)
_AREA_M2 = (0.30, 0.42, 0.36, 0.41, 0.52)
_STORAGE_AREA_M2 = (0.05, 0.05, 0.36, 0.41, 1.56)
_ALPHA_PER_S = (0.0, 0.0, 3e-5, 1e-5, 4.5e-5)
_LATERAL_M2S = (0.0, 0.0, 4.545e-6, 1.974e-6, 2.151e-6)
_UPSTREAM_Q_M3S = 0.0125


def uvas_creek(*, storage: bool = True) -> tuple[list[ReachSpec], list[InletSeries], list[OutputPoint]]:
    """Five reaches of Uvas Creek with the 1972 strontium injection, and the five sampling sites.

    Run with `simulate(..., horizon_s=UVAS_HORIZON_S, background_mg_l=UVAS_BACKGROUND_MG_L)`.
    Lateral inflow is taken at the background concentration (0.13 mg/L), an assumption: the brief
    gives no lateral concentration. `storage=False` gives the same channel without transient storage,
    to show what storage does to the peaks and tails.
    """
    reaches: list[ReachSpec] = []
    discharge = _UPSTREAM_Q_M3S
    for i, length in enumerate(_LENGTHS_M):
        reaches.append(
            ReachSpec(
                name=f"Uvas Creek {i + 1}",
                length_m=length,
                downstream=i + 1 if i < len(_LENGTHS_M) - 1 else None,
                discharge_m3s=discharge,
                area_m2=_AREA_M2[i],
                dispersion_m2s=_DISPERSION_M2S[i],
                lateral_inflow_m2s=_LATERAL_M2S[i],
                lateral_conc_mg_l=UVAS_BACKGROUND_MG_L,
                storage_area_m2=_STORAGE_AREA_M2[i] if storage else 0.0,
                exchange_rate_per_s=_ALPHA_PER_S[i] if storage else 0.0,
            )
        )
        discharge += _LATERAL_M2S[i] * length
    hours = np.array([0.0, 8.40, 8.40, 11.40, 11.40, 24.0])
    conc = np.array([0.13, 0.13, 1.73, 1.73, 0.13, 0.13])
    inlets = [InletSeries(reach=0, times_s=hours * 3600.0, conc_mg_l=conc)]
    # sampling sites at 38, 105, 281, 433 and 619 m from the injection
    outputs = [
        OutputPoint(0, 38.0, "38 m"),
        OutputPoint(1, 67.0, "105 m"),
        OutputPoint(2, 176.0, "281 m"),
        OutputPoint(3, 152.0, "433 m"),
        OutputPoint(4, 186.0, "619 m"),
    ]
    return reaches, inlets, outputs
