"""The schematic river strip as plain data: what lies along the spill's flow path.

The x axis is the signed flow distance from the source (negative upstream).
The TUI widget turns this into text art; the plume's concentration along the
path at a chosen time comes from the forecast's profiles (or, without them,
from its breakthrough curves at the forecast points, linearly between them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from incident.core.rivers import RiverNetworkData
from incident.plume.forecast_types import IncidentForecast
from incident.sampling.layout import ProposedPoint


@dataclass
class StripModel:
    x0_m: float
    x1_m: float
    source_km: float
    reaches: list[tuple[float, str, float]]  # (distance of the reach start, reach id, km there)
    points: list[ProposedPoint]
    receptors: list[tuple[float, str, str]]  # (distance, receptor id, kind)
    standard_mg_l: float | None = None
    detection_mg_l: float | None = None
    horizon_h: float = 0.0
    plume: dict[float, list[tuple[float, float]]] = field(default_factory=dict)  # cache by time

    def km_at(self, dist_m: float) -> float:
        starts = [r for r in self.reaches if r[0] <= dist_m] or self.reaches[:1]
        d0, _, km0 = starts[-1]
        return km0 + (dist_m - d0) / 1000


def build_strip(
    net: RiverNetworkData,
    source: tuple[str, float],
    points: list[ProposedPoint],
    forecast: IncidentForecast | None = None,
) -> StripModel:
    src_reach, src_off = source
    reaches = []
    # the source reach and what lies upstream of it on the same branch (for the upstream control)
    first = net.reach(src_reach)
    ups = [r for r in net.reaches if r.downstream == src_reach and r.branch == first.branch]
    if ups:
        reaches.append((-(src_off + ups[0].length_m), ups[0].reach_id, ups[0].km_start))
    for rid in net.path_down(src_reach):
        r = net.reach(rid)
        if rid == src_reach:
            reaches.append((-src_off, rid, r.km_start))
        else:
            reaches.append((net.distance_downstream_m(src_reach, src_off, rid, 0.0) or 0.0, rid, r.km_start))
    receptors = []
    for rc in net.receptors:
        d = net.distance_downstream_m(src_reach, src_off, rc.reach_id, rc.offset_m)
        if d is not None:
            receptors.append((d, rc.receptor_id, rc.kind))
    dists = [p.distance_from_source_m for p in points] + [d for d, _, _ in receptors] + [0.0]
    span = max(dists) - min(dists)
    pad = max(500.0, span * 0.02)
    return StripModel(
        x0_m=min(dists) - pad,
        x1_m=max(dists) + pad,
        source_km=net.km_of(src_reach, src_off),
        reaches=sorted(reaches),
        points=sorted(points, key=lambda p: p.distance_from_source_m),
        receptors=sorted(receptors),
        standard_mg_l=forecast.standard_mg_l if forecast else None,
        detection_mg_l=forecast.detection_mg_l if forecast else None,
        horizon_h=forecast.horizon_h if forecast else 0.0,
    )


def plume_along(
    net: RiverNetworkData, source: tuple[str, float], forecast: IncidentForecast, at_h: float
) -> list[tuple[float, float]]:
    """(distance from source m, mg/L) along the flow path at ``at_h`` hours after the release."""
    import numpy as np  # lazily: the TUI starts without numpy

    src_reach, src_off = source
    path = set(net.path_down(src_reach))
    samples: list[tuple[float, float]] = []
    if forecast.profiles:
        used = min(forecast.profiles, key=lambda t: abs(t - at_h))
        for reach_id, offsets, conc in forecast.profiles[used]:
            if reach_id not in path:
                continue
            base = net.distance_downstream_m(src_reach, src_off, reach_id, 0.0)
            start = -src_off if reach_id == src_reach else base
            if start is None:
                continue
            for off, c in zip(np.asarray(offsets, float), np.asarray(conc, float), strict=True):
                samples.append((start + float(off), float(c)))
        return sorted(samples)
    if forecast.times_h.size == 0:
        return []
    for k, p in enumerate(forecast.points):
        if p.reach_id not in path or p.distance_from_source_m < 0:
            continue
        c = float(np.interp(at_h, forecast.times_h, forecast.curves_mg_l[k], left=0.0, right=0.0))
        samples.append((p.distance_from_source_m, c))
    samples = sorted(samples)
    if len(samples) < 2:
        return samples
    # linear between the forecast points (coarse: the points may be tens of km apart)
    xs, cs = np.array([x for x, _ in samples]), np.array([c for _, c in samples])
    dense = np.linspace(xs[0], xs[-1], 400)
    return list(zip(dense.tolist(), np.interp(dense, xs, cs).tolist(), strict=True))
