"""GeoJSON of the plan: points, receptors, the river and the plume extent at a time.

RFC 7946: one ``FeatureCollection``, WGS84 positions as [longitude, latitude],
no ``crs`` member. Every feature carries a ``layer`` property (``reach``,
``receptor``, ``sampling_point``, ``plume``) so QGIS can style or filter by it
(Layer Properties → Symbology → Categorized on "layer"). Reach and receptor
features keep the river file's own properties, so the river part reads back
with :func:`incident.core.rivers.parse_river`; :func:`load_plan_geojson`
reads the rest back.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np

from incident.core.errors import UserError, ValidationErrors
from incident.core.rivers import RiverNetworkData
from incident.plume import IncidentForecast
from incident.sampling import ProposedPoint

LAYERS = ("reach", "receptor", "sampling_point", "plume")


def _pos(lon: float, lat: float) -> list[float]:
    return [round(lon, 7), round(lat, 7)]


def line_between(net: RiverNetworkData, reach_id: str, start_m: float, end_m: float) -> list[list[float]]:
    """The reach's geometry from ``start_m`` to ``end_m`` metres down it, as [lon, lat] positions."""
    r = net.reach(reach_id)
    start_m, end_m = max(0.0, start_m), min(r.length_m, end_m)
    lat, lon = net.point_at(reach_id, start_m)
    coords = [_pos(lon, lat)]
    for (vlon, vlat), vm in zip(r.coords, r.vertex_m, strict=True):
        if start_m < vm < end_m:
            coords.append(_pos(vlon, vlat))
    lat, lon = net.point_at(reach_id, end_m)
    coords.append(_pos(lon, lat))
    if coords[0] == coords[-1] and len(coords) == 2:  # a degenerate run: nudge to keep a valid line
        lat, lon = net.point_at(reach_id, min(r.length_m, end_m + 1.0))
        coords[-1] = _pos(lon, lat)
    return coords


@dataclass
class PlumeRun:
    reach_id: str
    start_m: float
    end_m: float
    max_mg_l: float


def plume_runs(
    net: RiverNetworkData, forecast: IncidentForecast, at_h: float, threshold_mg_l: float | None = None
) -> tuple[list[PlumeRun], float, str]:
    """Stretches of river above the threshold at ``at_h``: (runs, profile time used, method)."""
    threshold = forecast.detection_mg_l if threshold_mg_l is None else threshold_mg_l
    runs: list[PlumeRun] = []
    if forecast.profiles:
        used = min(forecast.profiles, key=lambda t: abs(t - at_h))
        for reach_id, offsets, conc in forecast.profiles[used]:
            offsets, conc = np.asarray(offsets, float), np.asarray(conc, float)
            above = conc > threshold
            i = 0
            while i < len(above):
                if not above[i]:
                    i += 1
                    continue
                j = i
                while j + 1 < len(above) and above[j + 1]:
                    j += 1
                # widen to the neighbouring grid nodes' midpoint, so a one-node plume still has length
                lo = offsets[i] if i == 0 else (offsets[i - 1] + offsets[i]) / 2
                hi = offsets[j] if j == len(above) - 1 else (offsets[j] + offsets[j + 1]) / 2
                runs.append(PlumeRun(reach_id, float(lo), float(hi), float(conc[i : j + 1].max())))
                i = j + 1
        return runs, float(used), "profile"
    # no profiles: from the breakthrough curves at the forecast points (coarse)
    if forecast.times_h.size == 0:
        return [], at_h, "none"
    col = int(np.argmin(np.abs(forecast.times_h - at_h)))
    values = [(p, float(forecast.curves_mg_l[k, col])) for k, p in enumerate(forecast.points)]
    for p, c in values:
        if c > threshold and p.distance_from_source_m >= 0:
            half = 250.0
            runs.append(PlumeRun(p.reach_id, p.offset_m - half, p.offset_m + half, c))
    return runs, float(forecast.times_h[col]), "points"


