"""`incident drill ...`: exercises on an accelerated clock, headless (scripts, tests, the controller)."""

from __future__ import annotations

import textwrap

from incident.cli.shell import add_json, as_json, emit, engine_from, fmt, number, settings_from, table, whole


def register(sub) -> None:
    p = sub.add_parser(
        "drill",
        help="exercises: start a drill from a scenario, deliver injects, synthetic samples, "
        "ratings and the after-action report",
    )
    dsub = p.add_subparsers(dest="drill_command", metavar="ACTION", required=True)

    q = dsub.add_parser("start", help="open an exercise incident from a scenario file and start its playbook")
    q.add_argument("scenario", help="scenario TOML (e.g. incident/data/drills/jade_cadmium_night.toml)")
    q.add_argument("--speed", type=number(), help="exercise clock ×N (default: the scenario's speed)")
    add_json(q)
    q.set_defaults(handler=cmd_start)

    q = dsub.add_parser("roster", help="the exercise's own crews: copy real players, or load fictional ones")
    q.add_argument("incident", help="the exercise code, e.g. EX-2026-0001")
    q.add_argument(
        "--copy", metavar="CREWS", help='real crews to copy, comma-separated ("Crew A,Crew B"); "all"'
    )
    q.add_argument(
        "--file", metavar="ROSTER", help="a roster TOML of fictional players (docs/formats/roster.md)"
    )
    q.set_defaults(handler=cmd_roster)

    q = dsub.add_parser("tick", help="bring a drill up to its clock: deliver injects and due lab results")
    q.add_argument("incident", help="exercise code, e.g. EX-2026-0001")
    add_json(q)
    q.set_defaults(handler=cmd_tick)

    q = dsub.add_parser("status", help="clock, injects received, timeline metrics and ratings")
    q.add_argument("incident", help="exercise code, e.g. EX-2026-0001")
    q.add_argument("--controller", action="store_true", help="also list injects not yet delivered")
    add_json(q)
    q.set_defaults(handler=cmd_status)

    q = dsub.add_parser("injects", help="the injects the players received (--all: the whole schedule)")
    q.add_argument("incident", help="exercise code, e.g. EX-2026-0001")
    q.add_argument("--all", action="store_true", help="include injects not yet delivered (exercise control)")
    add_json(q)
    q.set_defaults(handler=cmd_injects)

    q = dsub.add_parser(
        "sample", help="take a sample at a plan point now (exercise clock); the lab answers later"
    )
    q.add_argument("incident", help="exercise code, e.g. EX-2026-0001")
    q.add_argument("--point", required=True, help="plan point number, e.g. S3")
    q.add_argument("--method", help="a method of the scenario's lab (default: its default_method)")
    q.add_argument("--sampler", help="who took it (default: you)")
    q.add_argument("--time", help="sampling time, exercise clock, YYYY-MM-DD HH:MM local (default: now)")
    q.add_argument("--round", type=whole(), help="sampling round number")
    add_json(q)
    q.set_defaults(handler=cmd_sample)

    q = dsub.add_parser("speed", help="change the exercise clock's speed (0 pauses it)")
    q.add_argument("incident", help="exercise code, e.g. EX-2026-0001")
    q.add_argument(
        "speed", type=number(), help="×N: 0 = pause, 1 = real time, 10 = ten exercise minutes per minute"
    )
    q.set_defaults(handler=cmd_speed)

    q = dsub.add_parser("mark", help="record an observed milestone (crew departed / on site)")
    q.add_argument("incident", help="exercise code, e.g. EX-2026-0001")
    q.add_argument(
        "milestone", choices=["depart", "on_site"], help="depart: a crew left; on_site: a crew arrived"
    )
    q.add_argument("--at", help="exercise time, YYYY-MM-DD HH:MM local (default: now on the exercise clock)")
    q.add_argument("--note", default="", help="e.g. the crew's name")
    q.set_defaults(handler=cmd_mark)

    q = dsub.add_parser(
        "rate", help="the evaluator's P/S/M/U rating of a capability (confirms or changes the suggestion)"
    )
    q.add_argument("incident", help="exercise code, e.g. EX-2026-0001")
    q.add_argument("capability", help="capability name as in the scenario's [[target]]")
    q.add_argument("rating", help="P, S, M or U")
    q.add_argument("--evaluator", help="the evaluator's name (default: you)")
    q.add_argument("--strengths", help="what went well")
    q.add_argument("--improvements", help="areas for improvement")
    q.set_defaults(handler=cmd_rate)

    q = dsub.add_parser("action", help="add a corrective action to the improvement plan")
    q.add_argument("incident", help="exercise code, e.g. EX-2026-0001")
    q.add_argument("capability", help="capability name as in the scenario's [[target]]")
    q.add_argument("action", help="what will be done")
    q.add_argument("--owner", required=True, help="person or unit responsible")
    q.add_argument("--due", required=True, help="due date YYYY-MM-DD")
    q.set_defaults(handler=cmd_action)

    q = dsub.add_parser("end", help="ENDEX: stop the clock and capture the final metrics")
    q.add_argument("incident", help="exercise code, e.g. EX-2026-0001")
    q.set_defaults(handler=cmd_end)

    q = dsub.add_parser("aar", help="export the After-Action Report / Improvement Plan (.md or .html)")
    q.add_argument("incident", help="exercise code, e.g. EX-2026-0001")
    q.add_argument("-o", "--output", required=True, help="file name ending .md or .html")
    q.add_argument("--report-lang", choices=["en", "zh"], help="language of the report (default: the UI's)")
    q.set_defaults(handler=cmd_aar)

    q = dsub.add_parser("compare", help="compare the year's drills: timeline minutes and ratings")
    q.add_argument("--year", type=whole(), help="calendar year (local time); default: all")
    add_json(q)
    q.set_defaults(handler=cmd_compare)


