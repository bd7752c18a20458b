"""Samples, results, custody, import, QC, standards and the termination check.

incident sample new CODE --point S2 --round 1 --sampler "Li Wei"
incident result add SAMPLE --param cadmium --value 0.012 --unit mg/L --dl 0.001 --method hj700_icpms
incident result correct RESULT_ID --value 0.021 --reason "transcription error"
incident results CODE [--round N] [--point S2 [--param X]] [--all] [--json]
incident custody SAMPLE --from "Li Wei" --to "Lab reception"
incident import results CODE FILE [--mapping FILE] [--col value=检测结果] [--dry-run]
incident terminate check CODE [--out proposal.md]
incident standards [--class III]
incident qc CODE
"""

from __future__ import annotations

from pathlib import Path

from incident.cli.shell import (
    Progress,
    add_json,
    as_json,
    emit,
    engine_from,
    number,
    settings_from,
    table,
    whole,
)
from incident.core.errors import UserError

#: a result identical to one entered this many minutes earlier is taken for a retry (not stored
#: without --again): the first reply was lost, the command was typed again
DUPLICATE_WINDOW_MIN = 30

# ---------------------------------------------------------------- parser


def _result_fields(p, *, required: bool) -> None:
    p.add_argument("--param", required=required, help="parameter key, name or alias (cadmium, Cd, 镉)")
    p.add_argument(
        "--value",
        help="measured value; not detected: '<0.001' or '0.001L' (the detection limit), or 'ND' with --dl",
    )
    p.add_argument("--value-high", help="upper end of a semi-quantitative range (--value is the lower end)")
    p.add_argument("--detected", help="qualitative result: yes or no (no --value)")
    p.add_argument("--unit", help="mg/L (default), µg/L or ug/L, ng/L, g/m³ …")
    p.add_argument("--dl", help="detection limit, in the same unit as the value")
    p.add_argument("--method", help="method key from `incident standards --methods`, or free text")
    p.add_argument("--principle", help="analytical principle key (needed for a free-text method)")
    p.add_argument("--instrument", help="asset tag of the instrument (required for rapid methods)")
    kind = p.add_mutually_exclusive_group()
    kind.add_argument(
        "--rapid", action="store_true", default=None, help="a rapid field method (strip, tube, portable)"
    )
    kind.add_argument("--online", action="store_true", default=None, help="an automatic station analyser")
    kind.add_argument("--lab", action="store_true", default=None, help="a laboratory method (the default)")


