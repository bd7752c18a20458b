"""Report lifecycle: draft → reviewed → released, and new versions after release.

- A *draft* is rendered from the store (:mod:`report_data`) plus the author's
  own text (``inputs``: conclusions, recommendations, lessons, next_steps,
  notes, termination). Editing the text re-renders from the current records.
  Editing a *reviewed* report sends it back to draft (the review is void).
- *Review* (HJ 589 §9.5) is by a named person who is not the author; it
  stamps the reviewer into the signature block without touching the content.
- *Release* stamps the approver, fixes ``content_sha256`` and commits that hash
  into the incident's log chain. A released report is never changed again:
  editing, re-rendering or re-stamping it is refused; :func:`new_version`
  starts version N+1 (same kind and number) from it.

Every transition is appended to the incident's hash-chained log.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from incident.core import accounts, log, signing
from incident.core.clock import as_utc, fmt_local, utcnow
from incident.core.errors import UserError
from incident.core.incidents import get_incident
from incident.core.store.tables import Incident, Report, row_id
from incident.plume import IncidentForecast
from incident.reports.data import gather
from incident.reports.render import (
    KINDS,
    Stamp,
    build,
    restamp,
    stamp_html,
    stamp_md,
    to_html,
    to_markdown,
)

INPUT_FIELDS = ("conclusions", "recommendations", "lessons", "next_steps", "notes", "termination")
LANGS = ("en", "zh")
EXPORT_SUFFIXES = (".html", ".htm", ".md", ".markdown")


@dataclass
class ReportInfo:
    id: int
    incident_code: str
    kind: str
    number: int
    version: int
    lang: str
    state: str
    title: str
    created_by: str
    created_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None
    released_by: str | None
    released_at: datetime | None
    content_sha256: str | None
    as_of: datetime | None
    supersedes_id: int | None
    inputs: dict


@dataclass
class ReportContent:
    info: ReportInfo
    markdown: str
    html: str


def content_hash(title: str, markdown: str, html: str) -> str:
    """SHA-256 of what a released report says (title, Markdown and HTML bodies)."""
    body = log.canonical_json({"title": title, "markdown": markdown, "html": html})
    return hashlib.sha256(body.encode()).hexdigest()


def _info(row: Report, code: str) -> ReportInfo:
    return ReportInfo(
        id=row_id(row),
        incident_code=code,
        kind=row.kind,
        number=row.number,
        version=row.version,
        lang=row.lang,
        state=row.state,
        title=row.title,
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
        reviewed_by=row.reviewed_by,
        reviewed_at=as_utc(row.reviewed_at) if row.reviewed_at else None,
        released_by=row.released_by,
        released_at=as_utc(row.released_at) if row.released_at else None,
        content_sha256=row.content_sha256,
        as_of=as_utc(row.as_of) if row.as_of else None,
        supersedes_id=row.supersedes_id,
        inputs=json.loads(row.inputs_json or "{}"),
    )


def _stamp(row: Report) -> Stamp:
    return Stamp(
        state=row.state,
        version=row.version,
        report_id=row.id,
        created_by=row.created_by,
        created_at=row.created_at,
        reviewed_by=row.reviewed_by,
        reviewed_at=row.reviewed_at,
        released_by=row.released_by,
        released_at=row.released_at,
    )


def _check_kind_lang(kind: str, lang: str) -> None:
    if kind not in KINDS:
        raise UserError(
            "errors.reports.unknown_report_kind", field="kind", kind=repr(kind), value=", ".join(KINDS)
        )
    if lang not in LANGS:
        raise UserError("errors.reports.unknown_report_language", field="lang", lang_name=repr(lang))


def _clean_inputs(inputs: dict | None) -> dict:
    out = {}
    for key, value in (inputs or {}).items():
        if key not in INPUT_FIELDS:
            raise UserError(
                "errors.reports.unknown_report_text_field",
                where=key,
                key_name=repr(key),
                value=", ".join(INPUT_FIELDS),
            )
        if value is not None:
            out[key] = str(value).strip()
    return out


def _get(session: Session, inc: Incident, report_id: int) -> Report:
    row = session.get(Report, report_id)
    if row is None or row.incident_id != inc.id:
        raise UserError(
            "errors.reports.incident_has_no_report", where="REPORT_ID", code=inc.code, report_id=report_id
        )
    return row


def _refuse_if_released(row: Report, code: str, doing: str) -> None:
    if row.state == "released":
        raise UserError(
            "errors.reports.report_no_v_was",
            where=f"report #{row.id}",
            id=row.id,
            kind=row.kind,
            number=row.number,
            version=row.version,
            released_by=row.released_by,
            fmt_local_released_at=fmt_local(row.released_at),
            doing=doing,
            value=row.version + 1,
            code=code,
        )


def _render(
    session: Session,
    inc: Incident,
    row: Report,
    *,
    forecast: IncidentForecast | None,
) -> dict:
    """Render from the current records; returns the forecast cited (for the log), if any."""
    data = gather(session, inc, forecast=forecast)
    inputs = json.loads(row.inputs_json or "{}")
    doc = build(row.kind, data, row.lang, _stamp(row), row.number, inputs)
    row.title = doc.title
    row.as_of = data.as_of
    row.body_markdown = to_markdown(doc, _stamp(row))
    row.body_html = to_html(doc, _stamp(row))
    if data.forecast_id is None:
        return {}
    return {"forecast_id": data.forecast_id, "forecast_sha256": data.forecast_sha256}


def _restamp(row: Report, *, seal: str | None = None) -> None:
    stamp = _stamp(row)
    stamp.seal = seal
    row.body_markdown = restamp(row.body_markdown, stamp_md(stamp, row.lang))
    row.body_html = restamp(row.body_html, stamp_html(stamp, row.lang))


# ---------------------------------------------------------------- who may do what


def _acting_name(session: Session, action: str, typed: str | None, where: str) -> str:
    """The name recorded for ``action``: the logged-in person (signing on) or the typed name (legacy)."""
    person = accounts.require(session, action)
    typed = " ".join((typed or "").split())
    if person is None:
        if not typed:
            raise UserError("errors.reports.no_name_given", where=where, where_name=where)
        return typed
    if typed and signing.canonical_name(typed) != person.canonical:
        raise UserError(
            "errors.reports.you_logged_not", where=where, name=person.name, typed=typed, where_name=where
        )
    return person.name


def _author(session: Session, actor: str) -> str:
    """Who drafts or edits: the logged-in person when signing is on (a typed name otherwise)."""
    person = accounts.require(session, "report.draft")
    return person.name if person is not None else actor


def authors(session: Session, inc: Incident, row: Report) -> set[str]:
    """Identities (canonical names) who wrote report ``row``: its creator and everyone who edited it.

    Read from the signed log entries of the incident's chain, so typing a name
    differently (extra spaces, case) cannot make an author look like someone else.
    """
    names = {signing.canonical_name(row.created_by)}
    for entry in log.entries(session, log.incident_chain(inc.code)):
        if entry.kind not in ("report.drafted", "report.edited", "report.revised"):
            continue
        try:
            payload = json.loads(entry.payload_json)
        except ValueError:
            continue
        if payload.get("report_id") == row.id:
            names.add(signing.canonical_name(entry.signer or entry.actor))
    return names


def _log(
    session: Session, inc: Incident, row: Report, *, actor: str, kind: str, summary: str, **extra
) -> None:
    payload = {
        "report_id": row.id,
        "kind": row.kind,
        "number": row.number,
        "version": row.version,
        "lang": row.lang,
        "state": row.state,
    } | extra
    log.append(
        session,
        chain=log.incident_chain(inc.code),
        actor=actor,
        kind=kind,
        incident_id=inc.id,
        summary=summary,
        payload=payload,
    )


def _refuse_if_held(session: Session, inc: Incident, row: Report) -> None:
    """A result flagged as implausible stays out of released reports until a person confirms or
    corrects it (issue 16): release is refused while one was logged before the report's as-of time."""
    from incident.results import held_results

    as_of = as_utc(row.as_of) if row.as_of else None
    held = [r for r in held_results(session, inc.code) if as_of is None or as_utc(r.entered_at) <= as_of]
    if not held:
        return
    names = "; ".join(
        f"result #{r.id} ({r.sample}, {r.point or '—'}, {r.text}): {r.flag_text()}" for r in held
    )
    first = held[0].id
    raise UserError(
        "errors.records.release_held",
        where=f"result #{first}",
        report=row.id,
        names=names,
        first=first,
        code=inc.code,
    )