def plan_geojson(
    net: RiverNetworkData,
    points: list[ProposedPoint],
    *,
    code: str,
    forecast: IncidentForecast | None = None,
    at_h: float | None = None,
    threshold_mg_l: float | None = None,
    include_river: bool = True,
    is_exercise: bool = False,
) -> dict[str, Any]:
    features: list[dict[str, Any]] = []
    if include_river:
        doc = json.loads(net.text)
        for f in doc.get("features", []):
            if isinstance(f, dict) and isinstance(f.get("geometry"), dict):
                f = dict(f)
                kind = "reach" if f["geometry"].get("type") == "LineString" else "receptor"
                f["properties"] = {**(f.get("properties") or {}), "layer": kind}
                f.pop("crs", None)
                features.append(f)
    else:
        for rc in net.receptors:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": _pos(rc.lon, rc.lat)},
                    "properties": {
                        "layer": "receptor",
                        "id": rc.receptor_id,
                        "name": rc.name,
                        "name_zh": rc.name_zh,
                        "kind": rc.kind,
                        "km": round(rc.km, 3),
                    },
                }
            )
    release = forecast.release_start if forecast else None
    for p in points:
        arrival = release + timedelta(hours=p.arrival_h) if release and p.arrival_h is not None else None
        features.append(
            {
                "type": "Feature",
                "id": f"{code}:{p.number}",
                "geometry": {"type": "Point", "coordinates": _pos(p.lon, p.lat)},
                "properties": {
                    "layer": "sampling_point",
                    "number": p.number,
                    "role": p.role,
                    "name": p.name,
                    "reach": p.reach_id,
                    "km": round(p.km, 3),
                    "distance_from_source_m": round(p.distance_from_source_m, 1),
                    "receptor_id": p.receptor_id,
                    "mandatory": p.mandatory,
                    "arrival_h": p.arrival_h,
                    "arrival_utc": arrival.isoformat() if arrival else None,
                    "peak_h": p.peak_h,
                    "trailing_h": p.trailing_h,
                    "verticals": p.verticals,
                    "points_per_vertical": p.points_per_vertical,
                    "requires": p.required_qualification,
                    "removed_reason": p.removed_reason,
                },
            }
        )
    meta: dict[str, Any] = {}
    if forecast is not None and at_h is not None:
        runs, used, method = plume_runs(net, forecast, at_h, threshold_mg_l)
        threshold = forecast.detection_mg_l if threshold_mg_l is None else threshold_mg_l
        for run in runs:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "LineString",
                        "coordinates": line_between(net, run.reach_id, run.start_m, run.end_m),
                    },
                    "properties": {
                        "layer": "plume",
                        "reach": run.reach_id,
                        "from_km": round(net.km_of(run.reach_id, run.start_m), 3),
                        "to_km": round(net.km_of(run.reach_id, run.end_m), 3),
                        "max_mg_l": run.max_mg_l,
                        "threshold_mg_l": threshold,
                        "at_h": used,
                        "at_utc": (forecast.release_start + timedelta(hours=used)).isoformat(),
                        "method": method,
                    },
                }
            )
        meta = {"plume_at_h": used, "plume_threshold_mg_l": threshold}
    return {
        "type": "FeatureCollection",
        "name": f"{code} monitoring plan" + (" (EXERCISE)" if is_exercise else ""),
        "incident": code,
        "exercise": is_exercise,
        **meta,
        "features": features,
    }


# ---------------------------------------------------------------- reading it back


@dataclass
class PlanLayers:
    points: list[dict[str, Any]]  # properties + lon/lat of each sampling point
    receptors: list[dict[str, Any]]
    plume: list[dict[str, Any]]  # properties + coordinates
    river: dict[str, Any]  # a FeatureCollection of the reach and receptor features (for parse_river)


def check_rfc7946(doc: dict[str, Any], source: str = "<geojson>") -> None:
    """Structural RFC 7946 checks: FeatureCollection, no crs, [lon, lat] in range, ≥ 2 positions per line."""
    problems: list[UserError] = []
    if (
        not isinstance(doc, dict)
        or doc.get("type") != "FeatureCollection"
        or not isinstance(doc.get("features"), list)
    ):
        raise UserError("errors.reports.not_geojson_featurecollection", where=source)
    if "crs" in doc:
        problems.append(UserError("errors.reports.has_crs_member", where=source))

    def pos_ok(p: object) -> bool:
        return (
            isinstance(p, list)
            and len(p) in (2, 3)
            and all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in p)
            and -180 <= p[0] <= 180
            and -90 <= p[1] <= 90
        )

    for i, f in enumerate(doc["features"]):
        where = f"{source}: feature {i}"
        if not isinstance(f, dict) or f.get("type") != "Feature" or "properties" not in f:
            problems.append(UserError("errors.reports.not_feature_properties", where=where))
            continue
        g = f.get("geometry")
        if not isinstance(g, dict):
            problems.append(UserError("errors.reports.no_geometry_object", where=where))
            continue
        if "crs" in g:
            problems.append(UserError("errors.reports.geometry_has_crs_member", where=where))
        c = g.get("coordinates")
        if g.get("type") == "Point":
            if not pos_ok(c):
                problems.append(UserError("errors.reports.bad_point_position", where=where, c=repr(c)))
        elif g.get("type") == "LineString":
            if not isinstance(c, list) or len(c) < 2 or not all(pos_ok(p) for p in c):
                problems.append(UserError("errors.reports.bad_linestring", where=where))
        else:
            problems.append(
                UserError("errors.reports.unexpected_geometry", where=where, value=repr(g.get("type")))
            )
    if problems:
        raise ValidationErrors(source, problems)


def load_plan_geojson(text: str, source: str = "<plan geojson>") -> PlanLayers:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(
            "errors.reports.not_valid_json", where=f"{source}:{exc.lineno}:{exc.colno}", msg=exc.msg
        ) from exc
    check_rfc7946(doc, source)
    points, receptors, plume, river = [], [], [], []
    for i, f in enumerate(doc["features"]):
        props = f["properties"] or {}
        layer = props.get("layer")
        if layer not in LAYERS:
            raise UserError(
                "errors.reports.unknown_layer",
                where=f"{source}: feature {i}",
                layer=repr(layer),
                value=", ".join(LAYERS),
            )
        coords = f["geometry"]["coordinates"]
        if layer == "sampling_point":
            points.append({**props, "lon": coords[0], "lat": coords[1]})
        elif layer == "plume":
            plume.append({**props, "coordinates": coords})
        else:
            if layer == "receptor":
                receptors.append({**props, "lon": coords[0], "lat": coords[1]})
            river.append(f)
    return PlanLayers(points, receptors, plume, {"type": "FeatureCollection", "features": river})
