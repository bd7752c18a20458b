"""Readiness commands for equipment managers: roll-up, due dates, records, check-out, CSV."""

from __future__ import annotations

import sys
from dataclasses import asdict

from incident.cli.shell import add_json, as_json, emit, engine_from, fmt, number, settings_from, table, whole


def register(sub) -> None:
    p = sub.add_parser(
        "readiness",
        help="can the centre field N teams now? kits, teams and stock (exit 1 when it cannot: for cron)",
    )
    p.add_argument(
        "--teams",
        type=whole(),
        metavar="N",
        help="teams needed (default: teams_required in readiness.toml, 2)",
    )
    p.add_argument("--on", metavar="DATE", help="check as of this day, YYYY-MM-DD (default: today)")
    add_json(p)
    p.set_defaults(handler=cmd_readiness)

    p = sub.add_parser(
        "due", help="calibrations, inspections, expiries and certificates falling due, by week"
    )
    p.add_argument(
        "--weeks",
        type=whole(),
        default=8,
        help="how far ahead (default 8 weeks); overdue items are always listed",
    )
    p.add_argument("--on", metavar="DATE", help="from this day, YYYY-MM-DD (default: today)")
    add_json(p)
    p.set_defaults(handler=cmd_due)

    p = sub.add_parser("inventory", help="inventory as CSV: export, import (all rows or none)")
    isub = p.add_subparsers(dest="inventory_command", metavar="ACTION", required=True)
    e = isub.add_parser(
        "export", help="write equipment, calibration schedules and consumable lots to a CSV file"
    )
    e.add_argument("file", metavar="FILE.csv", help="CSV file to write (UTF-8 with BOM)")
    e.set_defaults(handler=cmd_inventory_export)
    i = isub.add_parser(
        "import", help="add/update from a CSV file (columns as in export); a bad row imports nothing"
    )
    i.add_argument("file", metavar="FILE.csv", help="CSV file in the export's format")
    i.add_argument("--dry-run", action="store_true", help="check and count, change nothing")
    i.set_defaults(handler=cmd_inventory_import)

    p = sub.add_parser(
        "equipment", help="one item: detail with calibration, maintenance and check-out history"
    )
    esub = p.add_subparsers(dest="equipment_command", metavar="ACTION", required=True)
    s = esub.add_parser("show", help="show one item by asset tag")
    s.add_argument("tag", metavar="TAG", help="asset tag, e.g. INS-HM-01")
    s.add_argument("--on", metavar="DATE", help="judge readiness as of this day (default: today)")
    s.add_argument(
        "--exercises",
        action="store_true",
        help="include check-outs for drills in the history (left out by default)",
    )
    add_json(s)
    s.set_defaults(handler=cmd_equipment_show)

    p = sub.add_parser(
        "calibrate", help="record a calibration (a pass moves the schedule on; --failed stops the item)"
    )
    p.add_argument("tag", metavar="TAG", help="asset tag, e.g. INS-HM-01")
    p.add_argument(
        "--schedule",
        required=True,
        metavar="NAME",
        help="calibration schedule name, e.g. 'pH/DO/conductivity'",
    )
    p.add_argument("--on", required=True, metavar="DATE", help="day it was done, YYYY-MM-DD")
    p.add_argument("--by", required=True, metavar="NAME", help="who did it (person or lab)")
    p.add_argument("--failed", action="store_true", help="the calibration failed")
    p.add_argument("--certificate", default="", help="certificate number")
    p.add_argument("--notes", default="", help="free text kept with the record")
    add_json(p)
    p.set_defaults(handler=cmd_calibrate)

    p = sub.add_parser("maintain", help="record maintenance, and the item's condition after it")
    p.add_argument("tag", metavar="TAG", help="asset tag, e.g. INS-HM-01")
    p.add_argument("--on", required=True, metavar="DATE", help="day it was done, YYYY-MM-DD")
    p.add_argument("--by", required=True, metavar="NAME", help="who did it")
    p.add_argument(
        "--kind",
        default="service",
        choices=["service", "repair", "inspection"],
        help="kind of work (default service)",
    )
    p.add_argument(
        "--condition", choices=["working", "degraded", "broken", "lost"], help="condition after the work"
    )
    p.add_argument("--in-service", choices=["yes", "no"], help="put the item back in service, or take it out")
    p.add_argument("--notes", default="", help="free text kept with the record")
    add_json(p)
    p.set_defaults(handler=cmd_maintain)

    p = sub.add_parser(
        "stock",
        help="record a stock movement (without --delta: list the stock); taking without --lot uses earliest expiry first",
    )
    p.add_argument("item", nargs="?", metavar="ITEM", help="consumable name, e.g. 'cadmium test strips'")
    p.add_argument(
        "--lot", metavar="L", help="lot number, e.g. CD-2406 (default when taking: earliest expiry first)"
    )
    p.add_argument(
        "--delta", type=number(), metavar="±N", help="quantity added (positive) or taken (negative)"
    )
    p.add_argument("--reason", metavar="TEXT", help="why (required with --delta)")
    p.add_argument("--expires", metavar="DATE", help="expiry of a new lot, YYYY-MM-DD")
    p.add_argument("--unit", help="unit of a new item's lot (default: the item's unit)")
    add_json(p)
    p.set_defaults(handler=cmd_stock)

    p = sub.add_parser("checkout", help="check a kit or an instrument out to a crew")
    p.add_argument("target", metavar="TAG|KIT", help="asset tag or kit name, e.g. KIT-HM-1")
    p.add_argument("--crew", required=True, metavar="NAME", help='crew name, e.g. "Crew A"')
    p.add_argument("--incident", metavar="CODE", help="the incident it goes to (logged on that incident too)")
    p.add_argument(
        "--override", metavar="REASON", help="take it although it is not ready; the reason is logged"
    )
    add_json(p)
    p.set_defaults(handler=cmd_checkout)

    p = sub.add_parser(
        "checkin", help="check a kit or an instrument back in (without TAG|KIT: list what is out)"
    )
    p.add_argument(
        "target", nargs="?", metavar="TAG|KIT", help="asset tag or kit name (default: list what is out)"
    )
    p.add_argument(
        "--condition", choices=["working", "degraded", "broken", "lost"], help="condition found on return"
    )
    p.add_argument("--notes", default="", help="free text kept with the record")
    add_json(p)
    p.set_defaults(handler=cmd_checkin)


