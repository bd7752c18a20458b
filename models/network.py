"""River networks as plain arrays: a tree of reaches draining to one outlet.

`validate_network` is the pure-array guard the solver relies on. The incident layer does its own
file-level validation (with GeoJSON feature numbers); messages here name the reach by index and name
and say how to fix it, because they may reach a user unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ReachSpec", "validate_network", "upstream_reaches", "network_order", "downstream_discharge_m3s"]


@dataclass(frozen=True)
class ReachSpec:
    """One reach of channel with uniform properties (OTIS "segment" parameters, SI units).

    `discharge_m3s` is Q at the reach's upstream end; lateral inflow `lateral_inflow_m2s` (q_L, m³/s per
    metre) adds flow along the reach, so Q(x) = Q0 + q_L·x. A negative q_L is a lateral outflow, which
    removes water at the channel concentration.
    """

    name: str
    length_m: float
    downstream: int | None
    discharge_m3s: float
    area_m2: float
    dispersion_m2s: float
    lateral_inflow_m2s: float = 0.0
    lateral_conc_mg_l: float = 0.0
    storage_area_m2: float = 0.0
    exchange_rate_per_s: float = 0.0


def downstream_discharge_m3s(reach: ReachSpec) -> float:
    """Q at the reach's downstream end."""
    return reach.discharge_m3s + reach.lateral_inflow_m2s * reach.length_m


def _label(index: int, reach: ReachSpec) -> str:
    return f"reach {index} ({reach.name!r})"


def _check_reach(index: int, reach: ReachSpec, n_reaches: int) -> None:
    label = _label(index, reach)
    fields = {
        "length_m": reach.length_m,
        "discharge_m3s": reach.discharge_m3s,
        "area_m2": reach.area_m2,
        "dispersion_m2s": reach.dispersion_m2s,
        "lateral_inflow_m2s": reach.lateral_inflow_m2s,
        "lateral_conc_mg_l": reach.lateral_conc_mg_l,
        "storage_area_m2": reach.storage_area_m2,
        "exchange_rate_per_s": reach.exchange_rate_per_s,
    }
    for field, value in fields.items():
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"{label}: {field} must be a finite number (got {value!r})")
    positive = {
        "length_m": "give the reach length in metres",
        "discharge_m3s": "give the flow at the reach's upstream end in m³/s",
        "area_m2": "give the main-channel cross-section in m² (width × mean depth)",
    }
    for field, fix in positive.items():
        if fields[field] <= 0:
            raise ValueError(f"{label}: {field} must be > 0 (got {fields[field]!r}); {fix}")
    non_negative = {
        "dispersion_m2s": "give the longitudinal dispersion in m²/s (see models.hydraulics.dispersion_spread)",
        "lateral_conc_mg_l": "give the lateral-inflow concentration in mg/L",
        "storage_area_m2": "use 0 for no transient storage",
        "exchange_rate_per_s": "use 0 for no transient storage",
    }
    for field, fix in non_negative.items():
        if fields[field] < 0:
            raise ValueError(f"{label}: {field} must be ≥ 0 (got {fields[field]!r}); {fix}")
    if reach.exchange_rate_per_s > 0 and reach.storage_area_m2 == 0:
        raise ValueError(
            f"{label}: exchange_rate_per_s = {reach.exchange_rate_per_s!r} but storage_area_m2 = 0; "
            "give a storage area > 0 or set exchange_rate_per_s to 0"
        )
    if downstream_discharge_m3s(reach) <= 0:
        raise ValueError(
            f"{label}: lateral outflow empties the channel (Q at the downstream end = "
            f"{downstream_discharge_m3s(reach):.4g} m³/s); reduce the magnitude of lateral_inflow_m2s"
        )
    down = reach.downstream
    if down is not None:
        if isinstance(down, bool) or not isinstance(down, int) and not hasattr(down, "__index__"):
            raise ValueError(f"{label}: downstream must be a reach index or None (got {down!r})")
        if not 0 <= int(down) < n_reaches:
            raise ValueError(
                f"{label}: downstream = {down!r} is not a reach index (0..{n_reaches - 1}); "
                "give the index of the reach it drains into, or None for the outlet"
            )
        if int(down) == index:
            raise ValueError(f"{label}: downstream points to itself; give the next reach down, or None")


def validate_network(reaches: Sequence[ReachSpec]) -> None:
    """Raise `ValueError` naming the reach and the fix if `reaches` is not a valid tree.

    Checks: positive length, discharge and area; non-negative dispersion, storage and lateral
    concentration; downstream indices in range; exactly one outlet; no cycles.
    """
    if len(reaches) == 0:
        raise ValueError("the network has no reaches; give at least one ReachSpec")
    n = len(reaches)
    for index, reach in enumerate(reaches):
        if not isinstance(reach, ReachSpec):
            raise ValueError(f"reach {index}: expected a ReachSpec (got {type(reach).__name__})")
        _check_reach(index, reach, n)
    outlets = [i for i, r in enumerate(reaches) if r.downstream is None]
    if len(outlets) == 0:
        raise ValueError("the network has no outlet; set downstream=None on the most downstream reach")
    if len(outlets) > 1:
        names = ", ".join(_label(i, reaches[i]) for i in outlets)
        raise ValueError(
            f"the network has {len(outlets)} outlets ({names}); exactly one reach may have downstream=None — "
            "join the others to the reach they drain into"
        )
    for start in range(n):
        seen: set[int] = set()
        current: int | None = start
        while current is not None:
            if current in seen:
                raise ValueError(
                    f"{_label(start, reaches[start])}: following downstream links from here loops back to "
                    f"{_label(current, reaches[current])}; the network must be a tree draining to one outlet"
                )
            seen.add(current)
            nxt = reaches[current].downstream
            current = None if nxt is None else int(nxt)


def upstream_reaches(reaches: Sequence[ReachSpec]) -> list[list[int]]:
    """For each reach, the indices of the reaches draining into it (in list order)."""
    ups: list[list[int]] = [[] for _ in reaches]
    for i, reach in enumerate(reaches):
        if reach.downstream is not None:
            ups[int(reach.downstream)].append(i)
    return ups


def network_order(reaches: Sequence[ReachSpec]) -> list[int]:
    """Reach indices ordered upstream-first, with each reach's main tributary right before it.

    The main tributary is the upstream reach with the largest outflow. Laying cells out in this order
    makes every main-stem connection adjacent in memory, so the solver's matrix is tridiagonal apart
    from one coupling pair per side-tributary junction.
    """
    ups = upstream_reaches(reaches)
    outlet = next(i for i, r in enumerate(reaches) if r.downstream is None)
    order: list[int] = []
    # Iterative post-order: visit side tributaries first, then the main one, then the reach itself.
    stack: list[tuple[int, bool]] = [(outlet, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        stack.append((node, True))
        children = sorted(ups[node], key=lambda i: downstream_discharge_m3s(reaches[i]))
        # LIFO: push the main tributary first so its subtree is emitted last, right before `node`.
        if children:
            main, sides = children[-1], children[:-1]
            stack.append((main, False))
            for side in sides:
                stack.append((side, False))
    return order