def _print_tick(res) -> None:
    from incident.core.clock import fmt_elapsed

    print(f"{res.code} · {fmt_elapsed(res.elapsed_min)}")
    for i in res.injects:
        message = textwrap.indent(i.message, "    ")
        print(f"  INJECT {fmt_elapsed(i.at_min)} from {i.sender or '—'}: {i.title}\n{message}")
    for r in res.results:
        print(f"  RESULT {r.sample} {r.parameter} ({r.method}): {r.result_text}")
    if not res.injects and not res.results:
        print("  nothing new")


def cmd_start(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.drills import clock_line, start_drill

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        inc = start_drill(s, args.scenario, actor=settings.user, speed=args.speed)
        data = {"code": inc.code, "title": inc.title, "alert_at": inc.alert_at, "speed": inc.exercise_speed}
        line = clock_line(inc)
    if args.json:
        as_json(data)
    else:
        print(f"EXERCISE {data['code']} started · {line}\n{data['title']}")
        print(f"Next: `incident drill tick {data['code']}` delivers injects as the clock passes them.")
    return 0


def cmd_tick(args) -> int:
    from dataclasses import asdict

    from incident.core.store.engine import session_scope
    from incident.drills import tick

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        res = tick(s, args.incident, actor=settings.user)
    if args.json:
        as_json(asdict(res))
    else:
        _print_tick(res)
    return 0


def cmd_status(args) -> int:
    from dataclasses import asdict

    from incident.core.clock import fmt_elapsed
    from incident.core.store.engine import session_scope
    from incident.drills import drill_status

    with session_scope(engine_from(args)) as s:
        st = drill_status(s, args.incident, controller=args.controller)
    if args.json:
        as_json(asdict(st))
        return 0
    speed = "paused" if st.speed == 0 else f"×{st.speed:g}"
    print(f"EXERCISE {st.code} · {fmt_elapsed(st.elapsed_min)} · {speed}{' · ENDED' if st.ended else ''}")
    print(f"{st.scenario}\n")
    print("Timeline")
    table(
        [
            {
                "milestone": m.name,
                "time": m.at,
                "after alert": fmt_elapsed(m.value) if m.value is not None else None,
            }
            for m in st.timeline
        ]
    )
    print("\nCapabilities")
    table(
        [
            {
                "capability": ev.capability,
                "target": ev.target,
                "observed": ev.basis,
                "suggested": ev.suggested,
                "rating": ev.rating,
            }
            for ev in st.evaluations
        ]
    )
    print(
        f"\nInjects received: {sum(1 for i in st.injects if i.delivered)}; "
        f"lab results pending: {st.pending_results}"
    )
    return 0


def cmd_injects(args) -> int:
    from dataclasses import asdict

    from incident.core.clock import fmt_elapsed
    from incident.core.store.engine import session_scope
    from incident.drills import injects

    with session_scope(engine_from(args)) as s:
        rows = injects(s, args.incident, include_pending=args.all)
    if args.json:
        as_json([asdict(i) for i in rows])
        return 0
    table(
        [
            {"at": fmt_elapsed(i.at_min), "from": i.sender, "title": i.title, "delivered": i.delivered}
            for i in rows
        ]
    )
    return 0


def cmd_sample(args) -> int:
    from dataclasses import asdict

    from incident.core.clock import parse_local
    from incident.core.store.engine import session_scope
    from incident.drills import take_sample

    settings = settings_from(args)
    at = parse_local(args.time) if args.time else None
    with session_scope(engine_from(args)) as s:
        taken = take_sample(
            s,
            args.incident,
            point=args.point,
            sampler=args.sampler or settings.user,
            actor=settings.user,
            method=args.method,
            at=at,
            round=args.round,
        )
    if args.json:
        as_json(asdict(taken))
    else:
        print(
            f"Sample {taken.sample} at {taken.point}, {fmt(taken.sampled_ex_at)} ({taken.method}); "
            f"result due at {fmt(taken.available_ex_at)} on the exercise clock"
        )
    return 0


def cmd_speed(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.drills import clock_line, set_speed

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        inc = set_speed(s, args.incident, args.speed, actor=settings.user)
        print(f"{inc.code} · {clock_line(inc)}")
    return 0


def cmd_mark(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.drills import mark

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        when = mark(s, args.incident, args.milestone, actor=settings.user, at=args.at, note=args.note)
    print(f"{args.milestone} recorded at {fmt(when)} (exercise clock)")
    return 0


def cmd_rate(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.drills import rate

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        ev = rate(
            s,
            args.incident,
            args.capability,
            args.rating,
            evaluator=args.evaluator or settings.user,
            strengths=args.strengths,
            improvements=args.improvements,
        )
        print(f"{ev.capability}: {ev.rating} (suggested {ev.suggested_rating or '—'}) by {ev.evaluator}")
    return 0


def cmd_action(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.drills import add_corrective_action

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        row = add_corrective_action(
            s,
            args.incident,
            args.capability,
            args.action,
            owner=args.owner,
            due=args.due,
            actor=settings.user,
        )
        print(f"Corrective action for {row.capability}: {row.action} — {row.owner}, due {row.due_on}")
    return 0


def cmd_end(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.drills import clock_line, end_drill

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        inc = end_drill(s, args.incident, actor=settings.user)
        print(f"ENDEX {inc.code} · {clock_line(inc)}")
    return 0


def cmd_aar(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.drills import export_aar

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        path = export_aar(
            s, args.incident, args.output, actor=settings.user, lang=args.report_lang or settings.lang
        )
    print(f"After-action report written: {path}")
    return 0


def cmd_compare(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.drills import compare

    with session_scope(engine_from(args)) as s:
        rows = compare(s, year=args.year)
    if args.json:
        as_json(rows)
        return 0
    out = []
    for r in rows:
        c = r["rating_counts"]
        out.append(
            {
                "code": r["code"],
                "date": r["date"],
                "speed": r["speed"],
                "depart": r.get("depart"),
                "on site": r.get("on_site"),
                "sample": r.get("first_sample"),
                "data": r.get("first_data"),
                "flash": r.get("first_flash_report"),
                "P/S/M/U": f"{c['P']}/{c['S']}/{c['M']}/{c['U']}",
            }
        )
    print("Minutes after the alert on the exercise clock; ratings: the evaluator's, else the suggestion.")
    emit(args, out)
    return 0


def cmd_roster(args) -> int:
    from incident.core.errors import UserError
    from incident.core.store.engine import session_scope
    from incident.sampling import copy_crews_to_exercise, load_roster

    if not args.copy and not args.file:
        raise UserError("errors.roster.nothing_to_add", where="drill roster")
    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        if args.copy:
            names = (
                None
                if args.copy.strip().lower() == "all"
                else [n.strip() for n in args.copy.split(",") if n.strip()]
            )
            for name in copy_crews_to_exercise(s, args.incident, names, actor=settings.user):
                print(f"EXERCISE {args.incident}: crew {name} (copied)")
        if args.file:
            counts = load_roster(s, args.file, actor=settings.user, exercise=args.incident)
            print(
                f"EXERCISE {args.incident}: {counts['crews']} fictional crew(s), {counts['responders']} player(s)"
            )
    return 0