def _on(args):
    from incident.readiness import parse_day_arg

    return parse_day_arg(args.on, where="--on") if getattr(args, "on", None) else None


def _scope(args):
    from incident.core.store.engine import session_scope

    return session_scope(engine_from(args))


# ---------------------------------------------------------------- readiness


def _state_word(state: str) -> str:
    from incident.core.i18n import t

    return t(f"readiness.state.{state}")


def cmd_readiness(args) -> int:
    from incident.core.i18n import t
    from incident.readiness import rollup

    settings_from(args)
    with _scope(args) as s:
        r = rollup(s, on=_on(args), teams=args.teams)
    if args.json:
        as_json(r.to_dict())
        return 0 if r.can_field else 1
    verdict = "can_field" if r.can_field else "cannot_field"
    print(t(f"readiness.{verdict}", n=r.teams_required, ready=r.teams_ready).upper() + f"   ({r.on})")
    if r.teams_deployed or r.kits_out:
        print(t("readiness.deployed", teams=r.teams_deployed, kits=r.kits_out))
    print()
    print(t("readiness.teams"))
    table(
        [
            {
                "crew": x.crew,
                "state": _state_word(x.state) + (" ✓" if x.counted else ""),
                "kit": x.kit,
                "vehicle": x.vehicle,
                "leader": x.leader,
            }
            for x in r.teams
        ],
        headers=[
            t("readiness.col.crew"),
            t("readiness.col.state"),
            t("readiness.col.kit"),
            t("readiness.col.vehicle"),
            t("readiness.col.leader"),
        ],
    )
    _reasons([(x.crew, x.blocking, x.warnings) for x in r.teams])
    print()
    print(t("readiness.kits"))
    table(
        [
            {
                "kit": k.name,
                "state": _state_word(k.state),
                "template": k.template,
                "out": k.checked_out_to,
                "location": k.location,
            }
            for k in r.kits
        ],
        headers=[
            t("readiness.col.kit"),
            t("readiness.col.state"),
            t("readiness.col.template"),
            t("readiness.col.out_to"),
            t("readiness.col.location"),
        ],
    )
    _reasons([(k.name, k.blocking, k.warnings) for k in r.kits])
    attention = [i for i in r.items if i.state != "ready" and i.kit is None]
    if attention:
        print()
        print(t("readiness.loose_items"))
        _reasons([("", i.blocking, i.warnings) for i in attention])
    print()
    print(t("readiness.stock"))
    lines = []
    for st in r.stock:
        for lot in st.lots:
            flag = ""
            if lot.state == "expired" and lot.quantity:
                flag = t("readiness.lot.expired")
            elif lot.state == "expiring":
                flag = t("readiness.lot.expiring", days=lot.days)
            lines.append(
                {
                    "item": st.item,
                    "lot": lot.lot,
                    "qty": lot.quantity,
                    "unit": st.unit,
                    "expires": lot.expires_on,
                    "flag": flag,
                }
            )
        if st.restock:
            lines.append(
                {
                    "item": st.item,
                    "lot": "Σ",
                    "qty": st.usable,
                    "unit": st.unit,
                    "expires": None,
                    "flag": t("readiness.restock", minimum=fmt(st.minimum)),
                }
            )
    table(
        lines,
        ["item", "lot", "qty", "unit", "expires", "flag"],
        [
            t("readiness.col.item"),
            t("readiness.col.lot"),
            t("readiness.col.qty"),
            t("readiness.col.unit"),
            t("readiness.col.expires"),
            "",
        ],
    )
    return 0 if r.can_field else 1


