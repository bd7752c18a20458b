"""Pre-plans for drinking-water sources: every registered risk source × downstream intake × flow
scenario, computed ahead (the 2018 national guide for emergency plans of centralised surface
drinking-water sources asks for the risk sources upstream, the time a release takes to reach each
intake and the time there is to act at each interception point).

Public API (front ends call only these):

* `load_inputs(river, sources, intakes)` — read and place the register (refusals name file/line/field);
* `build_preplan(inputs, flows=..., scheduler=..., previous=...)` — rows, recomputing only stale ones;
* `write_tables(report, out_dir)` — rows.json and rows.csv.

Heavy modules (numpy, scipy, dask) load inside these functions, not on import.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from incident.core.rivers import RiverNetworkData
    from incident.preplan.build import BuildReport
    from incident.preplan.compute import Settings
    from incident.preplan.execute import Progress
    from incident.preplan.inputs import Register
    from incident.preplan.places import PlacedRegister

__all__ = ["PreplanInputs", "load_inputs", "build_preplan", "write_tables", "CSV_COLUMNS"]


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
