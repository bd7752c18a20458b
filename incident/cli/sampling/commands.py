"""Monitoring plan, rounds, crews, assignment and GeoJSON export from the command line.

incident plan propose|show|insert|remove|refresh CODE ...
incident rounds CODE [--regenerate] [--sampled N]
incident crew list|checkin|status ...
incident assign CODE [--md|--csv|--json] [--round N] [--roads FILE] [--dispatch]
incident export geojson CODE --at HOURS -o FILE
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta

from incident.cli.shell import add_json, as_json, emit, engine_from, number, settings_from, table, whole
from incident.core.errors import UserError


def register(sub) -> None:
    p = sub.add_parser("plan", help="the monitoring plan: sampling points (HJ 589 §6)")
    psub = p.add_subparsers(dest="plan_command", metavar="ACTION", required=True)

    c = psub.add_parser("propose", help="propose points from the river, the spill and the forecast")
    c.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    c.add_argument(
        "--reason",
        default="initial proposal from the forecast",
        help="why, kept in the plan revision and the log",
    )
    c.add_argument("--horizon", type=number(), default=72.0, help="forecast horizon in hours (default 72)")
    c.add_argument(
        "--upstream-m", type=number(), default=500.0, help="upstream control, 100–600 m (default 500)"
    )
    c.add_argument(
        "--downstream-m", type=number(), default=800.0, help="downstream control, 500–1000 m (default 800)"
    )
    c.add_argument("--attenuation-m", type=number(), default=2000.0, help="attenuation section, > 1500 m")
    c.add_argument(
        "--spacing-km",
        type=number(),
        default=20.0,
        help="intermediate sections at most every N km (default 20)",
    )
    add_json(c)
    c.set_defaults(handler=cmd_propose)

    c = psub.add_parser("show", help="show the plan (the latest revision, or --revision N)")
    c.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    c.add_argument("--revision", type=whole(), metavar="N", help="show revision N (default: the latest)")
    c.add_argument("--all", action="store_true", help="include removed points")
    add_json(c)
    c.set_defaults(handler=cmd_show)

    c = psub.add_parser("insert", help="insert a point (it gets a sub-level number, e.g. S3-1)")
    c.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    c.add_argument(
        "--km",
        type=number(),
        required=True,
        help="chainage in km along the branch (from its headwater), e.g. 46.3",
    )
    c.add_argument("--reason", required=True, help="why (kept in the plan revision and the log)")
    c.add_argument("--after", help="the point it follows, e.g. S3 (default: found from --km)")
    c.add_argument("--reach", help="reach id when the km is ambiguous (tributaries)")
    c.add_argument("--name", default="", help='display name, e.g. "Xinhe bridge"')
    c.add_argument("--requires", help="qualification a crew needs there, e.g. boat_operation")
    c.add_argument("--no-forecast", action="store_true", help="do not run the forecast for the new point")
    add_json(c)
    c.set_defaults(handler=cmd_insert)

    c = psub.add_parser("remove", help="take a point out of the plan (a reason is required)")
    c.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    c.add_argument("number", help="e.g. S4")
    c.add_argument("--reason", required=True, help="why (kept with the removed point and in the log)")
    c.set_defaults(handler=cmd_remove)

    c = psub.add_parser("refresh", help="new revision with the latest forecast times (numbers unchanged)")
    c.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    c.add_argument("--reason", default="forecast updated", help="why (default: forecast updated)")
    c.add_argument("--horizon", type=number(), default=72.0, help="forecast horizon in hours (default 72)")
    add_json(c)
    c.set_defaults(handler=cmd_refresh)

    p = sub.add_parser("rounds", help="sampling rounds: one round time for every point (HJ 589 §7.1.2.1)")
    p.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    p.add_argument(
        "--regenerate", action="store_true", help="rebuild from the forecast, keeping sampled rounds"
    )
    p.add_argument("--sampled", type=whole(), metavar="N", help="mark round N as sampled")
    p.add_argument("--horizon", type=number(), default=72.0, help="forecast horizon in hours (default 72)")
    add_json(p)
    p.set_defaults(handler=cmd_rounds)

    p = sub.add_parser("crew", help="crews: list, ICS 211 check-in, ICS status")
    csub = p.add_subparsers(dest="crew_command", metavar="ACTION", required=True)
    c = csub.add_parser("list", help="crews with leader, headcount, status, kit and qualifications")
    c.add_argument("--incident", help="show check-in times for this incident")
    add_json(c)
    c.set_defaults(handler=cmd_crew_list)
    c = csub.add_parser("checkin", help="ICS 211 check-in of a crew to an incident")
    c.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    c.add_argument("crew", help='crew name, e.g. "Crew A" (or just A)')
    c.add_argument("--leader", help="leader on this deployment (default: the roster's)")
    c.add_argument("--headcount", type=whole(), help="people checking in (default: the roster's crew size)")
    c.add_argument("--from", dest="departure", help="departure point (default: the crew's base)")
    c.add_argument("--travel", default="vehicle", help="travel method (default: vehicle)")
    c.add_argument("--lat", type=number(), help="where the crew is (WGS84): its routes start here")
    c.add_argument("--lon", type=number(), help="where the crew is (WGS84)")
    add_json(c)
    c.set_defaults(handler=cmd_checkin)
    c = csub.add_parser(
        "ics211", help="the ICS 211 check-in list (every FEMA column; assignment from the routes)"
    )
    c.add_argument("incident", help="incident code")
    c.add_argument("-o", "--output", help="write to a .csv or .md file (an exercise's name carries EXERCISE)")
    c.add_argument(
        "--location", default="", help="block 2: check-in location (default: where crews checked in)"
    )
    c.add_argument("--position", default="", help="block 11: your position/title (default: your roster role)")
    c.add_argument("--csv", action="store_true", help="print CSV instead of Markdown")
    add_json(c)
    c.set_defaults(handler=cmd_ics211)
    c = csub.add_parser("status", help="set a crew Available / Assigned / Out of service")
    c.add_argument("crew", help='crew name, e.g. "Crew C" (or just C)')
    c.add_argument("status", choices=["available", "assigned", "out_of_service"], help="the new status")
    c.add_argument("--incident", help="incident the change concerns (logged on its chain, else the centre's)")
    c.add_argument("--note", default="", help="reason (required for out_of_service)")
    c.set_defaults(handler=cmd_crew_status)

    p = sub.add_parser("assign", help="route crews over the points to beat the plume (ICS 204)")
    p.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--md", action="store_true", help="print the ICS 204 list as Markdown")
    fmt.add_argument("--csv", action="store_true", help="print the ICS 204 list as CSV")
    fmt.add_argument("--json", action="store_true", help="print each crew's route as JSON")
    p.add_argument("--dispatch", action="store_true", help="save the routes and set the crews Assigned")
    form = p.add_argument_group("ICS 204 blocks (filled from the incident and the roster when not given)")
    form.add_argument(
        "--position", default="", help="ICS 204 block 11: your position/title (default: your roster role)"
    )
    form.add_argument("--approved-by", dest="approved_by", default="", help="ICS 204 block 12: who approves")
    form.add_argument(
        "--ops-chief",
        dest="ops_chief",
        default="",
        help="ICS 204 block 6: operations section chief (default: you)",
    )
    form.add_argument("--branch", default="", help="ICS 204 block 3 (default: Emergency monitoring)")
    form.add_argument("--division", default="", help="ICS 204 block 4 (default: the river below the source)")
    form.add_argument("--group", default="", help="ICS 204 block 5 (default: Field sampling)")
    form.add_argument(
        "--comms-method",
        dest="comms_method",
        default="mobile phone",
        help="ICS 204 block 10: how crews are reached",
    )
    form.add_argument(
        "--safety",
        default="",
        help="added to the safety message (the pollutant's hazards and the standing rules)",
    )
    p.add_argument(
        "--override",
        metavar="REASON",
        help="team lead: dispatch past readiness refusals, for this reason (logged; needs --lead)",
    )
    p.add_argument("--lead", metavar="NAME", help="the team lead giving the --override (a roster team_lead)")
    p.add_argument(
        "--round", type=whole(), metavar="N", help="route stored round N (default: round 1, the first pass)"
    )
    p.add_argument("--roads", metavar="FILE", help="road network GeoJSON (docs/formats/roads.md)")
    p.add_argument(
        "--road-factor", type=number(), default=1.4, help="road distance ÷ straight line (default 1.4)"
    )
    p.add_argument(
        "--speed", type=number(), default=40.0, help="driving speed km/h without roads (default 40)"
    )
    p.add_argument(
        "--off-road-speed", type=number(), default=15.0, help="km/h between a road and a point (default 15)"
    )
    p.add_argument(
        "--margin",
        type=number(),
        default=30.0,
        help="minutes before the plume's earliest arrival (default 30)",
    )
    p.add_argument("--handling", type=number(), default=15.0, help="minutes on site per point (default 15)")
    p.add_argument(
        "--per-sample", type=number(), default=5.0, help="minutes per further vertical or depth (default 5)"
    )
    p.add_argument(
        "--tolerance", type=number(), default=30.0, help="later rounds: minutes either side of the round time"
    )
    p.add_argument(
        "--period", type=number(), default=12.0, help="hours for points the plume does not reach (default 12)"
    )
    p.add_argument(
        "--search-seconds", type=number(), default=1.0, help="seconds spent improving the routes (default 1)"
    )
    p.add_argument("--points", help="only these points, comma-separated (e.g. S4,S8)")
    p.add_argument("--include-assigned", action="store_true", help="also re-plan crews already Assigned")
    p.add_argument(
        "--skip-kit-check", action="store_true", help="do not check kit readiness (said on the list)"
    )
    p.set_defaults(handler=cmd_assign)

    p = sub.add_parser("export", help="export the plan for GIS")
    esub = p.add_subparsers(dest="export_command", metavar="FORMAT", required=True)
    c = esub.add_parser("geojson", help="points, receptors, river and plume extent (RFC 7946; opens in QGIS)")
    c.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    c.add_argument(
        "--at", type=number(), required=True, metavar="HOURS", help="plume at this many hours after release"
    )
    c.add_argument("-o", "--output", required=True, help="file to write (- for stdout)")
    c.add_argument("--threshold", type=number(), help="plume above this mg/L (default: the detection limit)")
    c.add_argument("--no-river", action="store_true", help="leave the river reaches out")
    c.add_argument("--horizon", type=number(), default=72.0, help="forecast horizon in hours (default 72)")
    c.set_defaults(handler=cmd_export_geojson)


# ---------------------------------------------------------------- helpers


def run_forecast(session, code: str, extra_points: list, horizon_h: float, *, actor: str):
    """The incident's stored forecast covering these points (run and stored when there is none)."""
    try:
        from incident.plume import forecast_for
    except ImportError as exc:
        raise UserError("errors.cli.plume_forecast_service_not") from exc
    stored = forecast_for(session, code, actor=actor, extra_points=extra_points, horizon_h=horizon_h)
    return stored.to_forecast()


