"""One unit of pre-plan work: one risk source at one flow, to the points downstream of it.

A pure function of picklable inputs (arrays and numbers, no files, no database), so the same unit
gives the same numbers in this process, in a worker process or on a Dask worker.

Per point and per release (the standard release and the source's maximum credible release) the
ensemble (`models.ensemble.run_ensemble`) gives, over `n_members` members:

* arrival: the leading edge (first time above the detection threshold, 1 % of the standard), P10/P50/P90;
* peak concentration, P50 and P90 (members that never arrive count as background);
* hours above the standard, P50 and P90 (0 for members that stay below it).

Members sample the river, not the release: velocity (log-normal, σ_ln = 0.15) and dispersion
(log-uniform between the four formulas), because a pre-plan's release is a scenario, not a report.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.ensemble import EnsembleInputs, run_ensemble
from models.fastplume import Routes, route

MODEL_NAME = "preplan-1"
MODEL_FILES = ("ensemble.py", "fastplume.py", "network.py")


@dataclass(frozen=True)
class Settings:
    """Everything besides the river and the register that the numbers depend on."""

    n_members: int = 200
    seed: int = 0
    standard_release_kg: float = 1000.0  # the same release at every source, to compare places
    standard_release_h: float = 0.5
    velocity_sigma_ln: float = 0.15
    min_horizon_h: float = 72.0
    detection_fraction: float = 0.01  # detection threshold = this × the standard

    def check(self) -> None:
        if not isinstance(self.n_members, int) or not 1 <= self.n_members <= 100_000:
            raise ValueError(f"n_members must be a whole number from 1 to 100000 (got {self.n_members!r})")
        for name in ("standard_release_kg", "min_horizon_h", "detection_fraction"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0")


def model_version() -> str:
    """`MODEL_NAME` and a digest of the model sources, so a change to the science recomputes every row."""
    import models

    root = Path(models.__file__).resolve().parent
    digest = hashlib.sha256()
    for name in MODEL_FILES:
        digest.update((root / name).read_bytes())
    return f"{MODEL_NAME}+{digest.hexdigest()[:12]}"


@dataclass(frozen=True)
class Release:
    mass_kg: float
    duration_h: float
    standard_mg_l: float
    decay_per_day: float


@dataclass(frozen=True)
class Unit:
    """One source × one flow; `points` are (label, reach index, offset m) downstream of the source."""

    key: str
    specs: tuple[Any, ...]
    dispersion_low_m2s: tuple[float, ...]
    dispersion_high_m2s: tuple[float, ...]
    source: tuple[int, float]
    standard: Release
    credible: Release
    points: tuple[tuple[str, int, float], ...]
    settings: Settings


@dataclass(frozen=True)
class Metrics:
    """One release at one point; hours from the release start, None = not within the horizon."""

    arrival_p10_h: float | None
    arrival_p50_h: float | None
    arrival_p90_h: float | None
    peak_mg_l: float
    peak_mg_l_p90: float
    hours_above_standard: float
    hours_above_standard_p90: float
    reach_probability: float


@dataclass(frozen=True)
class PointResult:
    standard: Metrics
    credible: Metrics


def _hours(seconds: float) -> float | None:
    return None if not math.isfinite(seconds) else float(seconds) / 3600.0


def horizon_s(unit: Unit) -> float:
    """Long enough for the slowest members to pass the outlet: depends on the source and the flow
    only, so a unit recomputed for fewer points gives the same numbers."""
    specs = unit.specs
    path = [unit.source[0]]
    while specs[path[-1]].downstream is not None:
        path.append(int(specs[path[-1]].downstream))
    outlet = path[-1]
    to_outlet = route(specs, unit.source[0], unit.source[1], [(outlet, specs[outlet].length_m)])
    travel = float(to_outlet.travel_time_s[0])
    longest = max(unit.standard.duration_h, unit.credible.duration_h) * 3600.0
    return max(unit.settings.min_horizon_h * 3600.0, 3.0 * travel + 2.0 * longest)


def _ensemble(unit: Unit, release: Release, routes: Routes, horizon: float) -> list[Metrics]:
    s = unit.settings
    inputs = EnsembleInputs(
        mass_kg=release.mass_kg,
        duration_s=release.duration_h * 3600.0,
        mass_low_factor=1.0,
        mass_high_factor=1.0,
        start_sd_s=0.0,
        duration_low_factor=1.0,
        duration_high_factor=1.0,
        instantaneous_max_s=0.0,  # a scenario's duration is given: 0 is instantaneous
        velocity_sigma_ln=s.velocity_sigma_ln,
    )
    result = run_ensemble(
        unit.specs,
        unit.source[0],
        unit.source[1],
        [(r, o) for _, r, o in unit.points],
        inputs,
        horizon_s=horizon,
        detection_mg_l=s.detection_fraction * release.standard_mg_l,
        standard_mg_l=release.standard_mg_l,
        decay_per_s=release.decay_per_day / 86400.0,
        dispersion_low_m2s=np.asarray(unit.dispersion_low_m2s),
        dispersion_high_m2s=np.asarray(unit.dispersion_high_m2s),
        n_members=s.n_members,
        seed=s.seed,
        threads=1,
        routes=routes,
    )
    out = []
    for i in range(len(unit.points)):
        a10, a50, a90 = result.leading_edge_s.at(i)
        out.append(
            Metrics(
                arrival_p10_h=_hours(a10),
                arrival_p50_h=_hours(a50),
                arrival_p90_h=_hours(a90),
                peak_mg_l=float(result.peak_mg_l.p50[i]),
                peak_mg_l_p90=float(result.peak_mg_l.p90[i]),
                hours_above_standard=float(result.exceed_duration_s.p50[i]) / 3600.0,
                hours_above_standard_p90=float(result.exceed_duration_s.p90[i]) / 3600.0,
                reach_probability=float(result.reach_probability[i]),
            )
        )
    return out


def run_unit(unit: Unit) -> dict[str, PointResult]:
    """Metrics per point label for both releases."""
    unit.settings.check()
    if not unit.points:
        return {}
    routes = route(unit.specs, unit.source[0], unit.source[1], [(r, o) for _, r, o in unit.points])
    horizon = horizon_s(unit)
    standard = _ensemble(unit, unit.standard, routes, horizon)
    credible = _ensemble(unit, unit.credible, routes, horizon)
    return {
        label: PointResult(s, c) for (label, _, _), s, c in zip(unit.points, standard, credible, strict=True)
    }


def run_units(units: list[Unit]) -> list[tuple[str, dict[str, PointResult]]]:
    """A batch of units (one task for a worker)."""
    return [(u.key, run_unit(u)) for u in units]


def content_hash(*parts: object) -> str:
    """sha256 of a canonical JSON of the parts (dataclasses as dicts, floats by repr)."""

    def plain(x: object) -> object:
        if is_dataclass(x) and not isinstance(x, type):
            return plain(asdict(x))
        if isinstance(x, dict):
            return {str(k): plain(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [plain(v) for v in x]
        if isinstance(x, float):
            return repr(x)
        return x

    return hashlib.sha256(json.dumps(plain(list(parts)), sort_keys=True).encode()).hexdigest()
