"""Flow scenarios: the river at low, median and high flow, as arrays for the fast plume model.

A scenario multiplies every reach's discharge by a factor; the channel follows the at-a-station
hydraulic geometry of Leopold & Maddock (1953, USGS PP 252; mean exponents W ∝ Q^0.26, H ∝ Q^0.40,
U ∝ Q^0.34), and dispersion is re-estimated from the scaled channel (the four formulas' spread
bounds the ensemble, as in an incident forecast). A velocity, area or dispersion coefficient given in
the river file is scaled the same way (U by f^0.34, A by f^0.66, K by Fischer's K ∝ U²W²/(H·u*) ∝ f^0.6).

The factors come, in this order, from the command line (``low=0.4``), from the river file's
collection member ``"flow_scenarios": {"low": 0.4, "median": 1.0, "high": 2.5}``, or from the
defaults below; the river file's discharges are taken as the median flow.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

from incident.core.errors import UserError
from incident.core.rivers import ReachData, RiverNetworkData

DEFAULT_FACTORS = {"low": 0.5, "median": 1.0, "high": 2.0}
WIDTH_EXP, DEPTH_EXP, VELOCITY_EXP = 0.26, 0.40, 0.34
DISPERSION_EXP = 2 * VELOCITY_EXP + 2 * WIDTH_EXP - 1.5 * DEPTH_EXP  # Fischer with u* ∝ √H


@dataclass(frozen=True)
class FlowScenario:
    name: str
    discharge_factor: float


@dataclass(frozen=True)
class FlowCase:
    """One scenario as model arrays (picklable: sent to worker processes)."""

    scenario: FlowScenario
    specs: tuple[Any, ...]  # tuple[models.network.ReachSpec, ...]
    dispersion_low_m2s: tuple[float, ...]
    dispersion_high_m2s: tuple[float, ...]
    reach_index: dict[str, int]
    content_hash: str


def river_factors(net: RiverNetworkData) -> dict[str, float]:
    """The river file's own scenario factors (``flow_scenarios`` on the collection), if any."""
    try:
        doc = json.loads(net.text)
    except (ValueError, TypeError):
        return {}
    given = doc.get("flow_scenarios") if isinstance(doc, dict) else None
    out: dict[str, float] = {}
    if isinstance(given, dict):
        for name, value in given.items():
            factor = value.get("discharge_factor") if isinstance(value, dict) else value
            if isinstance(factor, int | float) and not isinstance(factor, bool) and factor > 0:
                out[str(name)] = float(factor)
    return out


def parse_flows(text: str | None, net: RiverNetworkData, *, where: str = "--flows") -> list[FlowScenario]:
    """``low,median,high`` or ``low=0.4,median,high=2.5`` → scenarios (river file, then defaults)."""
    known = {**DEFAULT_FACTORS, **river_factors(net)}
    out: list[FlowScenario] = []
    for part in (text or "low,median,high").split(","):
        part = part.strip()
        if not part:
            continue
        name, _, value = part.partition("=")
        name = name.strip()
        if value:
            try:
                factor = float(value)
            except ValueError:
                factor = -1.0
            if not factor > 0 or factor == float("inf"):
                raise UserError("preplan.err.flow_factor", where=where, value=value)
        elif name in known:
            factor = known[name]
        else:
            raise UserError("preplan.err.flow", where=where, name=name)
        if name not in {f.name for f in out}:
            out.append(FlowScenario(name, factor))
    if not out:
        raise UserError("preplan.err.flow", where=where, name=text or "")
    return out


def _scaled_reach(r: ReachData, f: float) -> ReachData:
    optional = dict(r.optional)
    for key, exp in (
        ("velocity_ms", VELOCITY_EXP),
        ("area_m2", 1.0 - VELOCITY_EXP),
        ("dispersion_m2s", DISPERSION_EXP),
        ("lateral_inflow_m2s", 1.0),
    ):
        if optional.get(key):
            optional[key] = optional[key] * f**exp
    return replace(
        r,
        discharge_m3s=r.discharge_m3s * f,
        width_m=r.width_m * f**WIDTH_EXP,
        depth_m=r.depth_m * f**DEPTH_EXP,
        optional=optional,
    )


def flow_case(net: RiverNetworkData, scenario: FlowScenario) -> FlowCase:
    """Reach arrays and dispersion bounds for one scenario, with the hash of everything in them."""
    from incident.plume import GIVEN_DISPERSION_SPREAD, build_reach_specs, reach_hydraulics

    scaled = replace(net, reaches=[_scaled_reach(r, scenario.discharge_factor) for r in net.reaches])
    hydraulics, _ = reach_hydraulics(scaled)
    specs = tuple(build_reach_specs(scaled, hydraulics))
    low, high = [], []
    for h in hydraulics:
        if h.dispersion_source == "given" or not h.spread_m2s:
            low.append(h.dispersion_m2s / GIVEN_DISPERSION_SPREAD)
            high.append(h.dispersion_m2s * GIVEN_DISPERSION_SPREAD)
        else:
            values = list(h.spread_m2s.values())
            low.append(min(values))
            high.append(max(values))
    content = {
        "scenario": [scenario.name, scenario.discharge_factor],
        "reaches": [[repr(v) for v in vars(s).values()] for s in specs],
        "low": [repr(v) for v in low],
        "high": [repr(v) for v in high],
    }
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    return FlowCase(
        scenario=scenario,
        specs=specs,
        dispersion_low_m2s=tuple(float(v) for v in low),
        dispersion_high_m2s=tuple(float(v) for v in high),
        reach_index={r.reach_id: i for i, r in enumerate(net.reaches)},
        content_hash=digest,
    )
