"""Core commands: the TUI, incidents, the demo, the database and the log."""

from __future__ import annotations

import sys

from incident.cli.shell import add_json, emit, engine_from, number, settings_from


def register(sub) -> None:
    p = sub.add_parser("tui", help="open the terminal UI (the default when no command is given)")
    p.add_argument("incident", nargs="?", help="incident code to open (default: the newest real incident)")
    p.add_argument("--no-demo", action="store_true", help="do not load the demo into an empty database")
    p.add_argument(
        "--login",
        action="store_true",
        help="ask for an account name and passphrase first (what `incident serve` runs in each browser tab)",
    )
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
        "--lat", type=number(), help="source latitude, WGS84 decimal degrees (GPS, not GCJ-02 map apps)"
    )
    p.add_argument("--lon", type=number(), help="source longitude, WGS84 decimal degrees")
    p.add_argument(
        "--reach", help="source reach id on the river, e.g. M03 (with --km; instead of --lat/--lon)"
    )
    p.add_argument("--km", type=number(), help="source river km on that reach, e.g. 45.0")
    p.add_argument("--substance", help="parameter key, e.g. cadmium, nitrobenzene")
    p.add_argument(
        "--class",
        dest="pollutant_class",
        choices=["heavy_metal", "organic", "oil", "other"],
        help="pollutant class (picks the suggested playbook and the field-test qualification)",
    )
    p.add_argument("--mass-kg", type=number(), help="amount released in kg, as reported")
    p.add_argument("--duration-h", type=number(), help="release duration in hours (0 = instantaneous)")
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
    from incident.cli.reports import add_log_export_arguments

    add_log_export_arguments(p)
    add_json(p)
    p.set_defaults(handler=cmd_log)


def cmd_tui(args) -> int:
    settings = settings_from(args)
    engine = engine_from(args)
    if getattr(args, "login", False):
        settings.user = login_prompt(engine)
    else:
        _unlock_before_the_screen(engine)
    code = getattr(args, "incident", None)
    if code is None and not getattr(args, "no_demo", False):
        from incident.demo import ensure_demo

        code = ensure_demo(engine, actor=settings.user)
    from incident.tui.app import make_app

    app = make_app(engine=engine, settings=settings, incident_code=code)
    app.run()
    return app.return_code or 0


def _unlock_before_the_screen(engine) -> None:
    """Once the screen is drawn nobody can type a passphrase: unlock the key now if the store signs."""
    from incident.core import signing
    from incident.core.errors import UserError
    from incident.core.store.engine import session_scope

    with session_scope(engine) as s:
        enabled = signing.enabled(s)
    if enabled and signing.current() is None:
        raise UserError("errors.login.no_key_here", where="incident tui")


def login_prompt(engine, *, attempts: int = 3, read=input) -> str:
    """Ask for an account and unlock its key (served sessions): returns the person's name."""
    from incident.core import keystore, signing
    from incident.core.clock import utcnow
    from incident.core.errors import UserError
    from incident.core.store.engine import session_scope

    with session_scope(engine) as s:
        reg = signing.registry(s)
    if not reg.accounts:
        raise UserError("errors.login.no_accounts", where="incident serve")
    last: UserError | None = None
    for _ in range(attempts):
        name = " ".join(read("account: ").split())
        try:
            person = keystore.unlock(name)
        except UserError as exc:
            last = exc
            print(exc.problem, file=sys.stderr)
            continue
        account = reg.get(person.name)
        if account is None or reg.key_at(person.name, person.key_id, utcnow()) is None:
            last = UserError("errors.login.no_active_key", name=name)
            print(last.problem, file=sys.stderr)
            continue
        signing.login(person)
        return account.name
    raise last or UserError("errors.login.failed")


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
            "source_lat": inc.source_lat,
            "source_lon": inc.source_lon,
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

        raise UserError("errors.core.mass_kg_negative", field="mass_kg", mass_kg=args.mass_kg)
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
                source_reach=args.reach,
                source_km=args.km,
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
        from incident.cli.reports import cmd_log_export

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
