"""Reports: draft, list, show, edit, review, release, revise, export (HJ 589-2021 §8, §9.5)."""

from __future__ import annotations

import sys
from pathlib import Path

from incident.cli.shell import add_json, emit, engine_from, settings_from, whole
from incident.core.errors import UserError

TEXT_FIELDS = {
    "conclusions": "your own conclusions (added after the ones drawn from the data)",
    "recommendations": "your own recommendations",
    "lessons": "lessons learned (summary report; required before review)",
    "next_steps": "next steps (flash report)",
    "notes": "extra notes (flash report)",
    "termination": "a termination proposal (monitoring report, HJ 589 §10)",
}


def _add_text_fields(p) -> None:
    for name, help_text in TEXT_FIELDS.items():
        p.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            metavar="TEXT|@FILE",
            help=f"{help_text}; @FILE reads a file",
        )


def _text_inputs(args) -> dict:
    inputs = {}
    for name in TEXT_FIELDS:
        value = getattr(args, name, None)
        if value is None:
            continue
        if value.startswith("@"):
            path = Path(value[1:])
            try:
                value = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise UserError(
                    "errors.cli.cannot_read_file",
                    where=f"--{name.replace('_', '-')} {value}",
                    strerror=exc.strerror,
                ) from exc
            except UnicodeDecodeError as exc:
                raise UserError("errors.cli.file_not_utf_text", where=str(path)) from exc
        inputs[name] = value
    return inputs


def register(sub) -> None:
    p = sub.add_parser("report", help="monitoring, summary and flash reports: draft, review, release, export")
    rsub = p.add_subparsers(dest="report_command", metavar="ACTION", required=True)

    d = rsub.add_parser("draft", help="draft a report from the incident's current records")
    d.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    d.add_argument(
        "--kind",
        required=True,
        choices=["flash", "monitoring", "summary"],
        help="flash (快报), monitoring (应急监测报告) or summary (总结报告)",
    )
    d.add_argument(
        "--lang", dest="report_lang", choices=["en", "zh"], help="report language (default: yours)"
    )
    d.add_argument("-o", "--output", metavar="FILE", help="also write the draft to FILE (.html or .md)")
    _add_text_fields(d)
    add_json(d)
    d.set_defaults(handler=cmd_draft)

    ls = rsub.add_parser("list", help="list the incident's reports with state and version")
    ls.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    add_json(ls)
    ls.set_defaults(handler=cmd_list)

    sh = rsub.add_parser("show", help="print a report's Markdown")
    sh.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    sh.add_argument(
        "report_id", type=whole(), metavar="REPORT_ID", help="report id, as in `incident report list`"
    )
    sh.set_defaults(handler=cmd_show)

    e = rsub.add_parser("edit", help="change the author's text and re-render from the current records")
    e.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    e.add_argument(
        "report_id", type=whole(), metavar="REPORT_ID", help="report id, as in `incident report list`"
    )
    _add_text_fields(e)
    add_json(e)
    e.set_defaults(handler=cmd_edit)

    r = rsub.add_parser("review", help="record the review (the reviewer must not be the author)")
    r.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    r.add_argument(
        "report_id", type=whole(), metavar="REPORT_ID", help="report id, as in `incident report list`"
    )
    r.add_argument("--by", required=True, metavar="NAME", help="the reviewer's name")
    add_json(r)
    r.set_defaults(handler=cmd_review)

    rl = rsub.add_parser("release", help="release a reviewed report (irreversible: fixes its SHA-256)")
    rl.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    rl.add_argument(
        "report_id", type=whole(), metavar="REPORT_ID", help="report id, as in `incident report list`"
    )
    rl.add_argument("--by", required=True, metavar="NAME", help="the name of the person approving release")
    rl.add_argument("--yes", action="store_true", help="do not ask for confirmation on a terminal")
    add_json(rl)
    rl.set_defaults(handler=cmd_release)

    rv = rsub.add_parser("revise", help="start the next version of a released report (as a draft)")
    rv.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    rv.add_argument(
        "report_id", type=whole(), metavar="REPORT_ID", help="report id, as in `incident report list`"
    )
    _add_text_fields(rv)
    add_json(rv)
    rv.set_defaults(handler=cmd_revise)

    x = rsub.add_parser(
        "export", help="write a report to an .html or .md file (released reports byte for byte)"
    )
    x.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    x.add_argument(
        "report_id", type=whole(), metavar="REPORT_ID", help="report id, as in `incident report list`"
    )
    x.add_argument("-o", "--output", required=True, metavar="FILE", help="file to write, ending .html or .md")
    x.set_defaults(handler=cmd_export)


def _row(info) -> dict:
    return {
        "id": info.id,
        "kind": info.kind,
        "number": info.number,
        "version": info.version,
        "lang": info.lang,
        "state": info.state,
        "title": info.title,
        "created_by": info.created_by,
        "created_at": info.created_at,
        "reviewed_by": info.reviewed_by,
        "released_by": info.released_by,
        "released_at": info.released_at,
        "content_sha256": info.content_sha256,
        "supersedes_id": info.supersedes_id,
    }