def _reasons(groups) -> None:
    """One line per reason: ✗ blocks, ! warns. Item reasons already start with the tag."""
    for name, blocking, warnings in groups:
        prefix = f"{name}: " if name else ""
        for text in blocking:
            print(f"  ✗ {prefix}{text}")
        for text in warnings:
            print(f"  ! {prefix}{text}")


def cmd_due(args) -> int:
    from incident.core.i18n import t
    from incident.readiness import due_items

    settings_from(args)
    with _scope(args) as s:
        items = due_items(s, on=_on(args), weeks=args.weeks)
    rows = [asdict(d) | {"kind": t(f"readiness.due_kind.{d.kind}")} for d in items]
    if args.json:
        as_json([asdict(d) for d in items])
        return 0
    table(
        rows,
        ["week", "due", "days", "kind", "subject", "what"],
        [
            t("readiness.col.week"),
            t("readiness.col.due"),
            t("readiness.col.days"),
            t("readiness.col.kind"),
            t("readiness.col.subject"),
            t("readiness.col.what"),
        ],
    )
    return 0


# ---------------------------------------------------------------- inventory CSV


def cmd_inventory_export(args) -> int:
    from incident.readiness import export_csv

    with _scope(args) as s:
        counts = export_csv(s, args.file)
    print(
        f"wrote {args.file}: {counts['equipment']} equipment, {counts['calibration']} calibration schedules, "
        f"{counts['consumable']} consumable lots"
    )
    return 0


def cmd_inventory_import(args) -> int:
    from incident.readiness import import_csv

    settings = settings_from(args)
    with _scope(args) as s:
        counts = import_csv(s, args.file, actor=settings.user, dry_run=args.dry_run)
    prefix = "checked (dry run, nothing changed)" if args.dry_run else "imported"
    print(
        f"{prefix} {args.file}: {counts['added']} added, {counts['updated']} updated, {counts['unchanged']} unchanged"
    )
    return 0


# ---------------------------------------------------------------- equipment