# ---------------------------------------------------------------- lifecycle


def draft_report(
    session: Session,
    code: str,
    kind: str,
    *,
    actor: str,
    lang: str = "en",
    inputs: dict | None = None,
    forecast: IncidentForecast | None = None,
) -> ReportInfo:
    """Draft the next report of ``kind`` (flash, monitoring or summary) from the current records."""
    _check_kind_lang(kind, lang)
    inc = get_incident(session, code)
    actor = _author(session, actor)
    number = (
        session.exec(
            select(func.max(Report.number)).where(Report.incident_id == inc.id, Report.kind == kind)
        ).one()
        or 0
    ) + 1
    row = Report(
        incident_id=row_id(inc),
        kind=kind,
        number=number,
        version=1,
        lang=lang,
        state="draft",
        title="",
        body_markdown="",
        created_at=utcnow(),
        created_by=actor,
        inputs_json=log.canonical_json(_clean_inputs(inputs)),
    )
    session.add(row)
    session.flush()
    cited = _render(session, inc, row, forecast=forecast)
    session.add(row)
    session.flush()
    _log(
        session,
        inc,
        row,
        actor=actor,
        kind="report.drafted",
        summary=f"Drafted {row.title} (#{row.id}, v1)",
        **cited,
    )
    return _info(row, inc.code)


