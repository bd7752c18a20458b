"""`incident stats`: centre statistics (real incidents; --exercises for drills, never mixed)."""

from __future__ import annotations

from incident.cli.shell import add_json, emit, engine_from, whole


def register(sub) -> None:
    p = sub.add_parser("stats", help="statistics over incidents (real ones; --exercises for drills)")
    p.add_argument("--year", type=whole(), help="calendar year (local time); default: all")
    p.add_argument(
        "--exercises", action="store_true", help="statistics of exercises instead of real incidents"
    )
    add_json(p)
    p.set_defaults(handler=cmd_stats)


def cmd_stats(args) -> int:
    from dataclasses import asdict

    from incident.core.store.engine import session_scope
    from incident.reports import incident_statistics

    with session_scope(engine_from(args)) as s:
        st = incident_statistics(s, year=args.year, exercises=args.exercises)
    data = asdict(st)
    if not args.json:
        data["by_substance"] = ", ".join(f"{k} {v}" for k, v in sorted(st.by_substance.items())) or "—"
        data["kind"] = "EXERCISES" if st.exercises else "real incidents"
    emit(args, data)
    return 0
