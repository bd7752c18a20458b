"""`incident preplan build|show`: pre-plans for drinking-water sources (issue 21)."""

from __future__ import annotations

from incident.cli.shell import add_json, emit, engine_from, settings_from, whole

SHOW_COLUMNS = [
    "source_id",
    "flow",
    "distance_km",
    "substance",
    "arrival_p10_h",
    "arrival_p50_h",
    "arrival_p90_h",
    "peak_mg_l",
    "hours_above_standard",
    "first_interception",
    "hours_to_act",
]
JSON_FIELDS = [
    "source_id",
    "source_name",
    "intake_id",
    "flow",
    "distance_km",
    "substance",
    "standard_mg_l",
    "release_kg",
    "release_h",
    "arrival_p10_h",
    "arrival_p50_h",
    "arrival_p90_h",
    "peak_mg_l",
    "hours_above_standard",
    "standard_release",
    "input_hash",
]


def register(sub) -> None:
    p = sub.add_parser(
        "preplan", help="pre-plans for drinking-water sources: risk sources × intakes, computed ahead"
    )
    psub = p.add_subparsers(dest="preplan_command", metavar="ACTION", required=True)
    b = psub.add_parser(
        "build",
        help="compute every risk source × downstream intake × flow (only rows whose inputs changed), "
        "store them and write tables and documents",
    )
    b.add_argument("--river", required=True, metavar="FILE", help="river network GeoJSON")
    b.add_argument(
        "--sources",
        required=True,
        metavar="FILE",
        help="risk-source register, .geojson or .csv (see docs/preplan.md)",
    )
    b.add_argument(
        "--intakes", required=True, metavar="FILE", help="intakes and interception points, .geojson or .csv"
    )
    b.add_argument(
        "--flows",
        default="low,median,high",
        metavar="LIST",
        help="flow scenarios: names (low,median,high) or name=discharge factor (low=0.4); default low,median,high",
    )
    b.add_argument(
        "--scheduler",
        metavar="URL",
        help="run on a Dask cluster, e.g. tcp://host:8786 (default: local processes)",
    )
    b.add_argument(
        "--workers", type=whole(), metavar="N", help="local processes (default: the number of CPUs)"
    )
    b.add_argument(
        "--members", type=whole(), default=200, metavar="N", help="ensemble members per run (default 200)"
    )
    b.add_argument(
        "--out", required=True, metavar="DIR", help="folder for rows.json, rows.csv and the documents"
    )
    b.add_argument(
        "--full", action="store_true", help="recompute every row, even those whose inputs are unchanged"
    )
    add_json(b)
    b.set_defaults(handler=cmd_build)
    s = psub.add_parser("show", help="the stored pre-plan rows of one intake")
    s.add_argument("intake", metavar="INTAKE", help="intake id, e.g. W2")
    s.add_argument("--flow", help="only this flow scenario (low, median, high)")
    add_json(s)
    s.set_defaults(handler=cmd_show)


def cmd_build(args) -> int:
    import time

    from incident.core.errors import UserError
    from incident.core.store.engine import session_scope
    from incident.preplan import (
        ProgressBar,
        Settings,
        build_preplan,
        load_inputs,
        previous_rows,
        store_build,
        write_documents,
        write_tables,
    )

    settings = settings_from(args)
    if not 1 <= args.members <= 100_000:
        raise UserError("errors.cli.members_out_range", where="--members", members=args.members)
    inputs = load_inputs(args.river, args.sources, args.intakes)
    engine = engine_from(args)
    with session_scope(engine) as s:
        previous = {} if args.full else previous_rows(s)
    start = time.perf_counter()
    report = build_preplan(
        inputs,
        flows=args.flows,
        scheduler=args.scheduler,
        workers=args.workers,
        settings=Settings(n_members=args.members),
        previous=previous,
        progress=ProgressBar(),
    )
    seconds = time.perf_counter() - start
    with session_scope(engine) as s:
        changes = store_build(s, inputs, report, actor=settings.user)
    files = write_tables(report.rows, args.out) + write_documents(report.rows, inputs, args.out)
    summary = {
        "rows": len(report.rows),
        "computed": len(report.computed),
        "unchanged": len(report.reused),
        "removed": len(report.removed),
        "units": report.units,
        "seconds": round(seconds, 2),
        "register_added": len(changes["added"]),
        "register_changed": len(changes["changed"]),
        "register_removed": len(changes["removed"]),
        "out": str(args.out),
        "files": len(files),
    }
    emit(args, summary)
    return 0


def _json_row(row: dict) -> dict:
    out = {k: row.get(k) for k in JSON_FIELDS}
    out["interception_points"] = [
        {
            k: ip.get(k)
            for k in ("id", "name", "kind", "distance_km", "response_h", "arrival_p10_h", "hours_to_act")
        }
        for ip in row.get("interception_points", [])
    ]
    return out


def cmd_show(args) -> int:
    from incident.core.errors import UserError
    from incident.core.store.engine import session_scope
    from incident.preplan import rows_for_intake

    settings_from(args)
    with session_scope(engine_from(args)) as s:
        rows = rows_for_intake(s, args.intake)
    if args.flow:
        rows = [r for r in rows if r["flow"] == args.flow]
    if not rows:
        if args.flow:
            raise UserError(
                "errors.cli.no_preplan_rows_flow",
                where="INTAKE",
                intake=repr(args.intake),
                flow=repr(args.flow),
            )
        raise UserError("errors.cli.no_preplan_rows", where="INTAKE", intake=repr(args.intake))
    if getattr(args, "json", False):
        emit(args, [_json_row(r) for r in rows])
        return 0
    table_rows = []
    for r in rows:
        first = (r.get("interception_points") or [{}])[0]
        table_rows.append(
            {**r, "first_interception": first.get("id"), "hours_to_act": first.get("hours_to_act")}
        )
    print(
        f"{rows[0]['intake_id']} {rows[0]['intake_name']}: reserve {rows[0]['reserve_h']:g} h; times in hours after a release\n"
    )
    emit(args, table_rows, SHOW_COLUMNS)
    return 0