def register(sub) -> None:
    p = sub.add_parser("sample", help="samples: register one (gets its label ID), list them")
    ssub = p.add_subparsers(dest="sample_command", metavar="ACTION", required=True)
    n = ssub.add_parser("new", help="register a sample and print its label (HJ 589 §7.1.3.2)")
    n.add_argument("incident", help="incident code")
    n.add_argument("--point", required=True, help="point number from the plan, e.g. S2")
    n.add_argument("--round", type=whole(), help="sampling round number")
    n.add_argument("--time", help="sampling time, YYYY-MM-DD HH:MM local (default: now)")
    n.add_argument("--sampler", help="who took it (default: --user)")
    n.add_argument("--checker", default="", help="second person who checked the record")
    n.add_argument(
        "--type",
        default="normal",
        choices=["normal", "field_blank", "parallel"],
        help="normal (default), field_blank (label suffix B) or parallel (suffix P, with --parallel-of)",
    )
    n.add_argument("--parallel-of", help="for --type parallel: the partner sample's ID")
    n.add_argument("--param", action="append", default=[], help="parameter on the label (repeat)")
    n.add_argument(
        "--again",
        action="store_true",
        help=f"register it even if the same sample was registered in the last {DUPLICATE_WINDOW_MIN} "
        "minutes (another sample at the same point)",
    )
    add_json(n)
    n.set_defaults(handler=cmd_sample_new)
    ls = ssub.add_parser("list", help="samples of an incident with their holder")
    ls.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    add_json(ls)
    ls.set_defaults(handler=cmd_sample_list)

    p = sub.add_parser("result", help="results: add one, correct one")
    rsub = p.add_subparsers(dest="result_command", metavar="ACTION", required=True)
    a = rsub.add_parser("add", help="log a result for a sample (every field checked, nothing guessed)")
    a.add_argument("sample", help="sample label ID")
    _result_fields(a, required=True)
    a.add_argument(
        "--again",
        action="store_true",
        help=f"store it even if the same result was entered in the last {DUPLICATE_WINDOW_MIN} minutes "
        "(a repeat measurement)",
    )
    add_json(a)
    a.set_defaults(handler=cmd_result_add)
    c = rsub.add_parser("correct", help="replace a result by a new one (the old one is kept)")
    c.add_argument("result_id", type=whole(), help="result number, as printed by `result add` (#1)")
    c.add_argument("--reason", required=True, help="why the result is corrected")
    _result_fields(c, required=False)
    add_json(c)
    c.set_defaults(handler=cmd_result_correct)
    k = rsub.add_parser(
        "confirm", help="confirm a result flagged as implausible (it counts again); the reason is logged"
    )
    k.add_argument("result_id", type=whole(), help="result number, as printed by `result add` (#1)")
    k.add_argument("--reason", required=True, help="why the value stands (re-run, field note ...)")
    add_json(k)
    k.set_defaults(handler=cmd_result_confirm)

    p = sub.add_parser("results", help="results of an incident: round table, one point over time, or all")
    p.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    p.add_argument("--round", type=whole(), help="round number (default: the latest with results)")
    p.add_argument("--point", help="one point over time (with --param)")
    p.add_argument("--param", help="parameter for --point (default: the incident's substance)")
    p.add_argument("--all", action="store_true", help="every result, one per line (with corrected ones)")
    p.add_argument("--class", dest="water_class", default="III", help="GB 3838 class I–V (default III)")
    add_json(p)
    p.set_defaults(handler=cmd_results)

    p = sub.add_parser("custody", help="chain of custody of a sample: show it, or record a hand-off")
    p.add_argument("sample", help="sample label ID, e.g. INC-2026-0001-S2-R1-01")
    p.add_argument("--from", dest="from_person", help="who hands the sample over (must hold it)")
    p.add_argument("--to", dest="to_person", help="who receives it")
    p.add_argument("--at", help="time of the hand-off, YYYY-MM-DD HH:MM local (default: now)")
    p.add_argument(
        "--condition", default="intact", help="intact, seal_broken, leaking, damaged, temperature_exceeded"
    )
    p.add_argument("--note", default="", help="free text kept with the hand-off")
    add_json(p)
    p.set_defaults(handler=cmd_custody)

    p = sub.add_parser("import", help="import data files")
    isub = p.add_subparsers(dest="import_command", metavar="WHAT", required=True)
    i = isub.add_parser(
        "results",
        help="results CSV (lab export or station series); all rows or none",
        description="Import a results CSV. If any row is bad nothing is imported and every bad row is "
        "listed with its line number. Format: docs/formats/results-csv.md.",
    )
    i.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    i.add_argument("file", help="CSV file (UTF-8, UTF-16 or GB18030)")
    i.add_argument("--mapping", help="TOML mapping file: [columns], [defaults], [parameters]")
    i.add_argument("--col", action="append", default=[], help="column mapping, e.g. --col value=检测结果")
    i.add_argument("--encoding", help="force an encoding (default: detect UTF-8, UTF-16, GB18030/GBK)")
    i.add_argument("--dry-run", action="store_true", help="check every row, import nothing")
    add_json(i)
    i.set_defaults(handler=cmd_import_results)

    p = sub.add_parser("terminate", help="termination of emergency monitoring (HJ 589 §10)")
    tsub = p.add_subparsers(dest="terminate_command", metavar="ACTION", required=True)
    t = tsub.add_parser(
        "check",
        help="may the end of monitoring be proposed? drafts the proposal; never ends the incident",
        description="Exit code 0: criteria met (proposal drafted); 1: not yet.",
    )
    t.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    t.add_argument(
        "--param", action="append", help="parameter(s) to check (default: substance + any exceeded)"
    )
    t.add_argument(
        "--class", dest="water_class", default="III", help="GB 3838 class I–V of the limit (default III)"
    )
    t.add_argument(
        "--limit", action="append", default=[], help="limit override in mg/L, e.g. --limit benzene=0.01"
    )
    t.add_argument(
        "--hours",
        type=number(),
        default=48.0,
        help="hours of compliant results needed for water incidents (default 48)",
    )
    t.add_argument(
        "--max-gap-h",
        type=number(),
        default=24.0,
        help="longest gap between results in the window, hours (default 24)",
    )
    t.add_argument("--out", help="write the Markdown proposal to this file")
    add_json(t)
    t.set_defaults(handler=cmd_terminate_check)

    p = sub.add_parser("standards", help="evaluation standards (GB 3838-2002) and analytical methods")
    p.add_argument("--class", dest="water_class", help="only this class's limits (I–V)")
    p.add_argument("--methods", action="store_true", help="list analytical methods and principles instead")
    add_json(p)
    p.set_defaults(handler=cmd_standards)

    p = sub.add_parser("qc", help="QC of an incident: parallel pairs (RPD), field blanks, flagged results")
    p.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    add_json(p)
    p.set_defaults(handler=cmd_qc)


