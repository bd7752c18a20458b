"""`incident photo` and `incident survey`: photos kept as evidence, the HJ 589 Appendix A field-survey record."""

from __future__ import annotations

from incident.cli.shell import add_json, as_json, engine_from, settings_from, table


def register(sub) -> None:
    from incident.reports import SURVEY_ENTERED_FIELDS

    p = sub.add_parser("photo", help="photos kept with an incident (hash in the log, shown in reports)")
    psub = p.add_subparsers(dest="photo_command", metavar="ACTION", required=True)
    add = psub.add_parser("add", help="attach a photo: copied into the data folder, its SHA-256 logged")
    add.add_argument("code", help="incident code, e.g. INC-2026-0001")
    add.add_argument("file", help="the photo (JPEG, PNG, GIF, WebP, TIFF or HEIC, at most 25 MB)")
    add.add_argument("--caption", default="", help="what the photo shows, e.g. 'outfall, left bank'")
    add.add_argument("--point", help="the sampling point it was taken at, e.g. S2")
    add.add_argument("--taken-at", dest="taken_at", help="when it was taken (local time, YYYY-MM-DD HH:MM)")
    add_json(add)
    add.set_defaults(handler=cmd_photo_add)
    ls = psub.add_parser("list", help="the incident's photos with their SHA-256")
    ls.add_argument("code", help="incident code")
    add_json(ls)
    ls.set_defaults(handler=cmd_photo_list)

    p = sub.add_parser("survey", help="the HJ 589 Appendix A field-survey record")
    ssub = p.add_subparsers(dest="survey_command", metavar="ACTION", required=True)
    st = ssub.add_parser("set", help='enter fields of the survey record ("" clears one)')
    st.add_argument("code", help="incident code")
    for name in SURVEY_ENTERED_FIELDS:
        st.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            metavar="TEXT",
            help=f"Appendix A: {name.replace('_', ' ')}",
        )
    add_json(st)
    st.set_defaults(handler=cmd_survey_set)
    sh = ssub.add_parser("show", help="the survey record: entered fields, then what the incident fills")
    sh.add_argument("code", help="incident code")
    add_json(sh)
    sh.set_defaults(handler=cmd_survey_show)


def cmd_photo_add(args) -> int:
    from incident.core.clock import parse_local
    from incident.core.store.engine import session_scope
    from incident.reports import add_photo

    settings = settings_from(args)
    taken = parse_local(args.taken_at, where="--taken-at") if args.taken_at else None
    with session_scope(engine_from(args)) as s:
        photo = add_photo(
            s,
            args.code,
            args.file,
            actor=settings.user,
            caption=args.caption,
            point=args.point,
            taken_at=taken,
        )
    if args.json:
        as_json(photo.as_dict())
    else:
        print(f"photo #{photo.number} kept as {photo.path} (SHA-256 {photo.sha256}, logged)")
    return 0


def cmd_photo_list(args) -> int:
    from incident.core.clock import fmt_local
    from incident.core.store.engine import session_scope
    from incident.reports import list_photos

    with session_scope(engine_from(args)) as s:
        photos = list_photos(s, args.code)
    if args.json:
        as_json([p.as_dict() for p in photos])
        return 0
    rows = [
        {
            "#": p.number,
            "caption": p.caption or p.original_name,
            "point": p.point or "—",
            "taken": fmt_local(p.taken_at) if p.taken_at else "—",
            "sha256": p.sha256[:16] + "…",
            "by": p.added_by,
        }
        for p in photos
    ]
    table(rows)
    return 0


def _print_survey(survey, lang: str) -> None:
    from incident.core.i18n import t

    print(t("survey.title", lang=lang) + f" — {survey.code}" + (" — EXERCISE" if survey.is_exercise else ""))
    width = max(len(f.label(lang)) for f in survey.fields)
    for f in survey.fields:
        src = {"entered": "", "incident": f"  [{t('survey.source_incident', lang=lang)}]"}.get(f.source, "")
        print(f"  {f.label(lang):<{width}}  {f.value or '—'}{src}")
    if survey.revision:
        print(
            t("survey.revision", lang=lang, n=survey.revision, at=survey.recorded_at, by=survey.recorded_by)
        )
    else:
        print(t("survey.no_revision", lang=lang))


def cmd_survey_set(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.reports import SURVEY_ENTERED_FIELDS, set_survey

    settings = settings_from(args)
    values = {name: getattr(args, name) for name in SURVEY_ENTERED_FIELDS if getattr(args, name) is not None}
    with session_scope(engine_from(args)) as s:
        survey = set_survey(s, args.code, values, actor=settings.user)
    if args.json:
        as_json(survey.as_dict())
    else:
        _print_survey(survey, settings.lang)
    return 0


def cmd_survey_show(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.reports import survey_form

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        survey = survey_form(s, args.code)
    if args.json:
        as_json(survey.as_dict())
    else:
        _print_survey(survey, settings.lang)
    return 0
