"""Put the register on the river: reach + offset for every source, intake and interception point,
and the evaluation standard for every substance. Refused whole, like the files."""

from __future__ import annotations

from dataclasses import dataclass

from incident.core.errors import UserError
from incident.core.rivers import RiverNetworkData
from incident.preplan.inputs import (
    Intake,
    InterceptionPoint,
    Place,
    Register,
    RiskSource,
    Substance,
    _Problems,
)

MAX_SNAP_M = 1000.0  # as for the river file's receptors


@dataclass(frozen=True)
class Position:
    reach_id: str
    offset_m: float
    km: float
    lat: float
    lon: float


@dataclass(frozen=True)
class ResolvedSubstance:
    key: str  # the standards key when known, else the name as written
    name: str
    name_zh: str
    max_release_kg: float
    release_duration_h: float
    standard_mg_l: float
    decay_per_day: float

    @property
    def severity(self) -> float:
        """Volume of water the release could bring to the standard (kg ÷ mg/L = 1000 m³): the
        governing substance of a source is the one with the largest."""
        return self.max_release_kg / self.standard_mg_l


@dataclass(frozen=True)
class PlacedSource:
    model: RiskSource
    position: Position
    substances: tuple[ResolvedSubstance, ...]
    where: str

    @property
    def governing(self) -> ResolvedSubstance:
        return max(self.substances, key=lambda s: (s.severity, s.key))


@dataclass(frozen=True)
class PlacedIntake:
    model: Intake
    position: Position
    where: str


@dataclass(frozen=True)
class PlacedInterception:
    model: InterceptionPoint
    position: Position
    where: str


@dataclass(frozen=True)
class PlacedRegister:
    sources: tuple[PlacedSource, ...]
    intakes: tuple[PlacedIntake, ...]
    interception_points: tuple[PlacedInterception, ...]


def _position(net: RiverNetworkData, place: Place, where: str, problems: _Problems) -> Position | None:
    if place.reach is not None and place.km is not None:
        ids = [r.reach_id for r in net.reaches]
        if place.reach not in ids:
            problems.add(where, "unknown_reach", field="reach", reach=place.reach, reaches=", ".join(ids))
            return None
        r = net.reach(place.reach)
        offset = (place.km - r.km_start) * 1000.0
        if offset < -1e-6 or offset > r.length_m + 1e-6:
            problems.add(
                where,
                "km_outside",
                field="km",
                km=f"{place.km:g}",
                reach=r.reach_id,
                start=f"{r.km_start:.3f}",
                end=f"{r.km_start + r.length_m / 1000:.3f}",
            )
            return None
        offset = min(max(offset, 0.0), r.length_m)
        lat, lon = net.point_at(r.reach_id, offset)
        return Position(r.reach_id, offset, r.km_start + offset / 1000.0, lat, lon)
    assert place.lat is not None and place.lon is not None
    snap = net.snap(place.lat, place.lon)
    if snap.distance_off_m > MAX_SNAP_M:
        problems.add(
            where, "far", field="lon/lat", distance=f"{snap.distance_off_m:.0f}", limit=f"{MAX_SNAP_M:.0f}"
        )
        return None
    return Position(snap.reach_id, snap.offset_m, snap.km, place.lat, place.lon)


def _substance(sub: Substance, where: str, problems: _Problems) -> ResolvedSubstance | None:
    from incident.core import standards

    try:
        parameter = standards.resolve_parameter(sub.substance, where=where)
    except UserError:
        parameter = None
    limit = sub.standard_mg_l
    if limit is None and parameter is not None:
        limit = parameter.limit_for(standards.DEFAULT_CLASS)
    if limit is None:
        problems.add(where, "unknown_substance", field="substance", substance=sub.substance)
        return None
    return ResolvedSubstance(
        key=parameter.key if parameter else sub.substance,
        name=parameter.name if parameter else sub.substance,
        name_zh=parameter.name_zh if parameter else sub.substance,
        max_release_kg=sub.max_release_kg,
        release_duration_h=sub.release_duration_h,
        standard_mg_l=float(limit),
        decay_per_day=sub.decay_per_day,
    )


def place_register(net: RiverNetworkData, sources: Register, intakes: Register) -> PlacedRegister:
    """Resolve every place and substance; raise ValidationErrors naming each problem's file and entry."""
    src_problems = _Problems(sources.source)
    placed_sources = []
    for s in sources.risk_sources:
        where = sources.where[s.id]
        pos = _position(net, s.place, where, src_problems)
        subs = [_substance(sub, where, src_problems) for sub in s.substances]
        if pos is not None and all(subs):
            placed_sources.append(PlacedSource(s, pos, tuple(x for x in subs if x), where))
    src_problems.raise_if_any()

    problems = _Problems(intakes.source)
    receptors = {rc.receptor_id: rc for rc in net.receptors}
    placed_intakes = []
    for i in intakes.intakes:
        where = intakes.where[i.id]
        if i.receptor is not None:
            rc = receptors.get(i.receptor)
            if rc is None:
                problems.add(
                    where,
                    "unknown_receptor",
                    field="receptor",
                    receptor=i.receptor,
                    receptors=", ".join(receptors),
                )
                continue
            pos = Position(rc.reach_id, rc.offset_m, rc.km, rc.lat, rc.lon)
        else:
            assert i.place is not None
            pos = _position(net, i.place, where, problems)
        if pos is not None:
            placed_intakes.append(PlacedIntake(i, pos, where))
    placed_ips = []
    for p in intakes.interception_points:
        where = intakes.where[p.id]
        pos = _position(net, p.place, where, problems)
        if pos is not None:
            placed_ips.append(PlacedInterception(p, pos, where))
    problems.raise_if_any()
    return PlacedRegister(tuple(placed_sources), tuple(placed_intakes), tuple(placed_ips))