def cmd_equipment_show(args) -> int:
    from incident.readiness import equipment_detail

    settings_from(args)
    with _scope(args) as s:
        d = equipment_detail(s, args.tag, on=_on(args), include_exercises=args.exercises)
    if args.json:
        as_json(asdict(d))
        return 0
    head = {
        k: getattr(d, k)
        for k in (
            "tag",
            "category",
            "type",
            "model",
            "serial",
            "location",
            "holder",
            "condition",
            "in_service",
            "kit",
            "notes",
        )
    }
    head["state"] = _state_word(d.state)
    emit(args, head)
    _reasons([("", d.blocking, d.warnings)])
    for title, rows in (
        ("calibration schedules", d.schedules),
        ("calibration history", d.calibrations),
        ("maintenance history", d.maintenance),
        ("check-outs", d.checkouts),
    ):
        print(f"\n{title}")
        table(rows)
    return 0


def cmd_calibrate(args) -> int:
    from incident.readiness import parse_day_arg, record_calibration

    settings = settings_from(args)
    with _scope(args) as s:
        out = record_calibration(
            s,
            args.tag,
            schedule=args.schedule,
            done_on=parse_day_arg(args.on, where="--on"),
            by=args.by,
            passed=not args.failed,
            certificate=args.certificate,
            notes=args.notes,
            actor=settings.user,
        )
    emit(args, out)
    return 0


def cmd_maintain(args) -> int:
    from incident.readiness import parse_day_arg, record_maintenance

    settings = settings_from(args)
    with _scope(args) as s:
        out = record_maintenance(
            s,
            args.tag,
            done_on=parse_day_arg(args.on, where="--on"),
            by=args.by,
            kind=args.kind,
            notes=args.notes,
            condition_after=args.condition,
            in_service=None if args.in_service is None else args.in_service == "yes",
            actor=settings.user,
        )
    emit(args, out)
    return 0


def cmd_stock(args) -> int:
    from incident.core.errors import UserError
    from incident.readiness import move_stock, parse_day_arg, rollup

    settings = settings_from(args)
    if args.delta is None:
        if args.reason or args.lot or args.expires:
            raise UserError("errors.cli.no_delta_given", where="--delta")
        with _scope(args) as s:
            r = rollup(s)
        rows = [
            {
                "item": st.item,
                "lot": lot.lot,
                "quantity": lot.quantity,
                "unit": st.unit,
                "expires_on": lot.expires_on,
                "state": lot.state,
                "item_total_in_date": st.usable,
                "minimum": st.minimum,
                "restock": st.restock,
            }
            for st in r.stock
            if args.item in (None, st.item)
            for lot in st.lots
        ]
        if args.item and not rows:
            raise UserError("errors.cli.no_consumable", where="ITEM", item=repr(args.item))
        emit(args, rows, ["item", "lot", "quantity", "unit", "expires_on", "state", "restock"])
        return 0
    if not args.item:
        raise UserError("errors.cli.no_item_given", where="ITEM")
    expires = parse_day_arg(args.expires, where="--expires") if args.expires else None
    with _scope(args) as s:
        out = move_stock(
            s,
            args.item,
            delta=args.delta,
            reason=args.reason or "",
            actor=settings.user,
            lot=args.lot,
            expires_on=expires,
            unit=args.unit,
        )
    emit(args, out)
    return 0


# ---------------------------------------------------------------- check-out


def cmd_checkout(args) -> int:
    from incident.readiness import check_out

    settings = settings_from(args)
    with _scope(args) as s:
        out = check_out(
            s,
            args.target,
            crew=args.crew,
            actor=settings.user,
            incident=args.incident,
            override=args.override,
        )
    if out["override_reason"]:
        print(f"override logged: {out['override_reason']}", file=sys.stderr)
    emit(args, {k: v for k, v in out.items() if k != "problems"} | {"problems": "; ".join(out["problems"])})
    return 0


def cmd_checkin(args) -> int:
    from incident.readiness import check_in, open_checkouts

    settings = settings_from(args)
    with _scope(args) as s:
        if args.target is None:
            rows = open_checkouts(s)
            emit(args, rows, ["target", "crew", "incident", "exercise", "out_at", "out_by", "override"])
            return 0
        out = check_in(s, args.target, actor=settings.user, condition=args.condition, notes=args.notes)
    emit(args, out)
    return 0
