"""`incident playbook ...` and `incident step ...`: playbooks and their runs, headless.

incident playbook list
incident playbook show river_chemical_spill
incident playbook validate my_playbook.toml
incident playbook start INC-2026-0001 [PLAYBOOK]
incident step status INC-2026-0001
incident step done INC-2026-0001 field_survey --form surveyor="Li Wei" --check sketch
incident step skip INC-2026-0001 mobilise --reason "crew already on site"
incident step undo INC-2026-0001
"""

from __future__ import annotations

import sys

from incident.cli.shell import add_json, as_json, emit, engine_from, settings_from, table


def register(sub) -> None:
    p = sub.add_parser("playbook", help="playbooks: list, show, validate, start one for an incident")
    psub = p.add_subparsers(dest="playbook_command", metavar="ACTION", required=True)
    c = psub.add_parser("list", help="the shipped playbooks")
    add_json(c)
    c.set_defaults(handler=cmd_list)
    c = psub.add_parser("show", help="phases and steps of a playbook (id or .toml file)")
    c.add_argument("playbook", help="playbook id (e.g. river_chemical_spill) or a .toml file")
    add_json(c)
    c.set_defaults(handler=cmd_show)
    c = psub.add_parser(
        "validate",
        help="check playbook files and name every problem by file:line and field (default: the shipped ones)",
    )
    c.add_argument(
        "files", nargs="*", metavar="FILE", help="playbook .toml files (default: the shipped ones)"
    )
    c.set_defaults(handler=cmd_validate)
    c = psub.add_parser("start", help="start a playbook for an incident (default: the one suggested for it)")
    c.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    c.add_argument("playbook", nargs="?", help="playbook id or .toml file")
    add_json(c)
    c.set_defaults(handler=cmd_start)

    s = sub.add_parser("step", help="drive an incident's playbook run: status, done, skip, undo, form, run")
    ssub = s.add_subparsers(dest="step_command", metavar="ACTION", required=True)
    c = ssub.add_parser("status", help="where the run is: every step, its status and deadline")
    c.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    add_json(c)
    c.set_defaults(handler=cmd_status)
    c = ssub.add_parser("done", help="complete the current step")
    c.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    c.add_argument("step", help="id of the current step (a safety check), e.g. field_survey")
    c.add_argument("--form", action="append", default=[], metavar="FIELD=VALUE", help="form answer (repeat)")
    c.add_argument(
        "--check", action="append", default=[], metavar="ITEM", help="tick a checklist item (repeat)"
    )
    add_json(c)
    c.set_defaults(handler=cmd_done)
    c = ssub.add_parser("skip", help="skip the current step, with a reason")
    c.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    c.add_argument("step", help="id of the current step (a safety check)")
    c.add_argument("--reason", required=True, help="why the step is skipped (logged)")
    add_json(c)
    c.set_defaults(handler=cmd_skip)
    c = ssub.add_parser("undo", help="reopen the last finished step")
    c.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    c.add_argument("step", nargs="?", help="the last finished step (a safety check; optional)")
    add_json(c)
    c.set_defaults(handler=cmd_undo)
    c = ssub.add_parser("form", help="save form answers of the current step without completing it")
    c.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    c.add_argument("step", help="id of the current step (a safety check)")
    c.add_argument(
        "answers", nargs="+", metavar="FIELD=VALUE", help='form answers, e.g. location="Qiaotou bridge"'
    )
    add_json(c)
    c.set_defaults(handler=cmd_form)
    c = ssub.add_parser("run", help="run the current step's action (forecast, plan, report...)")
    c.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    c.add_argument("step", help="id of the current step (a safety check)")
    add_json(c)
    c.set_defaults(handler=cmd_run)


# ---------------------------------------------------------------- playbooks


def cmd_list(args) -> int:
    from incident.playbook import list_playbooks

    settings_from(args)
    rows = [
        {
            "id": pb.id,
            "title": str(pb.title),
            "steps": len(pb.steps),
            "applies_to": ", ".join(pb.applies_to) or "—",
            "file": pb.source.rsplit("/", 1)[-1],
        }
        for pb in list_playbooks()
    ]
    emit(args, rows, ["id", "steps", "applies_to", "title"])
    return 0


def _step_rows(pb) -> list[dict]:
    from incident.playbook import action_label

    rows = []
    for n, step in enumerate(pb.steps, start=1):
        role = pb.role(step.role)
        flow = step.next or "(end)"
        for b in step.branches:
            cond = " and ".join(f"{k}={'|'.join(map(str, v))}" for k, v in b.when)
            flow += f"; if {cond}: {b.goto}"
        rows.append(
            {
                "n": n,
                "phase": str(pb.phase(step.phase).title),
                "id": step.id,
                "title": str(step.title),
                "deadline": step.deadline,
                "role": str(role.title) if role else None,
                "action": action_label(step.action.name) if step.action else None,
                "action_name": step.action.name if step.action else None,
                "checklist": len(step.checklist),
                "form": len(step.form),
                "then": flow,
            }
        )
    return rows


