"""`incident stations list|add|ingest|listen` and `incident alerts list|ack|dismiss|open`: automatic
stations (HJ 212) and their early-warning alerts."""

from __future__ import annotations

from incident.cli.shell import add_json, emit, engine_from, number, settings_from, table, whole


def register(sub) -> None:
    p = sub.add_parser("stations", help="automatic water-quality stations (HJ 212-2017 feeds)")
    ssub = p.add_subparsers(dest="stations_command", metavar="ACTION", required=True)
    ls = ssub.add_parser("list", help="registered stations with their latest reading time and refusals")
    add_json(ls)
    ls.set_defaults(handler=cmd_list)
    a = ssub.add_parser("add", help="register a station by its MN code, reach, km and parameters")
    a.add_argument("mn", help="the station's HJ 212 MN code, e.g. 450100A0001")
    a.add_argument("--name", default="", help="a name people know, e.g. 'Qiaotou automatic station'")
    a.add_argument("--river", help="river network GeoJSON the reach belongs to (imported into the store)")
    a.add_argument("--reach", help="reach id on that network, e.g. M03")
    a.add_argument("--km", type=number(), help="chainage along the branch, km, e.g. 52.0")
    a.add_argument(
        "--parameters",
        required=True,
        help="comma-separated parameter keys, e.g. ammonia_nitrogen,cod,dissolved_oxygen",
    )
    a.add_argument(
        "--class", dest="water_class", default="III", help="GB 3838 class of the section (default III)"
    )
    add_json(a)
    a.set_defaults(handler=cmd_add)
    i = ssub.add_parser("ingest", help="replay HJ 212 packets (one a line, .gz allowed) or a CSV of readings")
    i.add_argument(
        "file", help="packet file (.hj212, .txt, .gz) or readings CSV (mn,time,parameter,value[,flag])"
    )
    i.add_argument("--no-detect", action="store_true", help="store only; do not run detection")
    add_json(i)
    i.set_defaults(handler=cmd_ingest)
    li = ssub.add_parser("listen", help="receive HJ 212 packets over TCP (localhost by default)")
    li.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    li.add_argument("--port", type=whole(), default=9212, help="TCP port (default 9212)")
    li.add_argument(
        "--detect-every",
        type=number(),
        default=60.0,
        metavar="SECONDS",
        help="run detection on the series written since the last pass every SECONDS (default 60)",
    )
    li.set_defaults(handler=cmd_listen)

    al = sub.add_parser("alerts", help="early-warning alerts raised from station data")
    asub = al.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)
    al_list = asub.add_parser(
        "list", help="alerts with station, parameter, times, value, baseline, candidates"
    )
    al_list.add_argument(
        "--status", choices=["open", "acknowledged", "dismissed", "promoted", "closed"], help="only these"
    )
    add_json(al_list)
    al_list.set_defaults(handler=cmd_alerts)
    ack = asub.add_parser("ack", help="acknowledge an open alert (someone is looking into it)")
    ack.add_argument("id", help="the alert's code, e.g. ALR-2026-0001")
    add_json(ack)
    ack.set_defaults(handler=cmd_ack)
    dis = asub.add_parser("dismiss", help="dismiss an alert as no pollution event; the reason is logged")
    dis.add_argument("id", help="the alert's code, e.g. ALR-2026-0001")
    dis.add_argument("--reason", required=True, help='why, e.g. "analyser fouled; cleaned 10:20"')
    add_json(dis)
    dis.set_defaults(handler=cmd_dismiss)
    op = asub.add_parser("open", help="open an incident from an alert, its source the trace's top candidate")
    op.add_argument("id", help="the alert's code, e.g. ALR-2026-0001")
    op.add_argument(
        "--candidate", type=whole(), default=1, help="rank of the candidate source to use (default 1)"
    )
    add_json(op)
    op.set_defaults(handler=cmd_open)


def cmd_list(args) -> int:
    from sqlalchemy import func
    from sqlmodel import select

    from incident.core.store.engine import session_scope
    from incident.core.store.tables import StationReading
    from incident.stations import list_stations, rejection_counts

    with session_scope(engine_from(args)) as s:
        refused = rejection_counts(s)
        rows = []
        for st in list_stations(s):
            last = s.exec(select(func.max(StationReading.at)).where(StationReading.station_id == st.id)).one()
            rows.append(
                {
                    "mn": st.mn,
                    "name": st.name,
                    "reach": st.reach_id,
                    "km": st.km,
                    "class": st.water_class,
                    "parameters": ",".join(st.parameters),
                    "last_reading": last,
                    "refused": refused.get(st.mn, 0),
                }
            )
    if getattr(args, "json", False):
        emit(args, rows)
    else:
        table(rows, ["mn", "name", "reach", "km", "class", "parameters", "last_reading", "refused"])
    return 0


