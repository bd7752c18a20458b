"""Pre-plans for drinking-water sources: every registered risk source × downstream intake × flow
scenario, computed ahead (the 2018 national guide for emergency plans of centralised surface
drinking-water sources asks for the risk sources upstream, the time a release takes to reach each
intake and the time there is to act at each interception point).

Public API (front ends call only these):

* `load_inputs(river, sources, intakes)` — read and place the register (refusals name file/line/field);
* `build_preplan(inputs, flows=..., scheduler=..., previous=...)` — rows, recomputing only stale ones;
* `write_tables(rows, out_dir)` — rows.json and rows.csv; `write_documents(...)` — one pre-plan per
  intake, Markdown and HTML, en and zh;
* `store_build(session, inputs, report, actor=...)`, `previous_rows(session)`,
  `rows_for_intake(session, intake_id)` — the store, every change logged;
* `preplan_rows_near(session, incident)` — the rows of the registered sources at or near an
  incident's source (for the dashboard);
* `risk_sources_near(session, reach, km, lat=, lon=)` — the registered sources near a place (for
  station alerts).

Heavy modules (numpy, scipy, dask) load inside these functions, not on import.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from incident.core.api import lazy_exports

if TYPE_CHECKING:
    from sqlmodel import Session

    from incident.core.rivers import RiverNetworkData
    from incident.core.store.tables import Incident
    from incident.preplan.build import BuildReport
    from incident.preplan.compute import Settings
    from incident.preplan.execute import Progress
    from incident.preplan.inputs import Register
    from incident.preplan.places import PlacedRegister

__all__ = [
    "PreplanInputs",
    "load_inputs",
    "build_preplan",
    "write_tables",
    "write_documents",
    "store_build",
    "previous_rows",
    "rows_for_intake",
    "preplan_rows_near",
    "risk_sources_near",
    "build_and_store",
    "NEAR_KM",
    "CSV_COLUMNS",
    "Settings",
    "ProgressBar",
]

NEAR_KM = 2.0  # an incident this close to a registered source (along the river) shows its pre-plan


@dataclass(frozen=True)
class PreplanInputs:
    network: RiverNetworkData
    sources: Register
    intakes: Register
    placed: PlacedRegister


def load_inputs(river: str | Path, sources: str | Path, intakes: str | Path) -> PreplanInputs:
    """Read the river, the risk-source register and the intakes file, and place them on the river."""
    from incident.core.rivers import load_river_file
    from incident.preplan.inputs import load_intakes, load_sources
    from incident.preplan.places import place_register

    net = load_river_file(river)
    src = load_sources(sources)
    itk = load_intakes(intakes)
    return PreplanInputs(net, src, itk, place_register(net, src, itk))


def build_preplan(
    inputs: PreplanInputs,
    *,
    flows: str | None = None,
    scheduler: Any = None,
    workers: int | None = None,
    settings: Settings | None = None,
    previous: dict[str, dict[str, Any]] | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Rows for every source × downstream intake × flow scenario.

    `flows`: "low,median,high" (default) or with factors ("low=0.4,high=2.5"); `scheduler`: None for a
    local process pool of `workers` processes, else a Dask address (tcp://host:port) or Client;
    `previous`: rows of an earlier build by key — rows whose input hash is unchanged are reused.
    """
    from incident.preplan.build import build_rows
    from incident.preplan.compute import Settings
    from incident.preplan.execute import executor
    from incident.preplan.flows import flow_case, parse_flows

    settings = settings or Settings()
    cases = [flow_case(inputs.network, s) for s in parse_flows(flows, inputs.network)]
    run = executor(scheduler, workers=workers, progress=progress)
    return build_rows(inputs.network, inputs.placed, cases, settings, run, previous)


CSV_COLUMNS = (
    "source_id",
    "source_name",
    "source_kind",
    "intake_id",
    "intake_name",
    "flow",
    "distance_km",
    "substance",
    "release_kg",
    "release_h",
    "standard_mg_l",
    "arrival_p10_h",
    "arrival_p50_h",
    "arrival_p90_h",
    "peak_mg_l",
    "peak_mg_l_p90",
    "hours_above_standard",
    "hours_above_standard_p90",
    "reserve_h",
    "first_interception",
    "first_interception_hours_to_act",
    "input_hash",
)