def cmd_show(args) -> int:
    from incident.playbook import find_playbook

    settings_from(args)
    pb = find_playbook(args.playbook)
    rows = _step_rows(pb)
    if getattr(args, "json", False):
        as_json(
            {"id": pb.id, "version": pb.version, "title": str(pb.title), "start": pb.start, "steps": rows}
        )
        return 0
    print(f"{pb.id} (v{pb.version}): {pb.title}")
    if str(pb.description):
        print(str(pb.description))
    print()
    table(rows, ["n", "phase", "id", "deadline", "action_name", "then"])
    return 0


def cmd_validate(args) -> int:
    from incident.core.errors import UserError
    from incident.playbook import load_playbook_file, shipped_files

    settings_from(args)
    files = args.files or [str(p) for p in shipped_files()]
    failed = 0
    for path in files:
        try:
            pb = load_playbook_file(path)
        except UserError as exc:
            failed += 1
            print(f"incident: {exc.render()}", file=sys.stderr)
            continue
        print(f"{path}: OK — {pb.id}, {len(pb.phases)} phases, {len(pb.steps)} steps")
    return 2 if failed else 0


def cmd_start(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.playbook import start_run

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        view = start_run(s, args.incident, args.playbook, actor=settings.user)
    return _print_run(args, view, f"started {view.playbook.id} for {view.code}")


# ---------------------------------------------------------------- runs


def _left(minutes: float | None) -> str:
    if minutes is None:
        return ""
    sign = "-" if minutes < 0 else ""
    m = int(abs(minutes))
    return f"{sign}{m // 60}h{m % 60:02d}" if m >= 60 else f"{sign}{m}m"


def run_dict(view) -> dict:
    now = view.now()
    return {
        "code": view.code,
        "playbook": view.playbook.id,
        "playbook_sha256": view.playbook.sha256,
        "current_step": view.current_step,
        "finished_at": view.finished_at,
        "variables": view.variables,
        "history": [h["step"] for h in view.history],
        "steps": [
            {
                "id": sv.id,
                "phase": sv.step.phase,
                "title": str(sv.step.title),
                "status": sv.status,
                "on_path": sv.on_path,
                "due_at": sv.due_at,
                "minutes_left": round(sv.minutes_left(now), 1) if sv.due_at else None,
                "overdue": sv.overdue(now),
                "changed_at": sv.changed_at,
                "changed_by": sv.changed_by,
                "reason": sv.reason,
                "checked": sorted(sv.checked),
                "answers": sv.answers,
                "action": sv.action or None,
            }
            for sv in view.steps
        ],
    }


def _print_run(args, view, headline: str | None = None) -> int:
    data = run_dict(view)
    if getattr(args, "json", False):
        as_json(data)
        return 0
    if headline:
        print(headline)
    now = view.now()
    done, total = view.progress
    where = view.current_step or "finished"
    print(f"{view.code} · {view.playbook.id} · {done}/{total} steps · current: {where}\n")
    rows = []
    for sv in view.steps:
        if not sv.on_path and not sv.finished:
            status = "(other branch)"
        else:
            status = {"active": "CURRENT"}.get(sv.status, sv.status)
        if sv.overdue(now):
            status += " OVERDUE"
        rows.append(
            {
                "status": status,
                "step": sv.id,
                "due": sv.due_at,
                "left": _left(sv.minutes_left(now)) if not sv.finished else "",
                "by": sv.changed_by if sv.finished else None,
                "title": str(sv.step.title),
            }
        )
    table(rows, ["status", "step", "due", "left", "by", "title"])
    return 0


def cmd_status(args) -> int:
    from incident.core.errors import UserError
    from incident.core.store.engine import session_scope
    from incident.playbook import run_view

    settings_from(args)
    with session_scope(engine_from(args)) as s:
        view = run_view(s, args.incident)
    if view is None:
        raise UserError("errors.cli.no_playbook_running", where=args.incident, incident=args.incident)
    return _print_run(args, view)


def _pairs(items: list[str]) -> dict[str, str]:
    from incident.core.errors import UserError

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError("errors.cli.not_field_value", where="--form", item=repr(item))
        out[key.strip()] = value
    return out


def _after(view, verb: str, step: str) -> str:
    nxt = view.current_step
    return f"{verb}: {step} → current: {nxt}" if nxt else f"{verb}: {step} → the playbook is finished"


def cmd_done(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.playbook import complete_step

    settings = settings_from(args)
    answers = _pairs(args.form)
    with session_scope(engine_from(args)) as s:
        view = complete_step(
            s, args.incident, args.step, actor=settings.user, answers=answers, checks=args.check
        )
    return _print_run(args, view, _after(view, "done", args.step))


def cmd_skip(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.playbook import skip_step

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        view = skip_step(s, args.incident, args.step, args.reason, actor=settings.user)
    return _print_run(args, view, _after(view, "skipped", args.step))


def cmd_undo(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.playbook import undo_step

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        view = undo_step(s, args.incident, args.step, actor=settings.user)
    return _print_run(args, view, f"reopened: {view.current_step}")


def cmd_form(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.playbook import save_form

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        view = save_form(s, args.incident, args.step, _pairs(args.answers), actor=settings.user)
    answers = view.step(args.step).answers
    emit(args, answers)
    return 0


def cmd_run(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.playbook import run_step_action

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        _view, outcome = run_step_action(s, args.incident, args.step, actor=settings.user)
    emit(args, {"summary": outcome.summary, **{f"data.{k}": v for k, v in outcome.data.items()}})
    return 0
