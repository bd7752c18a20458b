"""Core commands: the TUI, incidents, the demo, the database and the log."""

from __future__ import annotations

import sys

from incident.cli.context import add_json, engine_from, settings_from
from incident.cli.output import emit


def register(sub) -> None:
    p = sub.add_parser("tui", help="open the terminal UI (the default when no command is given)")
    p.add_argument("incident", nargs="?", help="incident code to open (default: the newest real incident)")
    p.add_argument("--no-demo", action="store_true", help="do not load the demo into an empty database")
    p.set_defaults(handler=cmd_tui, stream_output=True)

    p = sub.add_parser("list", help="list incidents (real ones; --exercises for drills)")
    p.add_argument("--exercises", action="store_true", help="list exercise incidents instead of real ones")
    add_json(p)
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser("show", help="show one incident")
    p.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    add_json(p)
    p.set_defaults(handler=cmd_show)

    p = sub.add_parser("new", help="open a new incident")
    p.add_argument("title", help='short title, e.g. "Nitrobenzene tanker crash at Qiaotou bridge"')
    p.add_argument("--alert", help="alert time, YYYY-MM-DD HH:MM local (default: now)")
    p.add_argument("--river", help="river network GeoJSON (default: the demo river)")
    p.add_argument(
        "--lat", type=float, help="source latitude, WGS84 decimal degrees (GPS, not GCJ-02 map apps)"
    )
    p.add_argument("--lon", type=float, help="source longitude, WGS84 decimal degrees")
    p.add_argument("--substance", help="parameter key, e.g. cadmium, nitrobenzene")
    p.add_argument(
        "--class",
        dest="pollutant_class",
        choices=["heavy_metal", "organic", "oil", "other"],
        help="pollutant class (picks the suggested playbook and the field-test qualification)",
    )
    p.add_argument("--mass-kg", type=float, help="amount released in kg, as reported")
    p.add_argument("--duration-h", type=float, help="release duration in hours (0 = instantaneous)")
    p.add_argument(
        "--medium",
        default="water",
        choices=["water", "air", "soil", "other"],
        help="medium affected (default water; sets the termination rule)",
    )
    add_json(p)
    p.set_defaults(handler=cmd_new)

    p = sub.add_parser("demo", help="load the demo river, roster, inventory and incident into the database")
    p.set_defaults(handler=cmd_demo)

    p = sub.add_parser("db", help="database: upgrade the schema, show its revision")
    p.add_argument(
        "action",
        choices=["upgrade", "current"],
        help="upgrade: migrate the schema to the newest revision; current: print the revision",
    )
    p.set_defaults(handler=cmd_db)

    p = sub.add_parser(
        "log",
        help="the activity log of an incident (ICS 214), or of the centre; "
        "`log export CODE -o FILE` writes the ICS 214 form",
    )
    p.add_argument("incident", nargs="?", help="incident code (default: the centre log), or `export`")
    from incident.cli.report import add_log_export_arguments

    add_log_export_arguments(p)
    add_json(p)
    p.set_defaults(handler=cmd_log)


def cmd_tui(args) -> int:
    settings = settings_from(args)
    engine = engine_from(args)
    code = getattr(args, "incident", None)
    if code is None and not getattr(args, "no_demo", False):
        from incident.demo import ensure_demo

        code = ensure_demo(engine, actor=settings.user)
    from incident.tui.app import make_app

    app = make_app(engine=engine, settings=settings, incident_code=code)
    app.run()
    return app.return_code or 0


def _incident_row(inc) -> dict:
    return {
        "code": inc.code,
        "title": inc.title,
        "status": inc.status,
        "alert_at": inc.alert_at,
        "exercise": inc.is_exercise,
        "substance": inc.substance,
        "mass_kg": inc.mass_kg,
        "source_reach": inc.source_reach,
        "source_km": round(inc.source_km, 3) if inc.source_km is not None else None,
    }


def cmd_list(args) -> int:
    from incident.core.incidents import list_incidents
    from incident.core.store.engine import session_scope

    with session_scope(engine_from(args)) as s:
        rows = [_incident_row(i) for i in list_incidents(s, exercises=args.exercises)]
    emit(args, rows, ["code", "status", "alert_at", "substance", "source_km", "title"])
    return 0


def cmd_show(args) -> int:
    from incident.core.incidents import get_incident
    from incident.core.store.engine import session_scope

    with session_scope(engine_from(args)) as s:
        inc = get_incident(s, args.incident)
        data = _incident_row(inc) | {
            "medium": inc.medium,
            "pollutant_class": inc.pollutant_class,
            "release_start": inc.release_start,
            "release_duration_h": inc.release_duration_h,
            "decay_per_day": inc.decay_per_day,
            "description": inc.description,
        }
    emit(args, data)
    return 0


def cmd_new(args) -> int:
    from incident.core.clock import parse_local, utcnow
    from incident.core.incidents import NewIncident, create_incident
    from incident.core.networks import import_network
    from incident.core.rivers import load_river_file
    from incident.core.store.engine import session_scope
    from incident.demo import DEMO_RIVER

    settings = settings_from(args)
    if args.mass_kg is not None and args.mass_kg < 0:
        from incident.core.errors import UserError

        raise UserError(
            f"--mass-kg {args.mass_kg:g} is negative",
            where="--mass-kg",
            fix="give the amount lost in kilograms as a positive number",
        )
    net = load_river_file(args.river or DEMO_RIVER)
    with session_scope(engine_from(args)) as s:
        net_row = import_network(s, net)
        inc = create_incident(
            s,
            NewIncident(
                title=args.title,
                alert_at=parse_local(args.alert) if args.alert else utcnow(),
                river_network_id=net_row.id,
                source_lat=args.lat,
                source_lon=args.lon,
                substance=args.substance,
                pollutant_class=args.pollutant_class,
                mass_kg=args.mass_kg,
                release_duration_h=args.duration_h,
                medium=args.medium,
            ),
            actor=settings.user,
        )
        row = _incident_row(inc)
    emit(args, row)
    return 0


def cmd_demo(args) -> int:
    from incident.demo import ensure_demo

    code = ensure_demo(engine_from(args), actor=settings_from(args).user)
    print(f"demo ready: {code}")
    return 0


def cmd_db(args) -> int:
    from incident.core.store.engine import current_revision

    engine = engine_from(args)  # opening upgrades
    print(f"schema revision: {current_revision(engine)}")
    return 0


def cmd_log(args) -> int:
    if args.incident == "export":
        from incident.cli.report import cmd_log_export

        return cmd_log_export(args)
    from incident.core import log
    from incident.core.incidents import get_incident
    from incident.core.store.engine import session_scope

    with session_scope(engine_from(args)) as s:
        chain = log.incident_chain(get_incident(s, args.incident).code) if args.incident else log.CENTRE_CHAIN
        rows = [
            {
                "seq": e.seq,
                "at": e.at,
                "actor": e.actor,
                "position": e.position,
                "kind": e.kind,
                "summary": e.summary,
                "hash": e.hash[:12],
            }
            for e in log.entries(s, chain)
        ]
    emit(args, rows, ["seq", "at", "actor", "kind", "summary"])
    if not rows:
        print("(the log is empty)", file=sys.stderr)
    return 0