# ---------------------------------------------------------------- helpers


def _time(text: str | None, where: str):
    """A typed time, or None for "now" (the service then uses the incident's clock:
    the exercise clock in a drill)."""
    from incident.core.clock import parse_local

    if not text:
        return None
    try:
        return parse_local(text)
    except UserError as exc:
        raise exc.relocated(where) from None


def _view_row(v) -> dict:
    return {
        "id": v.id,
        "sample": v.sample,
        "point": v.point,
        "round": v.round,
        "sampled_at": v.sampled_at,
        "parameter": v.parameter,
        "result": v.text,
        "mg_l": v.value_mg_l,
        "limit_mg_l": v.limit_mg_l,
        "verdict": v.verdict,
        "multiple": None if v.multiple is None else round(v.multiple, 2),
        "status": v.status,
        "method": v.method,
        "method_kind": v.method_kind,
        "principle": v.principle,
        "instrument": v.instrument_desc,
        "qc": ", ".join(v.qc_flags),
        "flagged": v.flagged,
        "plausibility": [
            {
                "kind": h.kind,
                "reason": h.reason,
                "confirmed_by": h.cleared_by,
                "confirmed_reason": h.cleared_reason,
            }
            for h in v.holds
        ],
        "held": v.held,
        "current": v.current,
        "corrected": v.corrected,
        "corrects": v.corrects_id,
        "reason": v.correction_reason,
        "superseded_by": v.superseded_by,
        "entered_by": v.entered_by,
    }


def _print_view(args, v) -> None:
    row = _view_row(v)
    if getattr(args, "json", False):
        as_json(row)
        return
    line = f"result #{v.id}: {v.parameter} {v.text} on {v.sample}"
    if v.verdict == "exceeds":
        line += f" — EXCEEDS {v.limit_mg_l:g} mg/L, {v.multiple:.1f} times over"
    elif v.verdict == "meets":
        line += f" — meets {v.limit_mg_l:g} mg/L"
    elif v.verdict == "undetermined":
        line += " — cannot be judged against the limit"
    if v.status == "suspected":
        line += (
            "\n  SUSPECTED: a rapid positive; confirm with a method on a different principle (HJ 589 §6.5.3)"
        )
    if v.qc_flags:
        line += f"\n  QC: {', '.join(v.qc_flags)}"
    for h in v.open_holds:
        line += (
            f"\n  FLAGGED ({h.kind}): {h.reason} — kept out of exceedance counts and released reports "
            f"until confirmed (`incident result confirm {v.id} --reason ...`) or corrected"
        )
    print(line)


def _input_from_args(args, base=None):
    from incident.results import ResultInput

    raw = base or ResultInput(sample=args.sample, parameter=args.param or "")
    if getattr(args, "sample", None):
        raw.sample = args.sample
    if args.param is not None:
        raw.parameter = args.param
    if args.value is not None or args.detected is not None:
        raw.value, raw.detected, raw.value_high = args.value, args.detected, None
    if args.value_high is not None:
        raw.value_high = args.value_high
    if args.unit is not None:
        raw.unit = args.unit
    elif base is None:
        raw.unit = "mg/L"
    if args.dl is not None:
        raw.detection_limit = args.dl
    if args.method is not None:
        raw.method = args.method
        raw.principle = ""
    if args.principle is not None:
        raw.principle = args.principle
    if args.instrument is not None:
        raw.instrument = args.instrument
    if args.rapid:
        raw.rapid, raw.online = True, False
    elif args.online:
        raw.rapid, raw.online = False, True
    elif args.lab:
        raw.rapid = raw.online = False
    return raw


# ---------------------------------------------------------------- commands