def cmd_add(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.stations import add_station

    user = settings_from(args).user
    with session_scope(engine_from(args)) as s:
        network_id = None
        if args.river:
            from incident.core.networks import import_network
            from incident.core.rivers import load_river_file

            network_id = import_network(s, load_river_file(args.river)).id
        st = add_station(
            s,
            args.mn,
            actor=user,
            name=args.name,
            river_network_id=network_id,
            reach_id=args.reach,
            km=args.km,
            parameters=args.parameters.split(","),
            water_class=args.water_class,
        )
    if getattr(args, "json", False):
        emit(args, st.__dict__)
    else:
        print(f"station {st.mn} registered ({st.reach_id or '-'} km {st.km if st.km is not None else '-'})")
    return 0


def cmd_ingest(args) -> int:
    from incident.stations import ingest

    report, codes = ingest(
        engine_from(args), args.file, actor=settings_from(args).user, detect=not args.no_detect
    )
    out = report.as_dict() | {"alerts": codes}
    if getattr(args, "json", False):
        emit(args, out)
    else:
        print(
            f"{report.source}: {report.packets} packet(s), {report.stored} reading(s) stored, "
            f"{report.n_rejected} refused, alerts: {', '.join(codes) or 'none'}"
        )
        for reason, n in report.rejected.most_common():
            print(f"  refused {n}: {reason}")
    return 0


def cmd_listen(args) -> int:  # pragma: no cover - runs until interrupted; tested through Listener
    import asyncio
    import logging

    from incident.stations import listener

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if not args.detect_every > 0:
        from incident.core.errors import UserError

        raise UserError("stations.listen.bad_detect_every", where="--detect-every", found=args.detect_every)
    lst = listener(
        engine_from(args),
        actor=settings_from(args).user,
        host=args.host,
        port=args.port,
        detect_s=args.detect_every,
    )
    lst.on_alert = lambda codes: print(f"ALERT {', '.join(codes)}", flush=True)
    print(f"listening for HJ 212 packets on {args.host}:{args.port} (Ctrl-C to stop)", flush=True)
    asyncio.run(lst.serve_forever())
    return 0


def cmd_alerts(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.stations import alerts

    with session_scope(engine_from(args)) as s:
        rows = alerts(s, status=args.status)
    if getattr(args, "json", False):
        emit(args, rows)
        return 0
    flat = [
        {
            "code": r["code"],
            "status": r["status"],
            "station": r["station_mn"],
            "parameter": r["parameter"],
            "first_abnormal": r["first_abnormal_at"][:16],
            "detected": r["detected_at"][:16],
            "value": r["value"],
            "baseline": r["baseline"],
            "stations": ",".join(r["stations"]),
            "top_source": (
                f"{r['candidates'][0]['reach']} km {r['candidates'][0]['km']}" if r["candidates"] else "-"
            ),
        }
        for r in rows
    ]
    table(flat, list(flat[0]) if flat else ["code"])
    return 0


def _act(args, action) -> int:
    from incident.core.store.engine import session_scope

    with session_scope(engine_from(args)) as s:
        row = action(s, settings_from(args).user)
    if getattr(args, "json", False):
        emit(args, row)
    else:
        extra = f" ({row['dismissed_reason']})" if row.get("dismissed_reason") else ""
        print(f"alert {row['code']}: {row['status']}{extra}")
    return 0


def cmd_ack(args) -> int:
    from incident.stations import acknowledge_alert

    return _act(args, lambda s, user: acknowledge_alert(s, args.id, actor=user))


def cmd_dismiss(args) -> int:
    from incident.stations import dismiss_alert

    return _act(args, lambda s, user: dismiss_alert(s, args.id, reason=args.reason, actor=user))


def cmd_open(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.stations import open_incident_from_alert

    with session_scope(engine_from(args)) as s:
        code = open_incident_from_alert(s, args.id, actor=settings_from(args).user, candidate=args.candidate)
    if getattr(args, "json", False):
        emit(args, {"alert": args.id, "incident": code})
    else:
        print(f"alert {args.id} → incident {code}")
    return 0
