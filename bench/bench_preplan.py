"""Benchmark (issue 21): pre-plans at province scale, a slice measured, the whole extrapolated.

The province: a synthetic network of a 600 km main stem (30 reaches) and 10 tributaries of 60 km,
2,000 risk sources spread over it, 50 intakes, 3 flow scenarios, 200 ensemble members. The bench
runs a slice of the sources (10 % by default) with every intake and every flow:

1. in this process (one core): the baseline;
2. on the local process pool (the default of `incident preplan build`);
3. on a Dask LocalCluster (2 worker processes, 1 thread each);

and prints rows/s for each, the speed-up against the baseline, and the time the whole province
would take (rows in the whole ÷ rows/s). Goal: the whole province within 1 h on a 2-core machine
(rows in the whole ÷ 3600 s, about 40 rows/s). Figures only; nothing is asserted. The numbers of 2. and 3. are
checked to be identical.

    python bench/bench_preplan.py            # 10 % slice (a few minutes on 2 cores)
    python bench/bench_preplan.py --quick    # 1 % slice, 50 members: a smoke run for CI
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from incident.preplan import build_preplan, load_inputs  # noqa: E402
from incident.preplan.build import plan  # noqa: E402
from incident.preplan.compute import Settings  # noqa: E402
from incident.preplan.flows import flow_case, parse_flows  # noqa: E402

N_SOURCES, N_INTAKES, MEMBERS = 2000, 50, 200
GOAL_HOURS = 1.0
REACH_KM = 20.0


def province(tmp: Path, seed: int = 21) -> tuple[Path, list[dict], list[str]]:
    """A river file and the full register rows (sources as dicts, intakes as CSV lines)."""
    rng = random.Random(seed)
    feats, reaches = [], []
    main = [f"M{i:02d}" for i in range(30)]
    for i, rid in enumerate(main):
        q = 300.0 + 40.0 * i
        lat0 = 30.0 - i * 0.18
        feats.append(
            _reach(rid, main[i + 1] if i + 1 < len(main) else None, q, [[110.0, lat0], [110.0, lat0 - 0.18]])
        )
        reaches.append((rid, i * REACH_KM))
    for t in range(10):
        join = main[3 + 2 * t]
        ids = [f"T{t}{k}" for k in range(3)]
        for k, rid in enumerate(ids):
            lon = 110.6 + 0.6 * (2 - k)
            lat = 30.0 - (3 + 2 * t) * 0.18
            feats.append(
                _reach(rid, ids[k + 1] if k + 1 < 3 else join, 60.0 + 20 * k, [[lon, lat], [lon - 0.6, lat]])
            )
            reaches.append((rid, k * REACH_KM))
    river = tmp / "province.geojson"
    river.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    kinds = ["enterprise", "outfall", "bridge", "road_crossing", "pipeline", "tank_farm", "wharf"]
    substances = [("nitrobenzene", 20000), ("benzene", 10000), ("cadmium", 500), ("petroleum", 50000)]
    sources = []
    for n in range(N_SOURCES):
        rid, start = rng.choice(reaches)
        sub, mass = rng.choice(substances)
        sources.append(
            {
                "id": f"S{n:04d}",
                "name": f"Source {n}",
                "kind": rng.choice(kinds),
                "reach": rid,
                "km": round(start + rng.uniform(0.5, REACH_KM - 0.5), 2),
                "substance": sub,
                "max_release_kg": mass,
                "release_duration_h": rng.choice([0.5, 1, 2]),
            }
        )
    intakes = []
    for n in range(N_INTAKES):
        rid, start = rng.choice(reaches[5:30] + reaches[30:][::3])
        intakes.append(
            f"intake,W{n:02d},Intake {n},{rid},{start + rng.uniform(1, REACH_KM - 1):.2f},{rng.choice([6, 8, 12])}"
        )
    return river, sources, intakes


def _reach(rid: str, downstream: str | None, q: float, coords: list) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": coords},
        "properties": {
            "id": rid,
            "downstream": downstream,
            "discharge_m3s": q,
            "width_m": 40 + q / 5,
            "depth_m": 2 + q / 800,
            "slope": 0.0002,
            "length_m": REACH_KM * 1000,
        },
    }


def write_register(tmp: Path, name: str, sources: list[dict]) -> Path:
    cols = ["id", "name", "kind", "reach", "km", "substance", "max_release_kg", "release_duration_h"]
    path = tmp / name
    path.write_text("\n".join([",".join(cols)] + [",".join(str(s[c]) for c in cols) for s in sources]) + "\n")
    return path


def timed(label: str, inputs, **kwargs) -> tuple[float, list[dict]]:
    start = time.perf_counter()
    report = build_preplan(inputs, **kwargs)
    seconds = time.perf_counter() - start
    rate = len(report.rows) / seconds
    print(f"{label:<28} {len(report.rows):>7} rows {seconds:8.1f} s {rate:9.1f} rows/s", flush=True)
    return rate, report.rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 %% slice and 50 members (CI smoke run)")
    parser.add_argument(
        "--slice", type=float, default=None, help="share of the sources to run (default 0.10)"
    )
    args = parser.parse_args()
    share = args.slice or (0.01 if args.quick else 0.10)
    members = 50 if args.quick else MEMBERS
    settings = Settings(n_members=members)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        river, sources, intakes = province(tmp)
        intakes_path = tmp / "intakes.csv"
        intakes_path.write_text("role,id,name,reach,km,reserve_h\n" + "\n".join(intakes) + "\n")
        every = max(1, round(1 / share))
        part = sources[::every]
        full_inputs = load_inputs(river, write_register(tmp, "all.csv", sources), intakes_path)
        inputs = load_inputs(river, write_register(tmp, "slice.csv", part), intakes_path)
        cases = [flow_case(full_inputs.network, s) for s in parse_flows(None, full_inputs.network)]
        _, all_rows, _ = plan(full_inputs.network, full_inputs.placed, cases, settings)
        print(
            f"province: {N_SOURCES} sources × {N_INTAKES} intakes × 3 flows × {members} members = "
            f"{len(all_rows)} rows (source–intake pairs downstream); slice: {len(part)} sources"
        )
        base_inputs = load_inputs(
            river, write_register(tmp, "base.csv", part[: max(2, len(part) // 10)]), intakes_path
        )
        base, _ = timed("baseline (1 core, in-process)", base_inputs, workers=1, settings=settings)
        local, local_rows = timed("local process pool", inputs, settings=settings)
        from distributed import Client, LocalCluster

        with (
            LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
            Client(cluster) as client,
        ):
            dask, dask_rows = timed("Dask LocalCluster (2×1)", inputs, scheduler=client, settings=settings)
        print(f"identical rows local vs Dask: {local_rows == dask_rows}")
        goal = len(all_rows) / (GOAL_HOURS * 3600)
        for label, rate in (("local", local), ("Dask", dask)):
            hours = len(all_rows) / rate / 3600
            print(
                f"{label:<6} {rate:8.1f} rows/s (goal ≥ {goal:.0f}; ×{rate / base:.2f} the 1-core baseline) "
                f"→ whole province {hours:.2f} h (goal ≤ {GOAL_HOURS:g} h)"
                + ("" if members == MEMBERS else f" at {members} members")
            )


if __name__ == "__main__":
    main()