def plan_extra_points(view) -> list:
    """Forecast requests for every point of a plan, labelled by their numbers."""
    return [(p.number, p.reach_id, p.offset_m) for p in view.points]


def _hours(h: float | None) -> str:
    return "—" if h is None else f"{h:.1f} h"


def point_rows(view, release, include_removed: bool = False) -> list[dict]:
    from incident.core.clock import fmt_local

    rows = []
    for p in view.points:
        if not include_removed and not p.active:
            continue
        arrival = (
            fmt_local(release + timedelta(hours=p.arrival_h)) if release and p.arrival_h is not None else None
        )
        rows.append(
            {
                "no": p.number,
                "role": p.role,
                "name": p.name,
                "reach": p.reach_id,
                "km": round(p.km, 2),
                "from_src_km": round(p.distance_from_source_m / 1000, 2),
                "lat": round(p.lat, 5),
                "lon": round(p.lon, 5),
                "arrival": arrival,
                "arrival_h": p.arrival_h,
                "peak_h": p.peak_h,
                "mandatory": p.mandatory,
                "vert_x_depth": f"{p.verticals}×{p.points_per_vertical}",
                "requires": p.required_qualification,
                "removed": p.removed_reason,
            }
        )
    return rows


def _release(view, inc):
    from datetime import datetime

    from incident.core.clock import as_utc

    if view.forecast.get("release_start"):
        return as_utc(datetime.fromisoformat(view.forecast["release_start"]))
    return as_utc(inc.release_start or inc.alert_at)


