"""Plan, run and assemble pre-plan rows: only rows whose input hash changed are recomputed.

A row is one risk source × one downstream intake × one flow scenario. Its input hash covers what its
numbers depend on and nothing else: the scaled river arrays of the flow scenario, the source's
place and governing release, the intake's place, the interception points between them (place and
response time), the settings and the model version. A contact's phone number or a name is not an
input, so editing one recomputes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from incident.core.rivers import RiverNetworkData
from incident.preplan.compute import (
    Metrics,
    PointResult,
    Release,
    Settings,
    Unit,
    content_hash,
    model_version,
)
from incident.preplan.flows import FlowCase
from incident.preplan.places import PlacedIntake, PlacedInterception, PlacedRegister, PlacedSource, Position


@dataclass
class BuildReport:
    rows: list[dict[str, Any]]
    computed: list[str] = field(default_factory=list)  # row keys recomputed
    reused: list[str] = field(default_factory=list)  # row keys whose hash was unchanged
    removed: list[str] = field(default_factory=list)  # row keys no longer in the plan
    units: int = 0


def row_key(source_id: str, intake_id: str, flow: str) -> str:
    return f"{source_id}|{intake_id}|{flow}"


def _downstream_m(net: RiverNetworkData, a: Position, b: Position) -> float | None:
    return net.distance_downstream_m(a.reach_id, a.offset_m, b.reach_id, b.offset_m)


def _releases(src: PlacedSource, settings: Settings) -> tuple[Release, Release]:
    g = src.governing
    standard = Release(
        settings.standard_release_kg, settings.standard_release_h, g.standard_mg_l, g.decay_per_day
    )
    credible = Release(g.max_release_kg, g.release_duration_h, g.standard_mg_l, g.decay_per_day)
    return standard, credible


def _position_hash(p: Position) -> list[object]:
    return [p.reach_id, round(p.offset_m, 3)]


@dataclass(frozen=True)
class _Pair:
    source: PlacedSource
    intake: PlacedIntake
    distance_m: float
    between: tuple[tuple[PlacedInterception, float], ...]  # with distance from the source


def _pairs(net: RiverNetworkData, reg: PlacedRegister) -> list[_Pair]:
    out = []
    for src in reg.sources:
        for intake in reg.intakes:
            d = _downstream_m(net, src.position, intake.position)
            if d is None or d <= 0:
                continue
            between = []
            for ip in reg.interception_points:
                d_ip = _downstream_m(net, src.position, ip.position)
                if d_ip is None or d_ip <= 0:
                    continue
                if _downstream_m(net, ip.position, intake.position) is None:
                    continue
                between.append((ip, d_ip))
            between.sort(key=lambda x: (x[1], x[0].model.id))
            out.append(_Pair(src, intake, d, tuple(between)))
    return out


def row_hash(pair: _Pair, flow: FlowCase, settings: Settings, version: str) -> str:
    standard, credible = _releases(pair.source, settings)
    return content_hash(
        version,
        settings,
        flow.content_hash,
        {"source": _position_hash(pair.source.position), "standard": standard, "credible": credible},
        {"intake": _position_hash(pair.intake.position)},
        [[ip.model.id, _position_hash(ip.position), ip.model.response_h] for ip, _ in pair.between],
    )


def plan(
    net: RiverNetworkData,
    reg: PlacedRegister,
    flows: Sequence[FlowCase],
    settings: Settings,
    previous: dict[str, dict[str, Any]] | None = None,
) -> tuple[list[Unit], dict[str, tuple[_Pair, FlowCase, str]], list[str]]:
    """Units to run for the rows whose hash is not in `previous` (row key -> row).

    Returns (units, every row key -> (pair, flow, hash), keys reused from previous)."""
    previous = previous or {}
    version = model_version()
    wanted: dict[str, tuple[_Pair, FlowCase, str]] = {}
    reused: list[str] = []
    todo: dict[tuple[str, str], list[_Pair]] = {}
    pairs = _pairs(net, reg)
    for flow in flows:
        for pair in pairs:
            key = row_key(pair.source.model.id, pair.intake.model.id, flow.scenario.name)
            digest = row_hash(pair, flow, settings, version)
            wanted[key] = (pair, flow, digest)
            if previous.get(key, {}).get("input_hash") == digest:
                reused.append(key)
            else:
                todo.setdefault((pair.source.model.id, flow.scenario.name), []).append(pair)
    by_flow = {f.scenario.name: f for f in flows}
    units = []
    for (source_id, flow_name), todo_pairs in todo.items():
        flow = by_flow[flow_name]
        src = todo_pairs[0].source
        points: dict[str, tuple[str, int, float]] = {}
        for pair in todo_pairs:
            for label, pos in [(f"intake:{pair.intake.model.id}", pair.intake.position)] + [
                (f"ip:{ip.model.id}", ip.position) for ip, _ in pair.between
            ]:
                points[label] = (label, flow.reach_index[pos.reach_id], pos.offset_m)
        standard, credible = _releases(src, settings)
        units.append(
            Unit(
                key=f"{source_id}|{flow_name}",
                specs=flow.specs,
                dispersion_low_m2s=flow.dispersion_low_m2s,
                dispersion_high_m2s=flow.dispersion_high_m2s,
                source=(flow.reach_index[src.position.reach_id], src.position.offset_m),
                standard=standard,
                credible=credible,
                points=tuple(points[k] for k in sorted(points)),
                settings=settings,
            )
        )
    return units, wanted, reused


def _r(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(float(x), digits)


def _metrics_dict(m: Metrics) -> dict[str, Any]:
    return {
        "arrival_p10_h": _r(m.arrival_p10_h),
        "arrival_p50_h": _r(m.arrival_p50_h),
        "arrival_p90_h": _r(m.arrival_p90_h),
        "peak_mg_l": _r(m.peak_mg_l, 6),
        "peak_mg_l_p90": _r(m.peak_mg_l_p90, 6),
        "hours_above_standard": _r(m.hours_above_standard),
        "hours_above_standard_p90": _r(m.hours_above_standard_p90),
        "reach_probability": _r(m.reach_probability),
    }


def make_row(
    pair: _Pair,
    flow: FlowCase,
    digest: str,
    results: dict[str, PointResult],
    settings: Settings,
    version: str,
) -> dict[str, Any]:
    """One row: the maximum credible release's numbers at the top level, the standard release's
    under `standard_release`, and each interception point between with its hours to act."""
    src, intake = pair.source, pair.intake
    g = src.governing
    at_intake = results[f"intake:{intake.model.id}"]
    row: dict[str, Any] = {
        "key": row_key(src.model.id, intake.model.id, flow.scenario.name),
        "source_id": src.model.id,
        "source_name": src.model.name,
        "source_name_zh": src.model.name_zh,
        "source_kind": src.model.kind,
        "source_reach": src.position.reach_id,
        "source_km": round(src.position.km, 3),
        "intake_id": intake.model.id,
        "intake_name": intake.model.name,
        "intake_name_zh": intake.model.name_zh,
        "population_served": intake.model.population_served,
        "reserve_h": intake.model.reserve_h,
        "flow": flow.scenario.name,
        "discharge_factor": flow.scenario.discharge_factor,
        "distance_km": round(pair.distance_m / 1000.0, 3),
        "substance": g.key,
        "substance_name": g.name,
        "substance_name_zh": g.name_zh,
        "standard_mg_l": g.standard_mg_l,
        "release_kg": g.max_release_kg,
        "release_h": g.release_duration_h,
        **_metrics_dict(at_intake.credible),
        "standard_release": {
            "release_kg": settings.standard_release_kg,
            "release_h": settings.standard_release_h,
            **_metrics_dict(at_intake.standard),
        },
        "interception_points": [],
        "input_hash": digest,
        "model_version": version,
        "n_members": settings.n_members,
    }
    for ip, d_ip in pair.between:
        m = results[f"ip:{ip.model.id}"].credible
        to_act = None if m.arrival_p10_h is None else m.arrival_p10_h - ip.model.response_h
        row["interception_points"].append(
            {
                "id": ip.model.id,
                "name": ip.model.name,
                "name_zh": ip.model.name_zh,
                "kind": ip.model.kind,
                "distance_km": round(d_ip / 1000.0, 3),
                "response_h": ip.model.response_h,
                "arrival_p10_h": _r(m.arrival_p10_h),
                "arrival_p50_h": _r(m.arrival_p50_h),
                "hours_to_act": _r(to_act),
            }
        )
    return row


def refresh_labels(row: dict[str, Any], pair: _Pair) -> dict[str, Any]:
    """A reused row with today's names (names are not inputs of the numbers)."""
    src, intake = pair.source, pair.intake
    names = {ip.model.id: ip.model for ip, _ in pair.between}
    out = {
        **row,
        "source_name": src.model.name,
        "source_name_zh": src.model.name_zh,
        "source_kind": src.model.kind,
        "intake_name": intake.model.name,
        "intake_name_zh": intake.model.name_zh,
        "population_served": intake.model.population_served,
        "reserve_h": intake.model.reserve_h,
    }
    out["interception_points"] = [
        {**ip, "name": names[ip["id"]].name, "name_zh": names[ip["id"]].name_zh, "kind": names[ip["id"]].kind}
        for ip in row.get("interception_points", [])
    ]
    return out


def build_rows(
    net: RiverNetworkData,
    reg: PlacedRegister,
    flows: Sequence[FlowCase],
    settings: Settings,
    execute: Callable[[list[Unit]], dict[str, dict[str, PointResult]]],
    previous: dict[str, dict[str, Any]] | None = None,
) -> BuildReport:
    """Rows for every source × downstream intake × flow, running only the stale ones through `execute`."""
    previous = previous or {}
    units, wanted, reused = plan(net, reg, flows, settings, previous)
    results = execute(units)
    version = model_version()
    reused_set = set(reused)
    rows, computed = [], []
    for key, (pair, flow, digest) in wanted.items():
        if key in reused_set:
            rows.append(refresh_labels(previous[key], pair))
            continue
        unit_key = f"{pair.source.model.id}|{flow.scenario.name}"
        rows.append(make_row(pair, flow, digest, results[unit_key], settings, version))
        computed.append(key)
    rows.sort(key=lambda r: (r["intake_id"], r["source_id"], r["flow"]))
    removed = sorted(set(previous) - set(wanted))
    return BuildReport(rows, sorted(computed), sorted(reused), removed, len(units))