def edit_report(
    session: Session,
    code: str,
    report_id: int,
    *,
    actor: str,
    inputs: dict | None = None,
    forecast: IncidentForecast | None = None,
) -> ReportInfo:
    """Change the author's text and re-render from the current records (refused once released)."""
    inc = get_incident(session, code)
    actor = _author(session, actor)
    row = _get(session, inc, report_id)
    _refuse_if_released(row, inc.code, "editing")
    merged = json.loads(row.inputs_json or "{}") | _clean_inputs(inputs)
    voided = row.state == "reviewed"
    row.inputs_json = log.canonical_json(merged)
    row.state, row.reviewed_by, row.reviewed_at = "draft", None, None
    cited = _render(session, inc, row, forecast=forecast)
    session.add(row)
    session.flush()
    _log(
        session,
        inc,
        row,
        actor=actor,
        kind="report.edited",
        summary=f"Edited and re-rendered {row.title} (#{row.id})" + (" — review voided" if voided else ""),
        fields=sorted(_clean_inputs(inputs)),
        review_voided=voided,
        **cited,
    )
    return _info(row, inc.code)


def review_report(session: Session, code: str, report_id: int, *, reviewer: str) -> ReportInfo:
    """Record the review by a named person who is not the author."""
    inc = get_incident(session, code)
    row = _get(session, inc, report_id)
    _refuse_if_released(row, inc.code, "review")
    reviewer = _acting_name(session, "report.review", reviewer, "--by")
    if signing.canonical_name(reviewer) in authors(session, inc, row):
        raise UserError("errors.reports.wrote_report_edited_cannot", field="by", reviewer=reviewer, id=row.id)
    if row.state == "reviewed":
        raise UserError(
            "errors.reports.report_was_already_reviewed",
            id=row.id,
            reviewed_by=row.reviewed_by,
            fmt_local_reviewed_at=fmt_local(row.reviewed_at),
            code=inc.code,
        )
    inputs = json.loads(row.inputs_json or "{}")
    if row.kind == "summary" and not inputs.get("lessons"):
        raise UserError("errors.reports.summary_report_has_no", where="lessons", id=row.id, code=inc.code)
    row.state, row.reviewed_by, row.reviewed_at = "reviewed", reviewer, utcnow()
    _restamp(row)
    session.add(row)
    session.flush()
    _log(
        session,
        inc,
        row,
        actor=reviewer,
        kind="report.reviewed",
        summary=f"Reviewed {row.title} (#{row.id}, v{row.version})",
        reviewed_sha256=content_hash(row.title, row.body_markdown, row.body_html),
    )
    return _info(row, inc.code)


def release_report(session: Session, code: str, report_id: int, *, by: str) -> ReportInfo:
    """Release a reviewed report: stamp, fix its content hash, commit the hash into the log."""
    inc = get_incident(session, code)
    row = _get(session, inc, report_id)
    _refuse_if_released(row, inc.code, "release")
    by = _acting_name(session, "report.release", by, "--by")
    if row.state != "reviewed":
        raise UserError("errors.reports.report_draft_must_reviewed", id=row.id, code=inc.code)
    _refuse_if_held(session, inc, row)
    if signing.canonical_name(by) in authors(session, inc, row):
        raise UserError("errors.reports.wrote_report_edited_cannot_2", field="by", by=by, id=row.id)
    if signing.canonical_name(by) == signing.canonical_name(row.reviewed_by or ""):
        raise UserError("errors.reports.reviewed_report_cannot_also", field="by", by=by, id=row.id)
    from incident.evidence import seal_chain, seals_dir, write_seal_file

    seal = seal_chain(session, log.incident_chain(inc.code))
    row.state, row.released_by, row.released_at = "released", by, utcnow()
    _restamp(row, seal=seal.text())
    row.content_sha256 = content_hash(row.title, row.body_markdown, row.body_html)
    session.add(row)
    session.flush()
    minutes = (as_utc(row.released_at) - as_utc(inc.alert_at)).total_seconds() / 60
    # A released report is evidence: log.record commits the row's digest into the chain,
    # so `incident verify` checks it (log.append alone left it "not committed").
    log.record(
        session,
        row,
        chain=log.incident_chain(inc.code),
        actor=by,
        kind="report.released",
        incident_id=inc.id,
        summary=f"Released {row.title} (#{row.id}, v{row.version}), SHA-256 {row.content_sha256[:16]}",
        extra={
            "report_id": row.id,
            "kind": row.kind,
            "number": row.number,
            "version": row.version,
            "lang": row.lang,
            "state": row.state,
            "content_sha256": row.content_sha256,
            "minutes_after_alert": round(minutes, 1),
            "supersedes": row.supersedes_id,
            "seal": seal.body() | {"signature": seal.signature},
        },
    )
    write_seal_file(seals_dir() / f"{inc.code}-report-{row.id}-seq{seal.seq}.json", [seal])
    return _info(row, inc.code)


