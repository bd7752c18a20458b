"""How far above the source the plume is detectable: the ensemble's upstream extent.

The upstream control (reference) section must sit outside the plume. A 1D model disperses a spill
upstream as well as down, so the section goes above the extent that 90 % of the ensemble members
stay below (P90), within the forecast horizon. Members draw mass, velocity and dispersion as the
forecast ensemble does (``models.ensemble.sample_inputs``); each member's extent is the analytic
one of an instantaneous slug in the source reach (``models.upstream``), which bounds any release
of the same mass spread over a duration.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlmodel import Session

from incident.plume.forecast import DEFAULT_HORIZON_H, request_for_incident
from incident.plume.uncertainty import check_members, ensemble_setup
from models.ensemble import dispersion_for_quantile, sample_inputs
from models.upstream import upstream_extent_m


@dataclass
class UpstreamExtent:
    p50_m: float
    p90_m: float
    max_m: float
    n_members: int
    horizon_h: float
    basis: str


def incident_upstream_extent(
    session: Session,
    code: str,
    *,
    horizon_h: float | None = DEFAULT_HORIZON_H,
    n_members: int = 1000,
    seed: int = 0,
) -> UpstreamExtent:
    """P50/P90 of how far above the source the incident's spill is detectable within ``horizon_h``."""
    check_members(n_members)
    setup = ensemble_setup(request_for_incident(session, code, horizon_h=horizon_h))
    reach_index, _ = setup.source
    spec = setup.specs[reach_index]
    members = sample_inputs(setup.inputs, n_members, np.random.default_rng(seed))
    dispersion = dispersion_for_quantile(
        setup.dispersion_low_m2s, setup.dispersion_high_m2s, members["dispersion_quantile"]
    )[:, reach_index]
    velocity = spec.discharge_m3s / spec.area_m2 * members["velocity_factor"]
    extent = upstream_extent_m(
        members["mass_kg"] * 1000.0,
        spec.area_m2,
        velocity,
        dispersion,
        setup.detection_mg_l,
        setup.horizon_s,
        decay_per_s=setup.decay_per_s,
    )
    p50, p90 = np.percentile(extent, [50, 90])
    horizon_h = setup.horizon_s / 3600.0  # the horizon used (chosen by need when none was given)
    return UpstreamExtent(
        p50_m=float(p50),
        p90_m=float(p90),
        max_m=float(extent.max()),
        n_members=n_members,
        horizon_h=horizon_h,
        basis=(
            f"instantaneous slug in reach {spec.name} (A {spec.area_m2:g} m², U {spec.discharge_m3s / spec.area_m2:.2f} "
            f"m/s, D {setup.dispersion_low_m2s[reach_index]:.0f}–{setup.dispersion_high_m2s[reach_index]:.0f} m²/s), "
            f"above {setup.detection_mg_l:g} mg/L within {horizon_h:g} h, {n_members} members"
        ),
    )
