"""Where to sample: points proposed from the river, the spill and the plume forecast.

HJ 589-2021 §6.2.1 lays out surface-water points: a control (reference) section
upstream, control and attenuation sections downstream, drinking-water sources
and other sensitive targets first. The routine geometry is HJ/T 91's:
upstream control 100–600 m above the source, downstream control 500–1000 m
below it, attenuation section more than 1500 m below; verticals by river width
and sampling depths by water depth. Numbers (§6.2.3) run S1…Sn in flow order
and never change; later insertions get sub-levels (S3-1), see ``plans``.

Everything here is plain data in, plain data out: the forecast is an
``IncidentForecast`` argument, so the rules are testable without the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from incident.core.errors import UserError
from incident.core.i18n import t
from incident.core.rivers import RiverNetworkData
from incident.plume import IncidentForecast, PointForecast

ROLES = (
    "upstream_control",
    "downstream_control",
    "attenuation",
    "receptor",
    "boundary",
    "station",
    "intermediate",
    "inserted",
)
# Forecast labels the planner asks the forecast service for (besides receptor ids).
LABEL_UPSTREAM = "UC"
LABEL_DOWNSTREAM = "DC"
LABEL_ATTENUATION = "AT"
INTERMEDIATE_PREFIX = "IM@"
# A forecast point on the same reach within this distance stands for a planned point.
MATCH_TOLERANCE_M = 150.0
#: the closest intermediate sections may be (km): a river's length at 1e-9 km was a billion candidates
MIN_SPACING_KM = 0.5

RECEPTOR_ROLE = {
    "drinking_water_intake": "receptor",
    "automatic_station": "station",
    "boundary_section": "boundary",
    "other": "receptor",
}


def verticals_for_width(width_m: float) -> int:
    """HJ/T 91: ≤ 50 m one vertical (mid-stream), 50–100 m two, over 100 m three."""
    if width_m <= 50:
        return 1
    if width_m <= 100:
        return 2
    return 3


def points_per_vertical(depth_m: float) -> int:
    """HJ/T 91: ≤ 5 m one point (0.5 m below the surface), 5–10 m two, over 10 m three."""
    if depth_m <= 5:
        return 1
    if depth_m <= 10:
        return 2
    return 3


@dataclass
class PlanSettings:
    """Distances of the routine sections (HJ/T 91 ranges are enforced) and point rules."""

    upstream_control_m: float = 500.0  # 100–600 m above the source (HJ/T 91)
    control_min_m: float = 500.0  # never closer to the source than this
    plume_upstream_m: float | None = None  # the ensemble's P90 upstream extent (incident_upstream_extent)
    control_buffer_m: float = 100.0  # the section goes this far above that extent
    downstream_control_m: float = 800.0  # 500–1000 m below the source
    attenuation_m: float = 2000.0  # more than 1500 m below the source
    intermediate_spacing_km: float = 20.0  # candidate sections this far apart where the standard is exceeded
    # qualification a receptor point needs for its rapid field test, by pollutant class
    field_test_qualification: dict[str, str] = field(
        default_factory=lambda: {
            "heavy_metal": "heavy_metal_field_test",
            "organic": "organic_field_test",
        }
    )

    def check(self) -> None:
        problems = []
        if not 100 <= self.upstream_control_m <= 600:
            problems.append(("upstream_control_m", self.upstream_control_m, "100–600 m"))
        if not 500 <= self.downstream_control_m <= 1000:
            problems.append(("downstream_control_m", self.downstream_control_m, "500–1000 m"))
        if not self.attenuation_m > 1500:
            problems.append(("attenuation_m", self.attenuation_m, "more than 1500 m"))
        if not self.intermediate_spacing_km >= MIN_SPACING_KM:
            problems.append(
                ("intermediate_spacing_km", self.intermediate_spacing_km, f"≥ {MIN_SPACING_KM:g} km")
            )
        if not self.control_min_m >= 0 or not self.control_buffer_m >= 0:
            problems.append(("control_min_m", min(self.control_min_m, self.control_buffer_m), "≥ 0 m"))
        if problems:
            name, value, rng = problems[0]
            raise UserError("errors.sampling.outside_hj_t_range", where=name, name=name, value=value, rng=rng)

    def control_distance_m(self) -> float:
        """How far above the source the upstream control goes: outside the plume and ≥ the minimum.

        The larger of the HJ/T 91 setting, the minimum distance, and the plume's upstream
        P90 extent plus the buffer; rounded up to whole 50 m.
        """
        want = max(self.upstream_control_m, self.control_min_m)
        if self.plume_upstream_m is not None:
            want = max(want, self.plume_upstream_m + self.control_buffer_m)
        return math.ceil(want / 50.0 - 1e-9) * 50.0


@dataclass
class ProposedPoint:
    number: str
    role: str
    name: str
    reach_id: str
    offset_m: float
    km: float
    lat: float
    lon: float
    distance_from_source_m: float  # negative upstream of the source
    width_m: float
    depth_m: float
    verticals: int
    points_per_vertical: int
    receptor_id: str | None = None
    receptor_kind: str | None = None
    name_zh: str | None = None
    mandatory: bool = False
    arrival_h: float | None = None  # forecast leading edge, hours after the release start
    peak_h: float | None = None
    trailing_h: float | None = None
    exceeds_standard: bool = False
    max_exceedance_multiple: float | None = None
    required_qualification: str | None = None
    removed_reason: str | None = None
    note: str = ""
    id: int | None = None  # store id once saved

    @property
    def active(self) -> bool:
        return self.removed_reason is None


@dataclass
class Proposal:
    points: list[ProposedPoint]
    notes: list[str]  # what was left out and why, warnings about missing forecasts


# ---------------------------------------------------------------- walking the river


def position_upstream(
    net: RiverNetworkData, reach_id: str, offset_m: float, distance_m: float
) -> tuple[str, float, float]:
    """Walk ``distance_m`` upstream along the branch; returns (reach, offset, metres actually walked)."""
    reach = net.reach(reach_id)
    remaining, offset = distance_m, offset_m
    walked = 0.0
    while remaining > offset + 1e-9:
        ups = [r for r in net.reaches if r.downstream == reach.reach_id and r.branch == reach.branch]
        if not ups:  # headwater: stop at its top
            return reach.reach_id, 0.0, walked + offset
        walked += offset
        remaining -= offset
        reach = ups[0]
        offset = reach.length_m
    return reach.reach_id, offset - remaining, walked + remaining


def position_downstream(
    net: RiverNetworkData, reach_id: str, offset_m: float, distance_m: float
) -> tuple[str, float] | None:
    """The position ``distance_m`` downstream of (reach, offset), or None past the outlet."""
    remaining = distance_m + offset_m
    for rid in net.path_down(reach_id):
        r = net.reach(rid)
        if remaining <= r.length_m + 1e-9:
            return rid, max(0.0, remaining)
        remaining -= r.length_m
    return None


def forecast_requests(
    net: RiverNetworkData, source_reach: str, source_offset_m: float, settings: PlanSettings | None = None
) -> list[tuple[str, str, float]]:
    """(label, reach_id, offset_m) the planner needs forecast at, besides the receptors.

    Pass these as ``extra_points`` to the forecast service: the routine
    sections and a candidate intermediate section every
    ``intermediate_spacing_km`` down to the outlet.
    """
    settings = settings or PlanSettings()
    settings.check()
    requests: list[tuple[str, str, float]] = []
    up_reach, up_off, _ = position_upstream(net, source_reach, source_offset_m, settings.control_distance_m())
    requests.append((LABEL_UPSTREAM, up_reach, up_off))
    for label, dist in (
        (LABEL_DOWNSTREAM, settings.downstream_control_m),
        (LABEL_ATTENUATION, settings.attenuation_m),
    ):
        pos = position_downstream(net, source_reach, source_offset_m, dist)
        if pos is not None:
            requests.append((label, *pos))
    step = settings.intermediate_spacing_km * 1000
    dist = step
    while (pos := position_downstream(net, source_reach, source_offset_m, dist)) is not None:
        km = net.km_of(*pos)
        requests.append((f"{INTERMEDIATE_PREFIX}{pos[0]}:{km:.1f}", *pos))
        dist += step
    return requests


def find_forecast(
    forecast: IncidentForecast, label: str, reach_id: str, offset_m: float
) -> PointForecast | None:
    for p in forecast.points:
        if p.label == label:
            return p
    near = [
        p
        for p in forecast.points
        if p.reach_id == reach_id and abs(p.offset_m - offset_m) <= MATCH_TOLERANCE_M
    ]
    return min(near, key=lambda p: abs(p.offset_m - offset_m)) if near else None


def forecast_label(p: ProposedPoint) -> str:
    """The label a plan point goes by in a forecast: receptor id, UC/DC/AT, else its number."""
    routine = {
        "upstream_control": LABEL_UPSTREAM,
        "downstream_control": LABEL_DOWNSTREAM,
        "attenuation": LABEL_ATTENUATION,
    }
    return p.receptor_id or routine.get(p.role, p.number)


def _exceeds(pf: PointForecast | None) -> bool:
    if pf is None:
        return False
    return pf.exceed_start_h is not None or (pf.max_exceedance_multiple or 0) > 0


GENERATED_ROLES = ("upstream_control", "downstream_control", "attenuation", "intermediate", "inserted")


def generated_name(role: str, distance_m: float, km: float, reach_id: str, lang: str) -> str:
    """The name the planner gives a point it places itself, in ``lang`` (catalog
    ``sampling.generated.<role>``); stored in English with its Chinese beside it."""
    return t(
        f"sampling.generated.{role}",
        lang=lang,
        m=f"{abs(distance_m):.0f}",
        km=f"{km:.1f}",
        reach=reach_id,
    )


def generated_name_zh(role: str, name: str, distance_m: float, km: float, reach_id: str) -> str | None:
    """The Chinese name of a point the planner named (its stored English name is the generated
    one), else None: a name a person typed stays as typed."""
    if role not in GENERATED_ROLES or name != generated_name(role, distance_m, km, reach_id, "en"):
        return None
    return generated_name(role, distance_m, km, reach_id, "zh")


def make_point(
    net: RiverNetworkData,
    *,
    number: str,
    role: str,
    name: str,
    reach_id: str,
    offset_m: float,
    distance_from_source_m: float,
    forecast_point: PointForecast | None = None,
    **extra: Any,
) -> ProposedPoint:
    """A point with its km, WGS84 lat/lon on the river line and HJ/T 91 verticals/depths."""
    reach = net.reach(reach_id)
    lat, lon = net.point_at(reach_id, offset_m)
    pf = forecast_point
    km = net.km_of(reach_id, offset_m)
    if extra.get("name_zh") is None:
        extra["name_zh"] = generated_name_zh(role, name, distance_from_source_m, km, reach_id)
    return ProposedPoint(
        number=number,
        role=role,
        name=name,
        reach_id=reach_id,
        offset_m=offset_m,
        km=km,
        lat=lat,
        lon=lon,
        distance_from_source_m=distance_from_source_m,
        width_m=reach.width_m,
        depth_m=reach.depth_m,
        verticals=verticals_for_width(reach.width_m),
        points_per_vertical=points_per_vertical(reach.depth_m),
        arrival_h=pf.leading_edge_h if pf else None,
        peak_h=pf.peak_h if pf else None,
        trailing_h=pf.trailing_edge_h if pf else None,
        exceeds_standard=_exceeds(pf),
        max_exceedance_multiple=pf.max_exceedance_multiple if pf else None,
        **extra,
    )


def propose_points(
    net: RiverNetworkData,
    source_reach: str,
    source_offset_m: float,
    forecast: IncidentForecast,
    *,
    pollutant_class: str | None = None,
    settings: PlanSettings | None = None,
) -> Proposal:
    """Propose the monitoring points of a new plan, numbered S1…Sn in flow order."""
    settings = settings or PlanSettings()
    settings.check()
    notes: list[str] = []
    points: list[ProposedPoint] = []

    def add(
        role: str, name: str, reach_id: str, offset_m: float, dist: float, label: str, **extra: Any
    ) -> None:
        pf = find_forecast(forecast, label, reach_id, offset_m)
        points.append(
            make_point(
                net,
                number="",
                role=role,
                name=name,
                reach_id=reach_id,
                offset_m=offset_m,
                distance_from_source_m=dist,
                forecast_point=pf,
                **extra,
            )
        )

    # upstream control (reference) section: above the plume's upstream extent, ≥ the minimum
    want = settings.control_distance_m()
    up_reach, up_off, walked = position_upstream(net, source_reach, source_offset_m, want)
    if want > 600 + 1e-6 and walked + 1e-6 >= want:
        notes.append(
            f"upstream control placed {walked:.0f} m above the source, beyond HJ/T 91's 100–600 m: "
            f"the plume is detectable up to {settings.plume_upstream_m or 0:.0f} m above it (ensemble P90)"
        )
    if walked + 1e-6 < 100:
        notes.append(
            f"the source is only {walked:.0f} m below the headwater: no upstream control section "
            "can be placed 100–600 m above it (HJ/T 91); sample background at the headwater instead"
        )
    else:
        if walked + 1e-6 < want:
            notes.append(
                f"upstream control placed {walked:.0f} m above the source (the headwater is that close)"
                + (
                    f"; it may lie inside the plume (upstream P90 extent {settings.plume_upstream_m:.0f} m)"
                    if settings.plume_upstream_m is not None and walked <= settings.plume_upstream_m
                    else ""
                )
            )
        add(
            "upstream_control",
            generated_name("upstream_control", walked, net.km_of(up_reach, up_off), up_reach, "en"),
            up_reach,
            up_off,
            -walked,
            LABEL_UPSTREAM,
        )

    # downstream control and attenuation sections
    for role, label, along_m, title in (
        ("downstream_control", LABEL_DOWNSTREAM, settings.downstream_control_m, "Downstream control"),
        ("attenuation", LABEL_ATTENUATION, settings.attenuation_m, "Attenuation section"),
    ):
        pos = position_downstream(net, source_reach, source_offset_m, along_m)
        if pos is None:
            notes.append(f"{title.lower()} would be past the outlet ({along_m:.0f} m below the source)")
            continue
        add(
            role, generated_name(role, along_m, net.km_of(*pos), pos[0], "en"), pos[0], pos[1], along_m, label
        )

    # receptors: every one the plume reaches above the detection threshold is mandatory
    qual = settings.field_test_qualification.get(pollutant_class or "")
    for rc in net.receptors:
        dist = net.distance_downstream_m(source_reach, source_offset_m, rc.reach_id, rc.offset_m)
        if dist is None:
            continue
        pf = find_forecast(forecast, rc.receptor_id, rc.reach_id, rc.offset_m)
        if pf is None:
            notes.append(
                f"{rc.receptor_id} {rc.name}: no forecast there — kept as a mandatory point to be safe"
            )
        elif not pf.reached:
            notes.append(
                f"{rc.receptor_id} {rc.name} (km {rc.km:.1f}): plume not above the detection limit "
                f"within the {forecast.horizon_h:g} h forecast — not in the plan; re-propose if that changes"
            )
            continue
        add(
            RECEPTOR_ROLE.get(rc.kind, "receptor"),
            rc.name,
            rc.reach_id,
            rc.offset_m,
            dist,
            rc.receptor_id,
            receptor_id=rc.receptor_id,
            receptor_kind=rc.kind,
            name_zh=rc.name_zh,
            mandatory=True,
            required_qualification=qual if rc.kind == "drinking_water_intake" else None,
        )

    # intermediate sections where the forecast exceeds the standard
    spacing_m = settings.intermediate_spacing_km * 1000
    candidates = []
    for pf in forecast.points:
        if pf.label in (LABEL_UPSTREAM, LABEL_DOWNSTREAM, LABEL_ATTENUATION) or pf.kind != "point":
            continue
        if not _exceeds(pf):
            continue
        try:
            dist = net.distance_downstream_m(source_reach, source_offset_m, pf.reach_id, pf.offset_m)
        except UserError:
            continue
        if dist is not None and dist > 0:
            candidates.append((dist, pf))
    for dist, pf in sorted(candidates, key=lambda c: c[0]):
        if all(abs(dist - p.distance_from_source_m) >= spacing_m / 2 for p in points):
            km = net.km_of(pf.reach_id, pf.offset_m)
            add(
                "intermediate",
                generated_name("intermediate", dist, km, pf.reach_id, "en"),
                pf.reach_id,
                pf.offset_m,
                dist,
                pf.label,
            )

    points.sort(key=lambda p: p.distance_from_source_m)
    for i, p in enumerate(points, start=1):
        p.number = f"S{i}"
    return Proposal(points=points, notes=notes)


# ---------------------------------------------------------------- numbering


def number_key(number: str) -> tuple[int, ...]:
    """Sort key of S3, S3-1, S3-1-2 ... (numeric, level by level)."""
    body = number[1:] if number[:1].upper() == "S" else number
    try:
        return tuple(int(part) for part in body.split("-"))
    except ValueError as exc:
        raise UserError("errors.sampling.not_point_number", number=repr(number)) from exc


def sub_number(after: str, existing: list[str]) -> str:
    """The next sub-level number after ``after``: S3 → S3-1, then S3-2; S3-1 → S3-1-1."""
    depth = len(number_key(after))
    children = [
        number_key(n)
        for n in existing
        if len(number_key(n)) == depth + 1 and number_key(n)[:depth] == number_key(after)
    ]
    nxt = max((c[-1] for c in children), default=0) + 1
    return f"{after}-{nxt}"