def new_version(
    session: Session,
    code: str,
    report_id: int,
    *,
    actor: str,
    inputs: dict | None = None,
    forecast: IncidentForecast | None = None,
) -> ReportInfo:
    """Start version N+1 of a released report (same kind and number), as a draft."""
    inc = get_incident(session, code)
    actor = _author(session, actor)
    old = _get(session, inc, report_id)
    if old.state != "released":
        raise UserError(
            "errors.reports.report_not_released_change", id=old.id, state=old.state, code=inc.code
        )
    latest = session.exec(
        select(func.max(Report.version)).where(
            Report.incident_id == inc.id, Report.kind == old.kind, Report.number == old.number
        )
    ).one()
    if latest != old.version:
        raise UserError(
            "errors.reports.report_v_not_latest",
            id=old.id,
            version=old.version,
            latest=latest,
            code=inc.code,
        )
    merged = json.loads(old.inputs_json or "{}") | _clean_inputs(inputs)
    row = Report(
        incident_id=row_id(inc),
        kind=old.kind,
        number=old.number,
        version=old.version + 1,
        lang=old.lang,
        state="draft",
        title="",
        body_markdown="",
        created_at=utcnow(),
        created_by=actor,
        inputs_json=log.canonical_json(merged),
        supersedes_id=old.id,
    )
    session.add(row)
    session.flush()
    cited = _render(session, inc, row, forecast=forecast)
    session.add(row)
    session.flush()
    _log(
        session,
        inc,
        row,
        actor=actor,
        kind="report.revised",
        summary=f"Started v{row.version} of {row.title} (#{row.id}, revises #{old.id})",
        supersedes=old.id,
        **cited,
    )
    return _info(row, inc.code)


# ---------------------------------------------------------------- reading and export


def list_reports(session: Session, code: str) -> list[ReportInfo]:
    inc = get_incident(session, code)
    rows = session.exec(
        select(Report)
        .where(Report.incident_id == inc.id)
        .order_by(col(Report.kind), col(Report.number), col(Report.version))
    )
    return [_info(r, inc.code) for r in rows]


def get_report(session: Session, code: str, report_id: int) -> ReportContent:
    inc = get_incident(session, code)
    row = _get(session, inc, report_id)
    return ReportContent(_info(row, inc.code), row.body_markdown, row.body_html)


def verify_released(content: ReportContent) -> None:
    """Refuse a released report whose stored text no longer matches its release hash."""
    info = content.info
    if info.state != "released":
        return
    actual = content_hash(info.title, content.markdown, content.html)
    if actual != info.content_sha256:
        raise UserError(
            "errors.reports.report_was_changed_after",
            where=f"report #{info.id}",
            id=info.id,
            value=actual[:16],
            value2=str(info.content_sha256)[:16],
        )


def export_text(content: ReportContent, path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise UserError("errors.reports.cannot_tell_format_file_3", where="-o", str_path=repr(str(path)))
    verify_released(content)
    return content.html if suffix in (".html", ".htm") else content.markdown


def export_report(session: Session, code: str, report_id: int, path: str | Path, *, actor: str) -> Path:
    """Write the stored report (as released, byte for byte) to an .html or .md file."""
    content = get_report(session, code, report_id)
    from incident.core.incidents import exercise_path

    text = export_text(content, path)
    inc = get_incident(session, code)
    path = exercise_path(path, inc.is_exercise)
    write_text(path, text)
    if path.suffix.lower() in (".html", ".htm", ".md"):
        from incident.reports.photos import copy_photos_beside

        copy_photos_beside(session, inc.code, path, text)  # the report shows them offline
    row = _get(session, inc, report_id)
    _log(
        session,
        inc,
        row,
        actor=actor,
        kind="report.exported",
        summary=f"Exported {row.title} (#{row.id}, v{row.version}, {row.state}) to {path.name}",
        file=path.name,
        content_sha256=row.content_sha256,
    )
    return path


def write_text(path: Path, text: str) -> None:
    """Complete or absent: temporary file, fsync, rename (incident.core.files)."""
    from incident.core.files import atomic_write

    atomic_write(path, text)
