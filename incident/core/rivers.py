"""River networks from GeoJSON: load, validate, measure, snap.

File format (RFC 7946 FeatureCollection, WGS84 lon/lat, opens in QGIS):
- every ``LineString`` feature is a *reach*, drawn upstream → downstream, with
  properties ``id``, ``downstream`` (id or null for the outlet), ``discharge_m3s``,
  ``width_m``, ``depth_m`` and optionally ``name``, ``area_m2``, ``velocity_ms``,
  ``slope``, ``manning_n``, ``lateral_inflow_m2s``, ``storage_area_m2``,
  ``exchange_rate_per_s``, ``length_m`` (surveyed; overrides the geometry),
  ``dispersion_m2s`` (overrides any estimate), ``lateral_conc_mg_l``, and for
  the Jobson (1996) cross-check ``drainage_area_km2`` and ``mean_annual_discharge_m3s``;
- every ``Point`` feature is a *receptor* with ``id``, ``name``, ``kind``
  (drinking_water_intake | automatic_station | boundary_section | other) and
  optionally ``name_zh`` and ``population_served``.
- optional foreign members on the collection: ``name``, ``name_zh``.

Chainage: km along a *branch* from its headwater. The main stem is the longest
headwater-to-outlet path; each tributary branch runs from its headwater to the
confluence. Lengths are geodesic (WGS84 ellipsoid, geographiclib: Karney's algorithm,
the one geopy wraps, without geopy's import of every web geocoder).

Geometry is cached by content hash: the geodesic distances one file needs are
kept in the user cache folder under the file's SHA-256, so a second load of the
same file computes none (:func:`parse_river`); a file read again in the same
process is parsed once (:func:`load_river_file`).

A file is validated whole and refused whole: every problem is reported with
the feature's index and id and how to fix it; nothing is half-imported.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, Strict, ValidationError

from incident.core.errors import UserError, ValidationErrors
from incident.core.inputs import InputModel, feature_lines, field_path, refusals, refuse

RECEPTOR_KINDS = ("drinking_water_intake", "automatic_station", "boundary_section", "other")
REQUIRED_REACH = ("discharge_m3s", "width_m", "depth_m")
OPTIONAL_REACH = (
    "area_m2",
    "velocity_ms",
    "slope",
    "manning_n",
    "lateral_inflow_m2s",
    "storage_area_m2",
    "exchange_rate_per_s",
    "length_m",
    "dispersion_m2s",
    "lateral_conc_mg_l",
    "drainage_area_km2",
    "mean_annual_discharge_m3s",
)
# Lateral inflow may be zero; everything else optional must be > 0 when given.
MAY_BE_ZERO = {"lateral_inflow_m2s", "storage_area_m2", "exchange_rate_per_s", "lateral_conc_mg_l"}
CONNECT_TOLERANCE_M = 500.0


# ---------------------------------------------------------------- the file's models

#: a number in a GeoJSON file: an integer or a float, never text or true/false
_Number = Annotated[float, Strict()]
_Positive = Annotated[float, Strict(), Field(gt=0)]
_NotNegative = Annotated[float, Strict(), Field(ge=0)]


def _position(value: list[float]) -> list[float]:
    if not (-180 <= value[0] <= 180 and -90 <= value[1] <= 90):
        raise refuse("errors.core.river.position_out_of_range", "not WGS84", lon=value[0], lat=value[1])
    return value


#: [longitude, latitude] (an altitude after them is ignored)
_Position = Annotated[list[_Number], Field(min_length=2, max_length=3), AfterValidator(_position)]


class _GisProperties(InputModel):
    model_config = ConfigDict(extra="ignore")  # a GIS export carries attributes of its own


class ReachProperties(_GisProperties):
    """A reach (LineString feature): hydraulics in SI units; optional values > 0 (some may be 0)."""

    id: Annotated[str, Strict(), Field(min_length=1)]
    name: Annotated[str, Strict()] | None = None
    downstream: Annotated[str, Strict()] | None = None
    discharge_m3s: _Positive
    width_m: _Positive
    depth_m: _Positive
    area_m2: _Positive | None = None
    velocity_ms: _Positive | None = None
    slope: _Positive | None = None
    manning_n: _Positive | None = None
    lateral_inflow_m2s: _NotNegative | None = None
    storage_area_m2: _NotNegative | None = None
    exchange_rate_per_s: _NotNegative | None = None
    length_m: _Positive | None = None
    dispersion_m2s: _Positive | None = None
    lateral_conc_mg_l: _NotNegative | None = None
    drainage_area_km2: _Positive | None = None
    mean_annual_discharge_m3s: _Positive | None = None


class ReceptorProperties(_GisProperties):
    """A receptor (Point feature): an intake, a station or a section downstream."""

    id: Annotated[str, Strict(), Field(min_length=1)]
    kind: Literal["drinking_water_intake", "automatic_station", "boundary_section", "other"]
    name: Annotated[str, Strict(), Field(min_length=1)]
    name_zh: Annotated[str, Strict()] | None = None
    population_served: Annotated[int, Strict(), Field(ge=0, le=2_000_000_000)] | None = None


class LineGeometry(_GisProperties):
    type: Literal["LineString"]
    coordinates: Annotated[list[_Position], Field(min_length=2)]


class PointGeometry(_GisProperties):
    type: Literal["Point"]
    coordinates: _Position


class ReachFeature(_GisProperties):
    geometry: LineGeometry
    properties: ReachProperties


class ReceptorFeature(_GisProperties):
    geometry: PointGeometry
    properties: ReceptorProperties


def _feature_field(loc: tuple[Any, ...]) -> str:
    """``properties.width_m`` is ``width_m`` to the person who typed it into the GIS."""
    return field_path(loc[1:] if loc and loc[0] == "properties" else loc)


MAX_RECEPTOR_OFFSET_M = 1000.0


@dataclass
class Snap:
    reach_id: str
    offset_m: float  # metres from the reach's upstream end
    km: float  # chainage along the branch
    distance_off_m: float  # how far the given point was from the river line
    lat: float
    lon: float


@dataclass
class ReachData:
    reach_id: str
    name: str
    downstream: str | None
    coords: list[tuple[float, float]]  # (lon, lat)
    discharge_m3s: float
    width_m: float
    depth_m: float
    optional: dict[str, float] = field(default_factory=dict)
    geometry_length_m: float = 0.0
    length_m: float = 0.0
    vertex_m: list[float] = field(default_factory=list)  # cumulative, scaled to length_m
    km_start: float = 0.0
    to_outlet_m: float = 0.0
    branch: str = ""
    index: int = 0  # feature index in the file

    def get(self, key: str) -> float | None:
        return self.optional.get(key)

    @property
    def area_m2(self) -> float:
        return self.optional.get("area_m2") or self.width_m * self.depth_m

    @property
    def velocity_ms(self) -> float:
        """Given velocity, else Q/A (Manning is used by the forecast when asked)."""
        return self.optional.get("velocity_ms") or self.discharge_m3s / self.area_m2


@dataclass
class ReceptorData:
    receptor_id: str
    name: str
    kind: str
    lat: float
    lon: float
    name_zh: str | None = None
    population_served: int | None = None
    reach_id: str = ""
    offset_m: float = 0.0
    km: float = 0.0
    distance_off_m: float = 0.0
    index: int = 0


@dataclass
class RiverNetworkData:
    name: str
    name_zh: str | None
    reaches: list[ReachData]  # ordered upstream → downstream (every reach before its downstream)
    receptors: list[ReceptorData]
    source: str
    sha256: str
    text: str

    def reach(self, reach_id: str) -> ReachData:
        for r in self.reaches:
            if r.reach_id == reach_id:
                return r
        known = ", ".join(r.reach_id for r in self.reaches)
        raise UserError("errors.core.unknown_reach", reach_id=repr(reach_id), known=known)

    def reach_index(self, reach_id: str) -> int:
        return self.reaches.index(self.reach(reach_id))

    @property
    def main_stem_km(self) -> float:
        return max(
            r.km_start + r.length_m / 1000 for r in self.reaches if r.branch == self.reaches[-1].branch
        )

    @property
    def total_length_km(self) -> float:
        return sum(r.length_m for r in self.reaches) / 1000

    @property
    def outlet(self) -> ReachData:
        return next(r for r in self.reaches if r.downstream is None)

    def km_of(self, reach_id: str, offset_m: float) -> float:
        r = self.reach(reach_id)
        return r.km_start + offset_m / 1000

    def offset_for_km(self, reach_id: str, km: float) -> float:
        r = self.reach(reach_id)
        offset = (km - r.km_start) * 1000
        if offset < -1e-6 or offset > r.length_m + 1e-6:
            raise UserError(
                "errors.core.km_not_reach_runs",
                km=km,
                reach_id=reach_id,
                km_start=r.km_start,
                value=r.km_start + r.length_m / 1000,
            )
        return min(max(offset, 0.0), r.length_m)

    def to_outlet_m(self, reach_id: str, offset_m: float) -> float:
        r = self.reach(reach_id)
        return r.to_outlet_m - offset_m

    def path_down(self, reach_id: str) -> list[str]:
        """Reach ids from ``reach_id`` down to the outlet."""
        path = []
        current: str | None = reach_id
        while current is not None:
            path.append(current)
            current = self.reach(current).downstream
        return path

    def distance_downstream_m(
        self, from_reach: str, from_offset_m: float, to_reach: str, to_offset_m: float
    ) -> float | None:
        """Flow distance from one position to another, or None if the second is not downstream."""
        if to_reach not in self.path_down(from_reach):
            return None
        d = self.to_outlet_m(from_reach, from_offset_m) - self.to_outlet_m(to_reach, to_offset_m)
        return d if d >= -1e-6 else None

    def point_at(self, reach_id: str, offset_m: float) -> tuple[float, float]:
        """(lat, lon) of the position ``offset_m`` metres down ``reach_id``."""
        r = self.reach(reach_id)
        offset_m = min(max(offset_m, 0.0), r.length_m)
        for i in range(1, len(r.coords)):
            if r.vertex_m[i] >= offset_m or i == len(r.coords) - 1:
                seg = r.vertex_m[i] - r.vertex_m[i - 1]
                f = 0.0 if seg <= 0 else (offset_m - r.vertex_m[i - 1]) / seg
                f = min(max(f, 0.0), 1.0)
                (lon0, lat0), (lon1, lat1) = r.coords[i - 1], r.coords[i]
                return lat0 + f * (lat1 - lat0), lon0 + f * (lon1 - lon0)
        lon, lat = r.coords[-1]
        return lat, lon

    def snap(self, lat: float, lon: float, reach_id: str | None = None) -> Snap:
        """Nearest point on the river (or on one reach) to a WGS84 lat/lon."""
        best: Snap | None = None
        candidates = [self.reach(reach_id)] if reach_id else self.reaches
        for r in candidates:
            offset, dist, plat, plon = _nearest_on_line(r, lat, lon)
            if best is None or dist < best.distance_off_m:
                best = Snap(r.reach_id, offset, r.km_start + offset / 1000, dist, plat, plon)
        assert best is not None
        return best


# ---------------------------------------------------------------- geometry helpers


#: distances already computed in this process, keyed by the exact (lat0, lon0, lat1, lon1)
_PAIRS: dict[tuple[float, float, float, float], float] = {}
_PAIRS_MAX = 200_000
#: the pairs one parse uses (per thread), written to the geometry cache when it ends
_recording = threading.local()
GEOMETRY_CACHE_VERSION = 1


def geodesic_m(lat0: float, lon0: float, lat1: float, lon1: float) -> float:
    """Geodesic distance in metres on the WGS84 ellipsoid (Karney's algorithm, geographiclib).

    Memoised on the exact coordinates: a river's vertices are the same floats
    every time its file is read.
    """
    key = (lat0, lon0, lat1, lon1)
    d = _PAIRS.get(key)
    if d is None:
        for v in key:
            if not math.isfinite(v):
                raise ValueError(f"coordinate {v!r} is not a finite number")
        if abs(lat0) > 90 or abs(lat1) > 90:
            raise ValueError("latitude must be in the [-90, 90] range")
        from geographiclib.geodesic import Geodesic

        d = float(Geodesic.WGS84.Inverse(lat0, lon0, lat1, lon1, Geodesic.DISTANCE)["s12"])
        if len(_PAIRS) >= _PAIRS_MAX:
            _PAIRS.clear()
        _PAIRS[key] = d
    used = getattr(_recording, "pairs", None)
    if used is not None:
        used[key] = d
    return d


def geometry_cache_dir() -> Path:
    """Where measured river geometry is kept: $INCIDENT_CACHE, else $INCIDENT_HOME/cache, else the
    user cache folder (platformdirs)."""
    if os.environ.get("INCIDENT_CACHE"):
        return Path(os.environ["INCIDENT_CACHE"])
    if os.environ.get("INCIDENT_HOME"):
        return Path(os.environ["INCIDENT_HOME"]) / "cache"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("incident", appauthor=False))


def _geometry_path(sha256: str) -> Path:
    return geometry_cache_dir() / "rivers" / f"{sha256}.v{GEOMETRY_CACHE_VERSION}.json"


def _read_geometry(sha256: str) -> int:
    """Load the distances cached for this file into the memo; how many there were (0: none or unreadable)."""
    try:
        rows = json.loads(_geometry_path(sha256).read_text(encoding="utf-8"))
        pairs = {(r[0], r[1], r[2], r[3]): float(r[4]) for r in rows}
    except (OSError, ValueError, TypeError, IndexError, KeyError):
        return 0  # no cache, or a damaged one: measure again
    _PAIRS.update(pairs)
    return len(pairs)


def _write_geometry(sha256: str, pairs: dict[tuple[float, float, float, float], float]) -> None:
    path = _geometry_path(sha256)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps([[*k, d] for k, d in pairs.items()]), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only or full cache folder only costs the next load its geodesics


def _geodesic_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance between two (lon, lat) pairs."""
    return geodesic_m(a[1], a[0], b[1], b[0])


def _nearest_on_line(r: ReachData, lat: float, lon: float) -> tuple[float, float, float, float]:
    """Nearest point of a reach to (lat, lon): (offset along the reach m, distance off m, lat, lon).

    The segment is chosen in a local equirectangular frame (exact enough to
    rank segments a few hundred metres long); the along-river offset comes from
    the geodesic vertex chainage and the reported distance is geodesic.
    """
    coslat = math.cos(math.radians(lat))
    best_f, best_i, best_d2 = 0.0, 1, math.inf
    for i in range(1, len(r.coords)):
        (lon0, lat0), (lon1, lat1) = r.coords[i - 1], r.coords[i]
        ax, ay = (lon0 - lon) * coslat, lat0 - lat
        dx, dy = (lon1 - lon0) * coslat, lat1 - lat0
        denom = dx * dx + dy * dy
        f = 0.0 if denom == 0 else min(max(-(ax * dx + ay * dy) / denom, 0.0), 1.0)
        px, py = ax + f * dx, ay + f * dy
        d2 = px * px + py * py
        if d2 < best_d2:
            best_f, best_i, best_d2 = f, i, d2
    (lon0, lat0), (lon1, lat1) = r.coords[best_i - 1], r.coords[best_i]
    plon, plat = lon0 + best_f * (lon1 - lon0), lat0 + best_f * (lat1 - lat0)
    along = r.vertex_m[best_i - 1] + best_f * (r.vertex_m[best_i] - r.vertex_m[best_i - 1])
    return along, geodesic_m(lat, lon, plat, plon), plat, plon


# ---------------------------------------------------------------- loading


def load_river_file(path: str | Path) -> RiverNetworkData:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError("errors.core.cannot_read_river_file", where=str(path), strerror=exc.strerror) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError("errors.core.file_not_utf_text", where=str(path)) from exc
    return _parse_memo(hashlib.sha256(text.encode()).hexdigest(), text, str(path))


@lru_cache(maxsize=16)
def _parse_memo(sha256: str, text: str, source: str) -> RiverNetworkData:
    """A file read twice in one process (scenario, then its incident) is parsed once."""
    return parse_river(text, source=source)


def parse_river(text: str, source: str = "<river>") -> RiverNetworkData:
    """Parse and validate a river GeoJSON document; raise ValidationErrors listing every problem.

    The geodesic distances it needs are cached under the text's SHA-256 (see the module docstring).
    """
    sha256 = hashlib.sha256(text.encode()).hexdigest()
    known = _read_geometry(sha256)
    outer = getattr(_recording, "pairs", None)
    used: dict[tuple[float, float, float, float], float] = {}
    _recording.pairs = used
    try:
        network = _parse_river(text, source, sha256)
    finally:
        _recording.pairs = outer
    if outer is not None:
        outer.update(used)
    if len(used) > known:
        _write_geometry(sha256, used)
    return network


def _parse_river(text: str, source: str, sha256: str) -> RiverNetworkData:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(
            "errors.core.not_valid_json", where=f"{source}:{exc.lineno}:{exc.colno}", msg=exc.msg
        ) from exc
    if (
        not isinstance(doc, dict)
        or doc.get("type") != "FeatureCollection"
        or not isinstance(doc.get("features"), list)
    ):
        raise UserError("errors.core.not_geojson_featurecollection", where=source)
    problems: list[UserError] = []
    reaches: list[ReachData] = []
    receptors: list[ReceptorData] = []
    seen_ids: dict[str, str] = {}
    refused_ids: set[str] = set()
    lines = feature_lines(text, len(doc["features"]))
    for index, feature in enumerate(doc["features"]):
        props = feature.get("properties") if isinstance(feature, dict) else None
        props = props if isinstance(props, dict) else {}
        fid = props.get("id")
        line = f", line {lines[index]}" if lines[index] else ""
        where = f"{source}{line}: feature {index}" + (f" (id {fid})" if isinstance(fid, str) else "")
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        gtype = geometry.get("type") if isinstance(geometry, dict) else None
        if gtype not in ("LineString", "Point"):
            problems.append(UserError("errors.core.geometry_not_supported", where=where, gtype=repr(gtype)))
            continue
        model = ReachFeature if gtype == "LineString" else ReceptorFeature
        try:
            parsed = model.model_validate(feature)
        except ValidationError as exc:
            problems += refusals(exc, where=where, field_name=_feature_field)
            if isinstance(fid, str):
                refused_ids.add(fid)  # a reach naming it downstream is not told it does not exist
            continue
        fid = parsed.properties.id
        if fid in seen_ids:
            problems.append(
                UserError("errors.core.duplicate_id_also", where=where, fid=repr(fid), value=seen_ids[fid])
            )
            continue
        seen_ids[fid] = f"feature {index}"
        if isinstance(parsed, ReachFeature):
            p = parsed.properties
            optional = {k: float(v) for k in OPTIONAL_REACH if (v := getattr(p, k)) is not None}
            reaches.append(
                ReachData(
                    fid,
                    str(p.name or ""),
                    p.downstream,
                    [(float(c[0]), float(c[1])) for c in parsed.geometry.coordinates],
                    float(p.discharge_m3s),
                    float(p.width_m),
                    float(p.depth_m),
                    optional,
                    index=index,
                )
            )
        else:
            rp = parsed.properties
            lon, lat = parsed.geometry.coordinates[:2]
            receptors.append(
                ReceptorData(
                    fid,
                    rp.name,
                    rp.kind,
                    float(lat),
                    float(lon),
                    rp.name_zh,
                    rp.population_served,
                    index=index,
                )
            )

    if not reaches and not problems:
        problems.append(UserError("errors.core.file_has_no_reaches", where=source))
    by_id = {r.reach_id: r for r in reaches}
    for r in reaches:
        # a reach refused above for its own properties is reported once, not again as "missing"
        if (
            r.downstream is not None
            and r.downstream not in by_id
            and r.downstream not in {*seen_ids, *refused_ids}
        ):
            problems.append(
                UserError(
                    "errors.core.downstream_reach_does_not",
                    where=f"{source}: feature {r.index} (id {r.reach_id})",
                    downstream=repr(r.downstream),
                )
            )
    if problems:
        raise ValidationErrors(source, problems)

    _check_topology(reaches, by_id, source, problems)
    if problems:
        raise ValidationErrors(source, problems)

    ordered = _measure(reaches, by_id)
    _check_lengths(ordered, source, problems)
    if problems:
        raise ValidationErrors(source, problems)
    _check_connections(ordered, by_id, source, problems)
    network = RiverNetworkData(
        name=str(doc.get("name") or Path(source).stem),
        name_zh=doc.get("name_zh"),
        reaches=ordered,
        receptors=receptors,
        source=source,
        sha256=sha256,
        text=text,
    )
    for rec in receptors:
        snap = network.snap(rec.lat, rec.lon)
        rec.reach_id, rec.offset_m, rec.km, rec.distance_off_m = (
            snap.reach_id,
            snap.offset_m,
            snap.km,
            snap.distance_off_m,
        )
        if snap.distance_off_m > MAX_RECEPTOR_OFFSET_M:
            hint = ""
            swapped = network.snap(rec.lon, rec.lat) if -90 <= rec.lon <= 90 else None
            if swapped and swapped.distance_off_m <= MAX_RECEPTOR_OFFSET_M:
                hint = " — the coordinates look swapped: GeoJSON wants [longitude, latitude]"
            problems.append(
                UserError(
                    "errors.core.receptor_km_nearest_reach",
                    where=f"{source}: feature {rec.index} (id {rec.receptor_id})",
                    name=repr(rec.name),
                    value=snap.distance_off_m / 1000,
                    reach_id=snap.reach_id,
                    hint=hint,
                    max_receptor_offset_m=MAX_RECEPTOR_OFFSET_M,
                )
            )
    if problems:
        raise ValidationErrors(source, problems)
    receptors.sort(key=lambda rc: -network.to_outlet_m(rc.reach_id, rc.offset_m))
    return network


def _check_topology(
    reaches: list[ReachData], by_id: dict[str, ReachData], source: str, problems: list[UserError]
) -> None:
    outlets = [r for r in reaches if r.downstream is None]
    for r in reaches:
        seen = [r.reach_id]
        current = r.downstream
        while current is not None:
            if current in seen:
                loop = " → ".join(seen[seen.index(current) :] + [current])
                problems.append(
                    UserError(
                        "errors.core.reaches_form_loop",
                        where=f"{source}: feature {r.index} (id {r.reach_id})",
                        loop=loop,
                    )
                )
                return
            seen.append(current)
            current = by_id[current].downstream
    if len(outlets) == 0:
        problems.append(UserError("errors.core.no_outlet_every_reach", where=source))
    elif len(outlets) > 1:
        names = ", ".join(f"feature {r.index} (id {r.reach_id})" for r in outlets)
        problems.append(
            UserError(
                "errors.core.outlets_reaches_no_downstream",
                where=source,
                len_outlets=len(outlets),
                names=names,
            )
        )


#: A reach shorter than this (its drawn line) is a digitising slip: repeated vertices.
MIN_REACH_GEOMETRY_M = 1.0


def _check_lengths(reaches: list[ReachData], source: str, problems: list[UserError]) -> None:
    """Refuse a reach whose line has (almost) no length or whose length is not finite."""
    for r in reaches:
        where = f"{source}: feature {r.index} (id {r.reach_id})"
        if not (math.isfinite(r.geometry_length_m) and math.isfinite(r.length_m)):
            problems.append(UserError("errors.river.length_not_finite", where=where))
        elif r.geometry_length_m < MIN_REACH_GEOMETRY_M:
            problems.append(
                UserError(
                    "errors.river.zero_length",
                    length=f"{r.geometry_length_m:.2f}",
                    where=where,
                    min_m=f"{MIN_REACH_GEOMETRY_M:g}",
                )
            )


def _measure(reaches: list[ReachData], by_id: dict[str, ReachData]) -> list[ReachData]:
    for r in reaches:
        steps = [_geodesic_m(r.coords[i - 1], r.coords[i]) for i in range(1, len(r.coords))]
        r.geometry_length_m = sum(steps)
        r.length_m = r.optional.get("length_m") or r.geometry_length_m
        scale = r.length_m / r.geometry_length_m if r.geometry_length_m > 0 else 0.0
        cum = [0.0]
        for s in steps:
            cum.append(cum[-1] + s * scale)
        r.vertex_m = cum

    # distance to the outlet
    def to_outlet(r: ReachData) -> float:
        total, cur = 0.0, r
        while cur.downstream is not None:
            cur = by_id[cur.downstream]
            total += cur.length_m
        return total + r.length_m

    for r in reaches:
        r.to_outlet_m = to_outlet(r)
    # order: farther from the outlet first, so every reach precedes its downstream
    ordered = sorted(reaches, key=lambda r: (-r.to_outlet_m, r.index))
    upstream_of: dict[str, list[ReachData]] = {r.reach_id: [] for r in reaches}
    for r in reaches:
        if r.downstream:
            upstream_of[r.downstream].append(r)
    # branches: walk up from the outlet; the longest upstream arm continues the branch
    outlet = next(r for r in reaches if r.downstream is None)
    branch_no = 0

    def assign(reach: ReachData, branch: str) -> None:
        nonlocal branch_no
        reach.branch = branch
        ups = sorted(upstream_of[reach.reach_id], key=lambda u: -u.to_outlet_m)
        for i, up in enumerate(ups):
            if i == 0:
                assign(up, branch)
            else:
                branch_no += 1
                assign(up, f"tributary-{branch_no}")

    assign(outlet, "main")
    # km from each branch's headwater
    for r in ordered:
        ups_same = [u for u in upstream_of[r.reach_id] if u.branch == r.branch]
        r.km_start = 0.0 if not ups_same else ups_same[0].km_start + ups_same[0].length_m / 1000
    return ordered


def _check_connections(
    reaches: list[ReachData], by_id: dict[str, ReachData], source: str, problems: list[UserError]
) -> None:
    for r in reaches:
        if r.downstream is None:
            continue
        down = by_id[r.downstream]
        gap = _geodesic_m(r.coords[-1], down.coords[0])
        if gap > CONNECT_TOLERANCE_M:
            problems.append(
                UserError(
                    "errors.core.reach_ends_km_start",
                    where=f"{source}: feature {r.index} (id {r.reach_id})",
                    value=gap / 1000,
                    reach_id=down.reach_id,
                    connect_tolerance_m=CONNECT_TOLERANCE_M,
                )
            )


def summary_rows(net: RiverNetworkData) -> list[dict[str, Any]]:
    return [
        {
            "reach": r.reach_id,
            "name": r.name,
            "branch": r.branch,
            "downstream": r.downstream or "(outlet)",
            "km_start": round(r.km_start, 3),
            "km_end": round(r.km_start + r.length_m / 1000, 3),
            "length_km": round(r.length_m / 1000, 3),
            "discharge_m3s": r.discharge_m3s,
            "velocity_ms": round(r.velocity_ms, 3),
        }
        for r in net.reaches
    ]