def _show_plan(args, session, code, revision=None, include_removed=False, notes=()) -> None:
    from incident.core.clock import fmt_local
    from incident.core.incidents import get_incident
    from incident.sampling import plan_view

    view = plan_view(session, code, revision)
    inc = get_incident(session, code)
    rows = point_rows(view, _release(view, inc), include_removed)
    if getattr(args, "json", False):
        as_json({"incident": code, "revision": view.revision.__dict__, "points": rows, "notes": list(notes)})
        return
    r = view.revision
    marker = "EXERCISE — " if inc.is_exercise else ""
    print(
        f"{marker}{code} monitoring plan, revision {r.revision} of {len(view.revisions)} "
        f"({fmt_local(r.created_at)}, {r.created_by}: {r.reason})\n"
    )
    cols = [
        "no",
        "role",
        "reach",
        "km",
        "from_src_km",
        "arrival",
        "mandatory",
        "vert_x_depth",
        "requires",
        "name",
    ]
    if include_removed:
        cols.append("removed")
    table(rows, cols)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)


# ---------------------------------------------------------------- plan


def cmd_propose(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.sampling import PlanSettings, propose_plan, requests_for

    settings = settings_from(args)
    cfg = PlanSettings(
        upstream_control_m=args.upstream_m,
        downstream_control_m=args.downstream_m,
        attenuation_m=args.attenuation_m,
        intermediate_spacing_km=args.spacing_km,
    )
    cfg.check()
    with session_scope(engine_from(args)) as s:
        forecast = run_forecast(
            s, args.incident, requests_for(s, args.incident, cfg), args.horizon, actor=settings.user
        )
        view, proposal = propose_plan(
            s, args.incident, forecast, actor=settings.user, reason=args.reason, settings=cfg
        )
        _show_plan(args, s, view.code, notes=proposal.notes)
    return 0


def cmd_show(args) -> int:
    from incident.core.store.engine import session_scope

    with session_scope(engine_from(args)) as s:
        _show_plan(
            args, s, args.incident, args.revision, include_removed=args.all or args.revision is not None
        )
    return 0


def cmd_insert(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.sampling import insert_point, plan_view

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        forecast = None
        if not args.no_forecast:
            from incident.core.incidents import get_incident
            from incident.sampling import _locate, incident_river, sub_number

            inc = get_incident(s, args.incident)
            net, src_reach, src_off = incident_river(s, inc)
            reach, offset = _locate(net, args.km, args.reach, (src_reach, src_off))
            view = plan_view(s, args.incident)
            # the forecast labels the new point by the number it will get when --after is given
            label = sub_number(args.after, [p.number for p in view.points]) if args.after else "new"
            forecast = run_forecast(
                s,
                args.incident,
                [*plan_extra_points(view), (label, reach, offset)],
                72.0,
                actor=settings.user,
            )
        point = insert_point(
            s,
            args.incident,
            km=args.km,
            reason=args.reason,
            actor=settings.user,
            after=args.after,
            reach_id=args.reach,
            name=args.name,
            requires=args.requires,
            forecast=forecast,
        )
        print(
            f"inserted {point.number} at {point.reach_id} km {point.km:.2f} — {args.reason}", file=sys.stderr
        )
        _show_plan(args, s, args.incident)
    return 0


def cmd_remove(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.sampling import remove_point

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        p = remove_point(s, args.incident, args.number, reason=args.reason, actor=settings.user)
    flag = " (a MANDATORY receptor point)" if p.mandatory else ""
    print(f"removed {p.number}{flag}: {args.reason}. The number is kept and never reused.")
    return 0


def cmd_refresh(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.sampling import plan_view, refresh_plan, requests_for

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        view = plan_view(s, args.incident)
        extra = [*plan_extra_points(view), *requests_for(s, args.incident)]
        forecast = run_forecast(s, args.incident, extra, args.horizon, actor=settings.user)
        refresh_plan(s, args.incident, forecast, actor=settings.user, reason=args.reason)
        _show_plan(args, s, args.incident)
    return 0


# ---------------------------------------------------------------- rounds


def cmd_rounds(args) -> int:
    from incident.core.clock import fmt_local
    from incident.core.store.engine import session_scope
    from incident.sampling import list_rounds, mark_sampled, plan_view, regenerate

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        if args.sampled is not None:
            mark_sampled(s, args.incident, args.sampled, actor=settings.user)
        rounds = list_rounds(s, args.incident)
        if args.regenerate or not rounds:
            view = plan_view(s, args.incident)
            forecast = run_forecast(
                s, args.incident, plan_extra_points(view), args.horizon, actor=settings.user
            )
            rounds = regenerate(s, args.incident, actor=settings.user, forecast=forecast)
        rows = [
            {
                "round": r.number,
                "time": fmt_local(r.at),
                "after_release_h": round(r.at_h, 2),
                "purpose": r.label,
                "status": r.status,
            }
            for r in rounds
        ]
    emit(args, rows, ["round", "time", "after_release_h", "purpose", "status"])
    return 0


# ---------------------------------------------------------------- crews


def cmd_crew_list(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.sampling import list_crews

    with session_scope(engine_from(args)) as s:
        rows = [
            {
                "crew": c.name,
                "status": c.status,
                "since": c.status_changed_at,
                "leader": c.leader,
                "people": c.headcount,
                "base": c.base_name,
                "vehicle": c.vehicle,
                "kit": c.kit,
                "checked_in": c.checked_in_at,
                "qualifications": ", ".join(sorted(c.qualifications)),
            }
            for c in list_crews(s, code=args.incident)
        ]
    cols = ["crew", "status", "since", "leader", "people", "kit", "qualifications"]
    if args.incident:
        cols.insert(3, "checked_in")
    emit(args, rows, cols)
    return 0


def cmd_ics211(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.sampling import build_ics211, export_ics211, ics211_csv, ics211_json, ics211_markdown

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        if args.output:
            form, written = export_ics211(
                s,
                args.incident,
                args.output,
                actor=settings.user,
                position=args.position,
                location=args.location,
            )
            print(f"written: {written} ({len(form.rows)} crews)")
            return 0
        form = build_ics211(
            s, args.incident, prepared_by=settings.user, position=args.position, location=args.location
        )
    if args.json:
        as_json(ics211_json(form))
    else:
        sys.stdout.write(ics211_csv(form) if args.csv else ics211_markdown(form))
    return 0


def cmd_checkin(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.sampling import check_in

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        row = check_in(
            s,
            args.incident,
            args.crew,
            actor=settings.user,
            leader=args.leader,
            headcount=args.headcount,
            departure_point=args.departure,
            travel_method=args.travel,
            lat=args.lat,
            lon=args.lon,
        )
        data = {
            "ICS 211 check-in": args.crew,
            "time": row.at,
            "leader": row.leader,
            "headcount": row.headcount,
            "home unit": row.home_unit,
            "departure point": row.departure_point,
            "travel method": row.travel_method,
            "qualifications": row.qualifications,
        }
    emit(args, data)
    return 0


def cmd_crew_status(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.sampling import set_status

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        change = set_status(
            s, args.crew, args.status, actor=settings.user, code=args.incident, note=args.note
        )
        from incident.core.clock import fmt_local

        print(f"{args.crew}: {change.status} since {fmt_local(change.at)}")
    return 0


# ---------------------------------------------------------------- assignment


def cmd_assign(args) -> int:
    from incident.core.clock import fmt_local
    from incident.core.store.engine import session_scope
    from incident.sampling import (
        AssignSettings,
        dispatch,
        ics204_csv,
        ics204_markdown,
        ics204_sign,
        plan_assignment,
        routes_json,
        skip_kit_check,
    )

    settings = settings_from(args)
    cfg = AssignSettings(
        road_factor=args.road_factor,
        speed_kmh=args.speed,
        off_road_speed_kmh=args.off_road_speed,
        roads=args.roads,
        margin_min=args.margin,
        handling_min=args.handling,
        per_sample_min=args.per_sample,
        tolerance_min=args.tolerance,
        round_no=args.round,
        period_h=args.period,
        search_s=args.search_seconds,
        include_assigned=args.include_assigned,
    )
    # with an override, crews that are not ready are routed too: the dispatch gate lists and logs them
    kit_check = skip_kit_check if (args.skip_kit_check or args.override is not None) else None
    points = [p.strip() for p in args.points.split(",") if p.strip()] if args.points else None
    with session_scope(engine_from(args)) as s:
        plan = plan_assignment(s, args.incident, settings=cfg, kit_check=kit_check, points=points)
        ics204_sign(
            s,
            plan,
            prepared_by=settings.user,
            position=args.position,
            approved_by=args.approved_by,
            operations_chief=args.ops_chief,
            branch=args.branch,
            division=args.division,
            group=args.group,
            comms_method=args.comms_method,
            safety=args.safety,
        )
        if args.skip_kit_check:
            plan.warnings.append("Kit readiness was NOT checked (--skip-kit-check).")
        if args.dispatch:
            dispatch(s, plan, actor=settings.user, override=args.override, lead=args.lead)
    if args.md:
        sys.stdout.write(ics204_markdown(plan))
    elif args.csv:
        sys.stdout.write(ics204_csv(plan))
    elif args.json:
        as_json(routes_json(plan))
    else:
        marker = "EXERCISE — " if plan.is_exercise else ""
        print(
            f"{marker}ICS 204 crew routes — {plan.code}, round {plan.round_no} (plan revision {plan.revision})\n"
        )
        table(
            [
                {
                    "crew": x.crew,
                    "stop": x.stop,
                    "point": x.point + (" ★" if x.mandatory else ""),
                    "from": x.from_place,
                    "travel_min": round(x.travel_min),
                    "arrive": fmt_local(x.eta, with_date=False),
                    "window": f"{fmt_local(x.window_open, with_date=False)}–"
                    + (fmt_local(x.required_by, with_date=False) if x.required_by else "…"),
                    "on_site_min": round(x.handling_min),
                    "slack_min": round(x.slack_min) if x.slack_min is not None else None,
                }
                for x in plan.lines
            ]
        )
        print(f"\ntravel: {plan.travel_method}")
        for w in plan.warnings:
            print(f"warning: {w}")
    for u in plan.unmet:
        star = " MANDATORY" if u.mandatory else ""
        fix = f" — fix: {' or '.join(u.fixes)}" if u.fixes else ""
        print(f"UNMET{star} {u.point} {u.point_name}: {'; '.join(u.reasons)}{fix}", file=sys.stderr)
    if args.dispatch:
        print(f"dispatched: {len(plan.routes)} crew route(s) now Assigned", file=sys.stderr)
    return 1 if any(u.mandatory for u in plan.unmet) else 0


# ---------------------------------------------------------------- export


def cmd_export_geojson(args) -> int:

    from incident.core.incidents import get_incident
    from incident.core.networks import load_network
    from incident.core.store.engine import session_scope
    from incident.plume import refuse_long_horizon
    from incident.reports import plan_geojson
    from incident.sampling import plan_view

    refuse_long_horizon(args.at, "--at")
    refuse_long_horizon(args.horizon, "--horizon")
    with session_scope(engine_from(args)) as s:
        inc = get_incident(s, args.incident)
        view = plan_view(s, args.incident)
        if inc.river_network_id is None:
            raise UserError("errors.sampling.incident_has_no_source", where=inc.code, code=inc.code)
        net = load_network(s, inc.river_network_id)
        forecast = run_forecast(
            s,
            args.incident,
            plan_extra_points(view),
            max(args.horizon, args.at),
            actor=settings_from(args).user,
        )
        doc = plan_geojson(
            net,
            view.active_points,
            code=inc.code,
            forecast=forecast,
            at_h=args.at,
            threshold_mg_l=args.threshold,
            include_river=not args.no_river,
            is_exercise=inc.is_exercise,
        )
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    if args.output != "-":
        from incident.core.incidents import exercise_path

        args.output = str(exercise_path(args.output, doc.get("exercise", False)))
    if args.output == "-":
        sys.stdout.write(text + "\n")
    else:
        from incident.core.files import atomic_write

        atomic_write(args.output, text + "\n", what="GeoJSON file")
        n = {
            k: sum(1 for f in doc["features"] if f["properties"].get("layer") == k)
            for k in ("sampling_point", "plume")
        }
        print(
            f"wrote {args.output}: {n['sampling_point']} points, {n['plume']} plume segment(s) at "
            f"{doc.get('plume_at_h', args.at):g} h (open in QGIS: Layer → Add Vector Layer)"
        )
    return 0
