"""The incident's activity log as an ICS 214 form (Markdown, HTML or CSV).

Blocks of the form: 1 incident name, 2 operational period, 3 name, 4 ICS
position, 5 home agency, 6 resources assigned (crew members of the crews
checked in or assigned to the incident), 7 activity log (every entry of the
incident's chain: time and notable activity), 8 prepared by. Every export
carries the chain head (the SHA-256 of the last entry) and the result of
verifying the chain, so a printed copy can be checked against the store.

CSV: UTF-8 with a BOM (opens in Excel with Chinese intact), one row per log
entry, columns ``seq,time_local,time_utc,actor,position,kind,summary,prev_hash,hash``
then the form's blocks (:data:`FORM_COLUMNS`) repeated on every row; the last
row's ``hash`` is the chain head.

Block 3 names the person preparing the form: the acting user (``--user`` /
``INCIDENT_USER``) as on the roster, with position and home unit from it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from incident.core import log
from incident.core.clock import as_utc, fmt_local, utcnow
from incident.core.i18n import bilingual, t
from incident.core.incidents import get_incident
from incident.core.store.tables import Assignment, CheckIn, Crew, CrewMember, Responder
from incident.reports.render import CSS, EXERCISE_MARK, md

FORMATS = ("ics214-md", "ics214-html", "csv")
#: the form's blocks 1–6 and 8, repeated on every CSV row beside the activity (block 7)
FORM_COLUMNS = [
    "incident_name",
    "period_from_local",
    "period_to_local",
    "name",
    "ics_position",
    "home_agency",
    "resources_assigned",
    "prepared_local",
]


@dataclass
class Ics214Row:
    seq: int
    at: datetime
    actor: str
    position: str
    kind: str
    summary: str
    prev_hash: str
    hash: str


@dataclass
class Ics214:
    code: str
    incident_name: str
    incident_name_zh: str | None
    is_exercise: bool
    period_from: datetime
    period_to: datetime
    prepared_by: str
    position: str
    home_agency: str
    prepared_at: datetime
    resources: list[tuple[str, str, str]] = field(default_factory=list)  # name, position, agency
    rows: list[Ics214Row] = field(default_factory=list)
    head: str | None = None
    verified: bool = True
    verify_message: str = ""
    written_to: str = ""  # the file export_ics214 wrote (an exercise's name carries EXERCISE)
    on_roster: bool = False  # block 3's name is a person on the roster (not a shared login)


def build_ics214(
    session: Session, code: str, *, prepared_by: str, position: str = "", home_agency: str = ""
) -> Ics214:
    inc = get_incident(session, code)
    entries = log.entries(session, log.incident_chain(inc.code))
    ok, message = log.verify_chain(entries)
    now = utcnow()
    # block 3 names the person: the acting user as on the roster (with the Chinese name), and
    # blocks 4–5 default to that person's role and home unit
    person = session.exec(select(Responder).where(Responder.name == prepared_by.strip())).first()
    if person is not None:
        position = position or person.role.replace("_", " ")
        home_agency = home_agency or person.home_unit
        if person.name_zh:
            prepared_by = f"{person.name} ({person.name_zh})"
    form = Ics214(
        code=inc.code,
        incident_name=inc.title,
        incident_name_zh=inc.title_zh,
        is_exercise=inc.is_exercise,
        period_from=as_utc(inc.alert_at),
        period_to=max([now] + [as_utc(e.at) for e in entries]),
        prepared_by=prepared_by,
        position=position,
        home_agency=home_agency,
        prepared_at=now,
        rows=[
            Ics214Row(e.seq, as_utc(e.at), e.actor, e.position, e.kind, e.summary, e.prev_hash, e.hash)
            for e in entries
        ],
        head=entries[-1].hash if entries else None,
        verified=ok,
        verify_message=message,
        on_roster=person is not None,
    )
    crew_ids = {a.crew_id for a in session.exec(select(Assignment).where(Assignment.incident_id == inc.id))}
    crew_ids |= {c.crew_id for c in session.exec(select(CheckIn).where(CheckIn.incident_id == inc.id))}
    for crew in sorted((session.get(Crew, cid) for cid in crew_ids), key=lambda c: c.name if c else ""):
        if crew is None:
            continue
        members = session.exec(
            select(Responder)
            .join(CrewMember, col(CrewMember.responder_id) == col(Responder.id))
            .where(CrewMember.crew_id == crew.id)
        )
        for r in members:
            role = "leader" if r.id == crew.leader_id else (r.role or "member")
            form.resources.append((r.name, f"{crew.name} · {role}", r.home_unit))
    return form


def _chain_line(form: Ics214, lang: str) -> str:
    key = "ics214.chain_ok" if form.verified else "ics214.chain_bad"
    return t(key, lang=lang, message=form.verify_message)


def to_markdown(form: Ics214, lang: str = "en") -> str:
    def T(k: str, **p: object) -> str:
        return t(f"ics214.{k}", lang=lang, **p)

    name = bilingual(form.incident_name, form.incident_name_zh, lang=lang)
    out: list[str] = []
    if form.is_exercise:
        out += [f"**{EXERCISE_MARK}**", ""]
    out += [
        f"# {md(T('title'))}",
        "",
        "| | |",
        "|---|---|",
        f"| **{md(T('incident_name'))}** | {md(form.code)} · {md(name)} |",
        f"| **{md(T('period'))}** | {T('from')} {fmt_local(form.period_from)} {T('to')} {fmt_local(form.period_to)} (UTC+8) |",
        f"| **{md(T('name'))}** | {md(form.prepared_by)} |",
        f"| **{md(T('position'))}** | {md(form.position) or '—'} |",
        f"| **{md(T('home_agency'))}** | {md(form.home_agency) or '—'} |",
        "",
        f"## {md(T('resources'))}",
        "",
    ]
    if form.resources:
        out += [f"| {T('h_name')} | {T('h_position')} | {T('h_agency')} |", "|---|---|---|"]
        out += [f"| {md(n)} | {md(p)} | {md(a)} |" for n, p, a in form.resources]
    else:
        out.append(md(T("no_resources")))
    out += ["", f"## {md(T('activity'))}", "", f"| # | {T('h_time')} | {T('h_notable')} |", "|---:|---|---|"]
    for r in form.rows:
        who = f"{r.actor}" + (f" ({r.position})" if r.position else "")
        out.append(f"| {r.seq} | {fmt_local(r.at)} | {md(who)}: {md(r.summary)} \\[{md(r.kind)}\\] |")
    out += [
        "",
        f"## {md(T('prepared_by'))}",
        "",
        f"- {md(T('name'))}: {md(form.prepared_by)}",
        f"- {md(T('position'))}: {md(form.position) or '—'}",
        f"- {md(T('signature'))}: ________________",
        f"- {md(T('datetime'))}: {fmt_local(form.prepared_at)}",
        f"- {md(T('entries'))}: {len(form.rows)}",
        f"- {md(T('chain_head'))}: `{form.head or '—'}`",
        f"- {md(T('chain'))}: {md(_chain_line(form, lang))}",
    ]
    if form.is_exercise:
        out += ["", f"**{EXERCISE_MARK}**"]
    return "\n".join(out) + "\n"


def to_html(form: Ics214, lang: str = "en") -> str:
    from xml.sax.saxutils import escape as h

    def T(k: str, **p: object) -> str:
        return t(f"ics214.{k}", lang=lang, **p)

    name = bilingual(form.incident_name, form.incident_name_zh, lang=lang)
    html_lang = "zh-CN" if lang == "zh" else "en"
    out = [
        "<!DOCTYPE html>",
        f'<html xmlns="http://www.w3.org/1999/xhtml" lang="{html_lang}" xml:lang="{html_lang}">',
        '<head><meta charset="utf-8"/>',
        f"<title>{EXERCISE_MARK + ' — ' if form.is_exercise else ''}{h(T('title'))} — {h(form.code)}</title>",
        f"<style>\n{CSS}\n</style></head>",
        f'<body class="ics214{" exercise" if form.is_exercise else ""}">',
    ]
    if form.is_exercise:
        out.append(f'<div class="exercise-banner exercise-top">{EXERCISE_MARK}</div>')
        out.append(f'<div class="exercise-banner exercise-bottom">{EXERCISE_MARK}</div>')
    out.append(f"<h1>{h(T('title'))}</h1>")
    kv = [
        (T("incident_name"), f"{form.code} · {name}"),
        (
            T("period"),
            f"{T('from')} {fmt_local(form.period_from)} {T('to')} {fmt_local(form.period_to)} (UTC+8)",
        ),
        (T("name"), form.prepared_by),
        (T("position"), form.position or "—"),
        (T("home_agency"), form.home_agency or "—"),
    ]
    out.append(
        '<table class="kv"><tbody>' + "".join(f"<tr><th>{h(k)}</th><td>{h(v)}</td></tr>" for k, v in kv)
    )
    out.append("</tbody></table>")
    out.append(f"<h2>{h(T('resources'))}</h2>")
    if form.resources:
        out.append(
            f"<table><thead><tr><th>{h(T('h_name'))}</th><th>{h(T('h_position'))}</th><th>{h(T('h_agency'))}"
            "</th></tr></thead><tbody>"
            + "".join(f"<tr><td>{h(n)}</td><td>{h(p)}</td><td>{h(a)}</td></tr>" for n, p, a in form.resources)
            + "</tbody></table>"
        )
    else:
        out.append(f"<p>{h(T('no_resources'))}</p>")
    out.append(f"<h2>{h(T('activity'))}</h2>")
    out.append(
        f'<table class="activity"><thead><tr><th>#</th><th>{h(T("h_time"))}</th><th>{h(T("h_notable"))}</th>'
        "</tr></thead><tbody>"
    )
    for r in form.rows:
        who = r.actor + (f" ({r.position})" if r.position else "")
        out.append(
            f'<tr id="entry-{r.seq}"><td class="num">{r.seq}</td><td>{h(fmt_local(r.at))}</td>'
            f"<td>{h(who)}: {h(r.summary)} <small>[{h(r.kind)}]</small></td></tr>"
        )
    out.append("</tbody></table>")
    out.append(f"<h2>{h(T('prepared_by'))}</h2>")
    out.append(
        '<table class="kv"><tbody>'
        f"<tr><th>{h(T('name'))}</th><td>{h(form.prepared_by)}</td></tr>"
        f"<tr><th>{h(T('position'))}</th><td>{h(form.position or '—')}</td></tr>"
        f"<tr><th>{h(T('signature'))}</th><td>________________</td></tr>"
        f"<tr><th>{h(T('datetime'))}</th><td>{h(fmt_local(form.prepared_at))}</td></tr>"
        f"<tr><th>{h(T('entries'))}</th><td>{len(form.rows)}</td></tr>"
        f'<tr><th>{h(T("chain_head"))}</th><td class="chain-head"><code>{h(form.head or "—")}</code></td></tr>'
        f"<tr><th>{h(T('chain'))}</th><td>{h(_chain_line(form, lang))}</td></tr>"
        "</tbody></table>"
    )
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def to_csv(form: Ics214) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    if form.is_exercise:
        writer.writerow([f"{EXERCISE_MARK} — {form.code} — not a real incident"])
    writer.writerow(
        ["seq", "time_local", "time_utc", "actor", "position", "kind", "summary", "prev_hash", "hash"]
        + FORM_COLUMNS
    )
    blocks = [
        f"{form.code} · {form.incident_name}",
        fmt_local(form.period_from),
        fmt_local(form.period_to),
        form.prepared_by,
        form.position,
        form.home_agency,
        "; ".join(f"{n} ({p}, {a})" for n, p, a in form.resources),
        fmt_local(form.prepared_at),
    ]
    for r in form.rows:
        writer.writerow(
            [
                r.seq,
                fmt_local(r.at),
                r.at.isoformat(),
                r.actor,
                r.position,
                r.kind,
                r.summary,
                r.prev_hash,
                r.hash,
                *blocks,
            ]
        )
    return "\ufeff" + buf.getvalue()


def render(form: Ics214, fmt: str, lang: str = "en") -> str:
    if fmt == "ics214-md":
        return to_markdown(form, lang)
    if fmt == "ics214-html":
        return to_html(form, lang)
    if fmt == "csv":
        return to_csv(form)
    from incident.core.errors import UserError

    raise UserError(
        "errors.reports.unknown_log_export_format", field="format", fmt=repr(fmt), value=", ".join(FORMATS)
    )


def format_for_path(path: str) -> str | None:
    suffix = path.lower().rsplit(".", 1)[-1] if "." in path else ""
    return {
        "md": "ics214-md",
        "markdown": "ics214-md",
        "html": "ics214-html",
        "htm": "ics214-html",
        "csv": "csv",
    }.get(suffix)


def export_ics214(
    session: Session,
    code: str,
    path: str,
    *,
    actor: str,
    fmt: str | None = None,
    lang: str = "en",
    position: str = "",
    home_agency: str = "",
) -> Ics214:
    """Write the ICS 214 form to ``path`` and log the export (with the head it carried)."""
    from pathlib import Path

    from incident.core.errors import UserError
    from incident.reports.lifecycle import write_text

    fmt = fmt or format_for_path(path)
    if fmt is None:
        raise UserError(
            "errors.reports.cannot_tell_format_file",
            field="format",
            path=repr(path),
            value=", ".join(FORMATS),
        )
    from incident.core.incidents import exercise_path

    form = build_ics214(session, code, prepared_by=actor, position=position, home_agency=home_agency)
    inc = get_incident(session, code)
    path = str(exercise_path(path, inc.is_exercise))
    form.written_to = path
    write_text(Path(path), render(form, fmt, lang))
    log.append(
        session,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind="log.exported",
        incident_id=inc.id,
        summary=f"Activity log exported as {fmt} ({len(form.rows)} entries) to {Path(path).name}",
        payload={"format": fmt, "entries": len(form.rows), "head": form.head, "file": Path(path).name},
    )
    return form