def cmd_sample_new(args) -> int:
    from incident.core.clock import incident_now
    from incident.core.incidents import get_incident
    from incident.core.store.engine import session_scope
    from incident.results import NewSample, create_sample

    settings = settings_from(args)
    sampled_at = _time(args.time, "--time")
    if sampled_at is None:
        with session_scope(engine_from(args)) as s:
            sampled_at = incident_now(get_incident(s, args.incident))
    spec = NewSample(
        point=args.point,
        round=args.round,
        sampled_at=sampled_at,
        sampler=args.sampler or settings.user,
        checker=args.checker,
        sample_type=args.type,
        parallel_of=args.parallel_of,
        parameters=args.param,
    )
    with session_scope(engine_from(args)) as s:
        info = create_sample(s, args.incident, spec, actor=settings.user)
        if not args.again:  # in the same transaction: refused means not stored
            _refuse_duplicate_sample(s, info.id, time_given=args.time is not None)
    if args.json:
        as_json(info.__dict__ | {"label": info.label()})
    else:
        print(f"sample {info.code} registered. Label:")
        table([{"field": k, "value": v} for k, v in info.label().items()])
    return 0


def cmd_sample_list(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.results import get_sample, holder, list_samples

    with session_scope(engine_from(args)) as s:
        rows = []
        for info in list_samples(s, args.incident):
            who, since = holder(s, get_sample(s, info.code))
            rows.append(
                {
                    "code": info.code,
                    "point": info.point,
                    "round": info.round,
                    "type": info.sample_type,
                    "sampled_at": info.sampled_at,
                    "sampler": info.sampler,
                    "held_by": who,
                    "since": since,
                }
            )
    emit(args, rows, ["code", "point", "round", "type", "sampled_at", "sampler", "held_by"])
    return 0


def cmd_result_add(args) -> int:
    from incident.core.incidents import get_incident
    from incident.core.store.engine import session_scope
    from incident.results import add_result, get_sample

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        sample = get_sample(s, args.sample, where="SAMPLE")
        code = get_incident(s, sample.incident_id).code
        view = add_result(s, code, _input_from_args(args), actor=settings.user)
        if not getattr(args, "again", False):
            _refuse_duplicate(s, view.id)  # in the same transaction: refused means not stored
    _print_view(args, view)
    return 0


def _recent_repeat(new_at, earlier):
    """The retry rule, one copy for every command that has it: the first of ``earlier`` (rows
    identical to the new one, each with its time) entered at most DUPLICATE_WINDOW_MIN minutes
    before ``new_at``, with its age in whole minutes; None if there is none."""
    from datetime import timedelta

    from incident.core.clock import as_utc

    for row, at in earlier:
        age = as_utc(new_at) - as_utc(at)
        if timedelta(0) <= age <= timedelta(minutes=DUPLICATE_WINDOW_MIN):
            return row, int(age.total_seconds() // 60)
    return None


def _refuse_duplicate(session, result_id: int) -> None:
    """Refuse a result identical to one of the same sample entered a few minutes before."""
    from sqlmodel import col, select

    from incident.core.clock import fmt_local
    from incident.core.store.tables import Result

    new = session.get(Result, result_id)
    same = [
        Result.sample_id == new.sample_id,
        Result.parameter == new.parameter,
        Result.id != new.id,
        col(Result.corrects_id).is_(None),
    ]
    fields = ("value", "value_high", "detected", "unit", "detection_limit", "method", "kind")
    identical = (
        (r, r.entered_at)
        for r in session.exec(select(Result).where(*same).order_by(col(Result.id).desc()))
        if all(getattr(r, f) == getattr(new, f) for f in fields)
    )
    if (found := _recent_repeat(new.entered_at, identical)) is not None:
        r, minutes = found
        raise UserError(
            "errors.cli.same_result_already_stored",
            where=f"result add {r.parameter}",
            id=r.id,
            minutes=minutes,
            fmt_local_entered_at=fmt_local(r.entered_at),
            entered_by=r.entered_by,
        )


def _refuse_duplicate_sample(session, sample_id: int, *, time_given: bool) -> None:
    """Refuse a sample identical to one registered a few minutes before (same point, round, type,
    sampler, checker, partner and label parameters; the same sampling time too when --time was
    given; without it the time is "now", which a retyped command cannot repeat)."""
    from sqlmodel import col, select

    from incident.core.clock import fmt_local
    from incident.core.store.tables import Sample

    new = session.get(Sample, sample_id)
    fields = ["point_id", "round_id", "sample_type", "sampler", "checker", "parallel_of", "parameters"]
    if time_given:
        fields.append("sampled_at")
    identical = (
        (x, x.created_at)
        for x in session.exec(
            select(Sample)
            .where(Sample.incident_id == new.incident_id, Sample.id != new.id)
            .order_by(col(Sample.id).desc())
        )
        if all(getattr(x, f) == getattr(new, f) for f in fields)
    )
    if (found := _recent_repeat(new.created_at, identical)) is not None:
        x, minutes = found
        raise UserError(
            "errors.cli.same_sample_already_registered",
            where="sample new",
            code=x.code,
            minutes=minutes,
            fmt_local_created_at=fmt_local(x.created_at),
            sampler=x.sampler,
        )


def cmd_result_correct(args) -> int:
    from incident.core.incidents import get_incident
    from incident.core.store.engine import session_scope
    from incident.core.store.tables import Result, row_id
    from incident.results import correct_result, input_from_result

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        old = s.get(Result, args.result_id)
        if old is None:
            raise UserError("errors.cli.no_result", where="RESULT_ID", result_id=args.result_id)
        code = get_incident(s, old.incident_id).code
        args.sample = None
        raw = _input_from_args(args, base=input_from_result(s, old))
        view = correct_result(s, code, row_id(old), raw, reason=args.reason, actor=settings.user)
    _print_view(args, view)
    return 0


def cmd_result_confirm(args) -> int:
    from incident.core.incidents import get_incident
    from incident.core.store.engine import session_scope
    from incident.core.store.tables import Result, row_id
    from incident.results import confirm_result

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        row = s.get(Result, args.result_id)
        if row is None:
            raise UserError("errors.records.no_result", field="result", id=args.result_id, code="the store")
        code = get_incident(s, row.incident_id).code
        view = confirm_result(s, code, row_id(row), reason=args.reason, actor=settings.user)
    _print_view(args, view)
    return 0


def cmd_results(args) -> int:
    import incident.results as results
    from incident.core import standards
    from incident.core.store.engine import session_scope

    wc = standards.check_class(args.water_class)
    with session_scope(engine_from(args)) as s:
        if args.all:
            rows = [
                _view_row(v)
                for v in results.result_records(s, args.incident, water_class=wc, include_superseded=True)
            ]
            emit(
                args,
                rows,
                ["id", "sample", "parameter", "result", "verdict", "multiple", "status", "qc", "corrects"],
            )
            return 0
        if args.point:
            series = results.point_series(s, args.incident, args.point, args.param, water_class=wc)
            rows = [
                {"sampled_at": t, "hours": round(h, 2), "mg_l": c, "detected": d, "status": st}
                for t, h, c, d, st in zip(
                    series.times,
                    series.hours,
                    series.values_mg_l,
                    series.detected,
                    series.statuses,
                    strict=True,
                )
            ]
            if args.json:
                as_json(
                    {
                        "point": series.point,
                        "parameter": series.parameter,
                        "limit_mg_l": series.limit_mg_l,
                        "results": rows,
                    }
                )
            else:
                print(f"{series.point} · {series.parameter} (limit {series.limit_mg_l:g} mg/L, class {wc})")
                table(rows)
            return 0
        rt = results.round_table(s, args.incident, args.round, water_class=wc)
    if args.json:
        as_json(
            {
                "round": rt.round,
                "rounds": rt.rounds,
                "class": rt.water_class,
                "points": rt.points,
                "parameters": rt.parameters,
                "cells": [
                    {
                        "point": pt,
                        "parameter": p,
                        "text": c.text,
                        "exceeds": c.exceeds,
                        "suspected": c.suspected,
                        "qc_flag": c.flagged,
                        "multiple": c.multiple,
                        "result_ids": c.result_ids,
                        "results": [_view_row(v) for v in c.records],
                    }
                    for (pt, p), c in rt.cells.items()
                ],
            }
        )
        return 0
    if rt.round is None:
        print("no results yet")
        return 0
    print(
        f"round {rt.round} (rounds with results: {', '.join(map(str, rt.rounds))}) · GB 3838-2002 class {wc}"
    )
    rows = rt.rows()
    table(rows, ["point", *rt.parameters])
    print(
        "(n.n×) exceedance multiple · ? suspected rapid result · ✗ not confirmed · +n more results · ! QC or plausibility flag"
    )
    return 0


def cmd_custody(args) -> int:
    import incident.results as custody
    from incident.core.store.engine import session_scope
    from incident.results import get_sample

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        if args.from_person is None and args.to_person is None:
            sample = get_sample(s, args.sample, where="SAMPLE")
            steps = custody.chain(s, sample)
            who, since = custody.holder(s, sample)
        else:
            if not args.from_person or not args.to_person:
                raise UserError("errors.cli.hand_off_needs_both", where="--from/--to")
            steps = custody.hand_off(
                s,
                args.sample,
                from_person=args.from_person,
                to_person=args.to_person,
                actor=settings.user,
                at=_time(args.at, "--at"),
                condition=args.condition,
                note=args.note,
            )
            who, since = steps[-1].to_person, steps[-1].at
    rows = [s_.__dict__ for s_ in steps]
    if args.json:
        as_json({"sample": args.sample, "held_by": who, "since": since, "transfers": rows})
        return 0
    table(rows, ["at", "from_person", "to_person", "condition", "note"])
    from incident.core.clock import fmt_local

    print(f"held by {who} since {fmt_local(since)}")
    return 0


def cmd_import_results(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.results import import_results, load_mapping

    settings = settings_from(args)
    mapping = load_mapping(args.mapping, args.col)
    progress = Progress("import")  # a file of the substance takes ~10 ms a row: seconds for 1,000
    with session_scope(engine_from(args)) as s:
        rep = import_results(
            s,
            args.incident,
            args.file,
            actor=settings.user,
            mapping=mapping,
            encoding=args.encoding,
            dry_run=args.dry_run,
            progress=progress,
        )
    progress.done()
    if args.json:
        as_json(rep.__dict__)
        return 0
    verb = "would import" if rep.dry_run else "imported"
    print(
        f"{Path(rep.file).name} (read as {rep.encoding}): {verb} {rep.results} results from {rep.rows} rows, "
        f"{rep.samples_created} new samples"
    )
    table([{"parameter": k, "results": v} for k, v in sorted(rep.by_parameter.items())])
    if rep.dry_run:
        print("dry run: nothing was imported")
    return 0


def cmd_terminate_check(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.results import check_termination

    settings = settings_from(args)
    limits = {}
    for item in args.limit:
        key, _, value = item.partition("=")
        from incident.results import parse_number

        limits[key.strip()] = parse_number(value, f"--limit {key.strip()}")
    with session_scope(engine_from(args)) as s:
        check = check_termination(
            s,
            args.incident,
            parameters=args.param,
            water_class=args.water_class,
            limits=limits,
            required_hours=args.hours,
            max_gap_h=args.max_gap_h,
            actor=settings.user,
            lang=settings.lang,
        )
    markdown = check.markdown
    if check.is_exercise and not markdown.startswith("EXERCISE"):
        markdown = f"EXERCISE — {check.code} — not a real incident\n\n" + markdown
    out = None
    if args.out:
        from incident.core.files import atomic_write
        from incident.core.incidents import exercise_path

        out = exercise_path(args.out, check.is_exercise)
        atomic_write(out, markdown, what="proposal")
    if args.json:
        as_json(
            {
                "code": check.code,
                "exercise": check.is_exercise,
                "proposable": check.proposable,
                "rule": check.rule,
                "parameters": check.parameters,
                "points": [e.__dict__ for e in check.points],
                "markdown": markdown,
            }
        )
    else:
        print(markdown)
        if out:
            print(f"proposal written to {out}")
    return 0 if check.proposable else 1


def cmd_standards(args) -> int:
    from incident.core import standards

    if args.methods:
        rows = [
            {"key": m.key, "kind": m.kind, "principle": m.principle, "name": m.name}
            for m in standards.methods().values()
        ]
        emit(args, rows, ["key", "kind", "principle", "name"])
        return 0
    wc = standards.check_class(args.water_class) if args.water_class else None
    rows = standards.standards_rows(wc)
    cols = (
        ["key", "name_zh", "table", "limit_mg_l", "source"]
        if wc
        else ["key", "name_zh", "table", *standards.CLASSES]
    )
    emit(args, rows, cols)
    if not args.json:
        print(
            "GB 3838-2002, mg/L. Tables 2–3: centralised drinking-water sources, one limit for all classes."
        )
        unsure = [r["key"] for r in rows if r["verify"]]
        if unsure:
            print(f"check against the printed standard: {', '.join(unsure)}")
    return 0


def cmd_qc(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.results import qc_summary

    with session_scope(engine_from(args)) as s:
        summary = qc_summary(s, args.incident)
    if args.json:
        as_json(summary)
        return 0
    print("Parallel samples (RPD = |a − b| / mean × 100)")
    table(summary["parallels"], ["parameter", "sample", "parallel", "a", "b", "rpd_pct", "limit_pct", "ok"])
    print("\nField blanks")
    table(summary["blanks"], ["sample", "parameter", "result", "ok"])
    print("\nFlagged results")
    table(summary["flagged"], ["id", "sample", "parameter", "flags"])
    return 1 if summary["flagged"] else 0