def write_tables(rows: list[dict[str, Any]], out_dir: str | Path) -> list[Path]:
    """rows.json (every field) and rows.csv (one line per row, the first interception point)."""
    import csv
    import json

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    json_path, csv_path = out / "rows.json", out / "rows.csv"
    json_path.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            ips = row.get("interception_points") or []
            first = ips[0] if ips else {}
            writer.writerow(
                {
                    **row,
                    "first_interception": first.get("id", ""),
                    "first_interception_hours_to_act": first.get("hours_to_act", ""),
                }
            )
    return [json_path, csv_path]


def store_build(
    session: Session, inputs: PreplanInputs, report: BuildReport, *, actor: str
) -> dict[str, list[Any]]:
    """Store the register and the rows; log register changes and recomputed rows (centre chain)."""
    from incident.preplan.store import save_register, save_rows

    changes = save_register(session, inputs, actor=actor)
    save_rows(session, report, actor=actor)
    return changes


def previous_rows(session: Session) -> dict[str, dict[str, Any]]:
    """Stored rows by key, to pass as `previous` to `build_preplan`."""
    from incident.preplan.store import stored_rows

    return stored_rows(session)


def rows_for_intake(session: Session, intake_id: str) -> list[dict[str, Any]]:
    from incident.preplan.store import rows_for_intake as _rows

    return _rows(session, intake_id)


def preplan_rows_near(
    session: Session, incident: Incident, within_km: float = NEAR_KM
) -> list[dict[str, Any]]:
    """Rows of the registered risk sources within `within_km` of the incident's source (along the
    river on the same reach, else straight-line), nearest source first; [] when none."""
    from incident.preplan.store import rows_near

    return rows_near(session, incident, within_km)


def risk_sources_near(
    session: Session,
    reach_id: str | None,
    km: float | None,
    *,
    lat: float | None = None,
    lon: float | None = None,
    within_km: float = NEAR_KM,
) -> list[dict[str, Any]]:
    """Registered risk sources within `within_km` of a place on the river (along the river on the
    same reach, else straight-line from lat/lon), nearest first, as JSON-ready dicts: id, name,
    name_zh, kind, reach, km, distance_km, substances (with their maximum credible release), contact."""
    from incident.preplan.store import source_summary, sources_near_place

    return [
        source_summary(src, d) for d, src in sources_near_place(session, reach_id, km, lat, lon, within_km)
    ]


def write_documents(
    rows: list[dict[str, Any]],
    inputs: PreplanInputs,
    out_dir: str | Path,
    langs: tuple[str, ...] = ("en", "zh"),
) -> list[Path]:
    """One pre-plan per intake, Markdown and self-contained HTML (SVG map and chart), per language."""
    from incident.preplan.document import write_documents as _write

    return _write(rows, inputs, Path(out_dir), langs)


def build_and_store(
    session: Session,
    inputs: PreplanInputs,
    *,
    actor: str,
    near: Incident | None = None,
    flows: str | None = None,
    settings: Settings | None = None,
    workers: int | None = 1,
) -> BuildReport:
    """Store the register, then build (in this process by default) and store the rows; with
    `near` (an incident), only the rows of the sources at or near its source are computed."""
    from dataclasses import replace

    from incident.preplan.store import save_register, save_rows, sources_near, stored_rows

    save_register(session, inputs, actor=actor)
    target = inputs
    if near is not None:
        ids = {src.entry_id for _, src in sources_near(session, near, NEAR_KM)}
        placed = replace(inputs.placed, sources=tuple(s for s in inputs.placed.sources if s.model.id in ids))
        target = replace(inputs, placed=placed)
    previous = stored_rows(session)
    report = build_preplan(target, flows=flows, workers=workers, settings=settings, previous=previous)
    if near is not None:
        report.removed = []  # a partial build removes nothing
    save_rows(session, report, actor=actor)
    return report


#: Settings and the progress bar, loaded on first use (they pull in numpy).
__getattr__ = lazy_exports(
    __name__, {"Settings": "incident.preplan.compute", "ProgressBar": "incident.preplan.execute"}
)