def cmd_draft(args) -> int:
    import incident.reports as reports
    from incident.core.store.engine import session_scope

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        info = reports.draft_report(
            s,
            args.incident,
            args.kind,
            actor=settings.user,
            lang=args.report_lang or settings.lang,
            inputs=_text_inputs(args),
        )
        written = None
        if args.output:
            from incident.core.incidents import exercise_path, get_incident

            content = reports.get_report(s, args.incident, info.id)
            text = reports.export_text(content, args.output)
            # an exercise's draft says so in its file name too (its first line already does)
            written = exercise_path(args.output, get_incident(s, args.incident).is_exercise)
            reports.write_text(written, text)
        row = _row(info)
    emit(args, row)
    if written is not None and not args.json:
        print(f"written: {written}", file=sys.stderr)
    return 0


def cmd_list(args) -> int:
    import incident.reports as reports
    from incident.core.store.engine import session_scope

    with session_scope(engine_from(args)) as s:
        rows = [_row(i) for i in reports.list_reports(s, args.incident)]
    emit(
        args, rows, ["id", "kind", "number", "version", "state", "lang", "created_by", "released_at", "title"]
    )
    return 0


def cmd_show(args) -> int:
    import incident.reports as reports
    from incident.core.store.engine import session_scope
    from incident.reports import preview_markdown

    with session_scope(engine_from(args)) as s:
        content = reports.get_report(s, args.incident, args.report_id)
    print(preview_markdown(content.markdown), end="")
    return 0


def cmd_edit(args) -> int:
    import incident.reports as reports
    from incident.core.store.engine import session_scope

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        info = reports.edit_report(
            s, args.incident, args.report_id, actor=settings.user, inputs=_text_inputs(args)
        )
        row = _row(info)
    emit(args, row)
    return 0


def cmd_review(args) -> int:
    import incident.reports as reports
    from incident.core.store.engine import session_scope

    with session_scope(engine_from(args)) as s:
        row = _row(reports.review_report(s, args.incident, args.report_id, reviewer=args.by))
    emit(args, row)
    return 0


def cmd_release(args) -> int:
    import incident.reports as reports
    from incident.core.store.engine import session_scope

    if not args.yes and sys.stdin.isatty():
        # the question goes to stderr: stdout is held until the release has committed
        print(
            f"Release report #{args.report_id} of {args.incident}? It can never be changed afterwards. [y/N] ",
            end="",
            file=sys.stderr,
            flush=True,
        )
        answer = sys.stdin.readline()
        if answer.strip().lower() not in ("y", "yes"):
            print("not released", file=sys.stderr)
            return 1
    with session_scope(engine_from(args)) as s:
        row = _row(reports.release_report(s, args.incident, args.report_id, by=args.by))
    emit(args, row)
    return 0


def cmd_revise(args) -> int:
    import incident.reports as reports
    from incident.core.store.engine import session_scope

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        info = reports.new_version(
            s, args.incident, args.report_id, actor=settings.user, inputs=_text_inputs(args)
        )
        row = _row(info)
    emit(args, row)
    return 0


def cmd_export(args) -> int:
    import incident.reports as reports
    from incident.core.store.engine import session_scope

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        path = reports.export_report(s, args.incident, args.report_id, args.output, actor=settings.user)
    print(f"written: {path}")
    return 0


# ---------------------------------------------------------------- `incident log export` (ICS 214)


def add_log_export_arguments(p) -> None:
    """Options of `incident log export CODE` (the `log` parser lives in cli/core/commands.py)."""
    p.add_argument("export_incident", nargs="?", metavar="CODE", help="with `export`: the incident code")
    p.add_argument(
        "--format",
        dest="log_format",
        choices=["ics214-md", "ics214-html", "csv"],
        help="with `export`: the form's format (default: from the file name)",
    )
    p.add_argument(
        "-o", "--output", dest="log_output", metavar="FILE", help="with `export`: the file to write"
    )
    p.add_argument("--position", default="", help="with `export`: your ICS position (block 4)")
    p.add_argument("--agency", default="", help="with `export`: your home agency (block 5)")
    p.add_argument(
        "--form-lang", dest="report_lang", choices=["en", "zh"], help="with `export`: form language"
    )


def cmd_log_export(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.reports import export_ics214

    settings = settings_from(args)
    if not args.export_incident:
        raise UserError("errors.cli.which_incident", where="incident log export")
    if not args.log_output:
        raise UserError("errors.cli.no_output_file", where="-o")
    with session_scope(engine_from(args)) as s:
        form = export_ics214(
            s,
            args.export_incident,
            args.log_output,
            actor=settings.user,
            fmt=args.log_format,
            lang=args.report_lang or settings.lang,
            position=args.position,
            home_agency=args.agency,
        )
    print(f"written: {form.written_to or args.log_output} ({len(form.rows)} entries, chain head {form.head})")
    if not form.on_roster:
        print(
            f"incident: note: block 3 names {settings.user!r}, who is not on the roster; "
            'name yourself with --user "NAME" (or INCIDENT_USER) so the form names the person',
            file=sys.stderr,
        )
    return 0 if form.verified else 1
