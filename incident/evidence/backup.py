"""Back up one incident, with its log chain, to one file; restore it into another database.

The file is JSON lines:

1. a header ``{"format": "incident-backup", "version": 1, "code": ..., "chain_head": {...}, ...}``;
2. one line per row ``{"table": "result", "role": "incident", "row": {...}}`` in foreign-key order:
   ``role`` is ``incident`` for the incident's own rows (samples, results, log entries...),
   ``shared`` for centre rows they refer to (the river network, crews, responders, equipment) and
   ``account`` for the centre chain's ``account.*`` entries: the key history the signatures are
   checked against (not inserted: the import records them in its ``backup.imported`` entry, and
   ``incident verify`` checks the imported chain with them; they give nobody a role here);
3. a trailer ``{"end": {"rows": N, "sha256": ...}}`` over every line before it.

Import checks everything before writing anything: the trailer (a truncated or
damaged file), the hash chain and its head, and every evidence row against the
digest the chain committed to. Row ids are kept as they are, because the chain
commits to them: the import refuses, naming the row, when an id is already
used by something else in the target (restore into a fresh database, or one
that has never held that incident). Shared rows already present and identical
are reused.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, PlainValidator, Strict, field_validator, model_validator
from sqlalchemy import Table, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col

from incident.core import log, signing
from incident.core.clock import as_utc, utcnow
from incident.core.errors import UserError
from incident.core.incidents import get_incident
from incident.core.inputs import InputModel, parse, refuse, shown
from incident.core.store.tables import Incident, LogEntry
from incident.evidence import integrity

FORMAT = "incident-backup"
VERSION = 1
#: Shared rows whose children travel with them (a river network needs its reaches).
SHARED_CHILDREN = {"rivernetwork": ("reach", "receptor")}


def _tables() -> list[Table]:
    return list(SQLModel.metadata.sorted_tables)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _decode(table: Table, row: dict[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in row.items():
        if name not in table.c:
            raise UserError(
                "errors.evidence.column_not_known_version", where=where, name=table.name, name2=name
            )
        if value is not None:
            kind = _python_type(table.c[name].type)
            try:
                if kind is datetime:
                    value = as_utc(datetime.fromisoformat(value))
                elif kind is date:
                    value = date.fromisoformat(value)
            except (TypeError, ValueError) as exc:
                raise UserError(
                    "errors.evidence.not_valid",
                    where=where,
                    name=table.name,
                    name2=name,
                    value=repr(value),
                    name3=kind.__name__,
                ) from exc
        out[name] = value
    return out


def _python_type(sa_type: Any) -> type:
    """The Python type of a column, looking through TypeDecorators (SQLModel's UTCDateTime says object)."""
    for candidate in (sa_type, getattr(sa_type, "impl_instance", None)):
        if candidate is None:
            continue
        try:
            kind = candidate.python_type
        except NotImplementedError:
            continue
        if kind is not object:
            return kind
    return object


def _pk(table: Table) -> list[str]:
    return [c.name for c in table.primary_key.columns]


def _key(table: Table, row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row.get(c) for c in _pk(table))


# ---------------------------------------------------------------- export


def collect(session: Session, inc: Incident) -> list[tuple[str, str, dict[str, Any]]]:
    """(table, role, row) for the incident's rows and the shared rows they refer to, in FK order."""
    conn = session.connection()
    by_name = {t.name: t for t in _tables()}
    owned: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
    for table in _tables():
        if table.name == "logentry":
            q = select(table).where(table.c.chain == log.incident_chain(inc.code))
        elif table.name == "incident":
            q = select(table).where(table.c.id == inc.id)
        elif "incident_id" in table.c:
            q = select(table).where(table.c.incident_id == inc.id)
        else:
            conds = []
            for fk in table.foreign_keys:
                parent = fk.column.table.name
                ids = [r[fk.column.name] for r in owned.get(parent, {}).values()]
                if ids and parent != table.name:
                    conds.append(fk.parent.in_(ids))
            if not conds:
                continue
            from sqlalchemy import or_

            q = select(table).where(or_(*conds))
        rows = {_key(table, dict(r._mapping)): dict(r._mapping) for r in conn.execute(q)}
        if rows:
            owned[table.name] = rows

    shared: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
    pending: list[tuple[str, dict[str, Any]]] = [(t, r) for t, rows in owned.items() for r in rows.values()]
    while pending:
        tname, row = pending.pop()
        for fk in by_name[tname].foreign_keys:
            value = row.get(fk.parent.name)
            target = fk.column.table
            if value is None or (target.name in owned and (value,) in owned[target.name]):
                continue
            if (value,) in shared.get(target.name, {}):
                continue
            got = conn.execute(select(target).where(fk.column == value)).first()
            if got is None:
                continue  # a dangling reference; the FK check of the target database will say so
            found = dict(got._mapping)
            shared.setdefault(target.name, {})[_key(target, found)] = found
            pending.append((target.name, found))
            for child_name in SHARED_CHILDREN.get(target.name, ()):
                child = by_name[child_name]
                for fk2 in child.foreign_keys:
                    if fk2.column.table.name == target.name:
                        for r in conn.execute(select(child).where(fk2.parent == value)):
                            d = dict(r._mapping)
                            if _key(child, d) not in shared.setdefault(child_name, {}):
                                shared[child_name][_key(child, d)] = d
                                pending.append((child_name, d))
    entries = by_name["logentry"]
    out: list[tuple[str, str, dict[str, Any]]] = [
        ("logentry", "account", dict(r._mapping))
        for r in conn.execute(
            select(entries)
            .where(entries.c.chain == log.CENTRE_CHAIN, entries.c.kind.in_(signing.ACCOUNT_KINDS))
            .order_by(entries.c.seq)
        )
    ]
    for table in _tables():
        for role, group in (("shared", shared), ("incident", owned)):
            for key in sorted(group.get(table.name, {}), key=lambda k: tuple(x or 0 for x in k)):
                out.append((table.name, role, group[table.name][key]))
    return out


def export_incident(
    session: Session, code: str, path: str | Path, *, overwrite: bool = False
) -> dict[str, Any]:
    """Write one backup file; refuses an incident whose trail does not verify."""
    from alembic.runtime.migration import MigrationContext

    from incident.core.incidents import EXERCISE_FILE_MARK, exercise_path

    inc = get_incident(session, code)
    path = exercise_path(path, inc.is_exercise)  # an exercise's file says so in its name …
    if path.exists() and not overwrite:
        raise UserError("errors.evidence.already_exists", field="output", path=path)
    report = integrity.verify(session, inc.code)
    if not report.ok:
        raise UserError(
            "errors.evidence.evidence_trail_broken",
            where="incident backup export",
            code=inc.code,
            value=report.problems[0].render(),
        )
    rows = collect(session, inc)
    head = integrity.chain_head(session, inc.code)
    counts: dict[str, int] = {}
    for tname, _role, _row in rows:
        counts[tname] = counts.get(tname, 0) + 1
    header = {
        "format": FORMAT,
        "version": VERSION,
        "code": inc.code,
        "exported_at": _encode(utcnow()),
        # the session's own connection: a second one would wait for its write lock (SQLite)
        "schema_revision": MigrationContext.configure(session.connection()).get_current_revision(),
        "chain_head": head,
        "tables": counts,
    }
    if inc.is_exercise:  # … and in its first line
        header["exercise"] = True
        header["mark"] = f"{EXERCISE_FILE_MARK} — not a real incident"
    lines = [log.canonical_json(header)]
    lines += [
        log.canonical_json({"table": t, "role": role, "row": {k: _encode(v) for k, v in row.items()}})
        for t, role, row in rows
    ]
    digest = hashlib.sha256("".join(line + "\n" for line in lines).encode()).hexdigest()
    lines.append(log.canonical_json({"end": {"rows": len(rows), "sha256": digest}}))
    from incident.core.files import atomic_writer

    with atomic_writer(path, what="backup") as fh:  # complete or absent: temp file, fsync, rename
        for line in lines:
            fh.write(line + "\n")
    return {"code": inc.code, "rows": len(rows), "head": head, "file": str(path)}


# ---------------------------------------------------------------- import


# the lines of a backup file, as the input layer (incident/core/inputs.py) reads them

#: a count or a sequence number in a backup: a JSON integer a database column holds
Count = Annotated[int, Strict(), Field(ge=0, lt=2**63)]


def _cell(value: object) -> object:
    """A cell of a row: a JSON scalar a column can hold (structured data is stored as JSON text)."""
    ok = (
        value is None
        or isinstance(value, bool | str)
        or (isinstance(value, int) and -(2**63) <= value < 2**63)
        or (isinstance(value, float) and math.isfinite(value))
    )
    if not ok:
        raise refuse("errors.evidence.bad_cell", "not a value a column can hold", value=shown(value))
    return value


Cell = Annotated[str | int | float | bool | None, PlainValidator(_cell)]
Text = Annotated[str, Strict()]


class ChainHead(InputModel):
    """Where the incident's chain ended when it was exported."""

    chain: Text = Field(min_length=1)
    seq: Count
    hash: Text = Field(min_length=1, max_length=128)


class BackupHeader(InputModel):
    """Line 1: ``{"format": "incident-backup", "version": 1, "code": ..., "chain_head": {...}, ...}``."""

    format: Text
    version: int
    code: Text = Field(min_length=1, max_length=64)
    exported_at: Text | None = None
    schema_revision: Text | None = None
    chain_head: ChainHead
    tables: dict[str, Count] = {}
    exercise: Annotated[bool, Strict()] = False
    mark: Text | None = None

    @model_validator(mode="before")
    @classmethod
    def _is_a_backup(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise refuse("errors.evidence.not_incident_backup_no", "not an incident backup")
        return data

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: object) -> object:
        if type(value) is not int or value != VERSION:
            raise refuse("errors.evidence.backup_format_version_not", "not supported", value=shown(value))
        return value


class BackupRow(InputModel):
    """Lines 2 to the one before last: ``{"table": "result", "role": "incident", "row": {...}}``."""

    table: Text = Field(min_length=1, max_length=64)
    role: Literal["incident", "shared", "account"]
    row: dict[str, Cell]


class BackupEnd(InputModel):
    """The last line's ``end``: how many rows, and the SHA-256 of every line before it."""

    rows: Count
    sha256: Text = Field(min_length=64, max_length=64)


def _refuse(path: Path, message_key: str, **params: Any) -> UserError:
    """A backup refused as a whole: ``key`` is an ``errors.evidence`` catalog key (its text ends "nothing was imported")."""
    return UserError(message_key, where=str(path), **params)


def read_backup(path: str | Path) -> tuple[dict[str, Any], list[tuple[str, str, dict[str, Any]]]]:
    """Parse and check a backup file without touching any database."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError("errors.evidence.cannot_read_backup", where=str(path), strerror=exc.strerror) from exc
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _refuse(path, "errors.evidence.not_backup_file_not") from exc
    if not content.strip():
        raise _refuse(path, "errors.evidence.file_empty_nothing_was")
    lines = content.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    parsed: list[Any] = []
    for n, line in enumerate(lines, start=1):
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise _refuse(path, "errors.evidence.line_not_valid_json", n=n, msg=exc.msg) from exc
    parsed_header = parse(BackupHeader, parsed[0], where=f"{path}:1", source=str(path))
    header = parsed_header.model_dump(exclude_unset=True)
    last = parsed[-1] if len(parsed) > 1 and isinstance(parsed[-1], dict) else {}
    if "end" not in last or not isinstance(last["end"], dict):
        raise _refuse(path, "errors.evidence.file_truncated_no_end")
    body = "".join(line + "\n" for line in lines[:-1])
    if last["end"].get("sha256") != hashlib.sha256(body.encode()).hexdigest():
        raise _refuse(path, "errors.evidence.file_was_changed_damaged")
    end = parse(BackupEnd, last["end"], where=f"{path}:{len(parsed)}", source=str(path))
    rows: list[tuple[str, str, dict[str, Any]]] = []
    by_name = {t.name: t for t in _tables()}
    for n, item in enumerate(parsed[1:-1], start=2):
        where = f"{path}:{n}"
        entry = parse(BackupRow, item, where=where, source=str(path))
        table = by_name.get(entry.table)
        if table is None:
            raise UserError("errors.evidence.table_not_known_version", where=where, table=repr(entry.table))
        rows.append((table.name, entry.role, _decode(table, entry.row, where)))
    if end.rows != len(rows):
        raise _refuse(path, "errors.evidence.end_line_counts_rows", value=repr(end.rows), len_rows=len(rows))
    _verify_rows(path, header, rows)
    return header, rows


def _model(table: str) -> type[SQLModel]:
    return integrity.table_models()[table]


def _verify_rows(path: Path, header: dict[str, Any], rows: list[tuple[str, str, dict[str, Any]]]) -> None:
    """The chain, its head and every evidence row of the file, as `incident verify` would."""
    code = header.get("code")
    head = header.get("chain_head") or {}
    chain = log.incident_chain(str(code))
    try:
        entries = [LogEntry(**r) for t, role, r in rows if t == "logentry" and role == "incident"]
        entries.sort(key=lambda e: e.seq)
        evidence: dict[str, list[SQLModel]] = {name: [] for name in integrity.EVIDENCE_TABLES}
        for t, role, r in rows:
            if role == "incident" and t in evidence:
                evidence[t].append(_model(t)(**r))
    except (TypeError, ValueError) as exc:
        raise _refuse(path, "errors.evidence.row_does_not_fit", exc=exc) from exc
    if any(e.chain != chain for e in entries):
        raise _refuse(path, "errors.evidence.log_entries_another_chain", chain=chain)
    incidents = [r for t, role, r in rows if t == "incident" and role == "incident"]
    if len(incidents) != 1 or incidents[0].get("code") != code:
        raise _refuse(path, "errors.evidence.file_does_not_hold", code=repr(code))
    ok, message = log.verify_chain(entries)
    if not ok:
        raise _refuse(path, "errors.evidence.log_chain_broken_nothing", message=message)
    last = entries[-1] if entries else None
    if not last or head.get("seq") != last.seq or head.get("hash") != last.hash:
        raise _refuse(
            path,
            "errors.evidence.chain_ends_seq_not",
            value=last.seq if last else 0,
            value2=repr(head.get("seq")),
        )
    problems, _ = integrity.check_rows(
        evidence, integrity.commitments_in(entries), complete_tables=set(integrity.EVIDENCE_TABLES)
    )
    if problems:
        raise _refuse(path, "errors.evidence.evidence_does_not_match", value=problems[0].render())
    _verify_signatures(path, rows, entries)


def _verify_signatures(
    path: Path, rows: list[tuple[str, str, dict[str, Any]]], entries: list[LogEntry]
) -> None:
    """Every signed entry against the key history the file carries, as the target's verify will."""
    try:
        accounts = sorted(
            (LogEntry(**r) for t, role, r in rows if role == "account" and t == "logentry"),
            key=lambda e: e.seq,
        )
    except (TypeError, ValueError) as exc:
        raise _refuse(path, "errors.evidence.row_does_not_fit", exc=exc) from exc
    signed = sum(1 for e in entries if e.signature)
    if not accounts:
        if signed:
            raise _refuse(path, "errors.evidence.signed_without_accounts", n=signed)
        return
    if any(e.chain != log.CENTRE_CHAIN for e in accounts):
        raise _refuse(path, "errors.evidence.log_entries_another_chain", chain=log.CENTRE_CHAIN)
    registry, problems = integrity.carried_registry(accounts)
    if not problems:
        problems = integrity.check_signatures(entries, registry)[0]
    if problems:
        raise _refuse(path, "errors.evidence.signatures_do_not_verify", value=problems[0].render())


def _same(table: Table, a: dict[str, Any], b: dict[str, Any]) -> bool:
    return all(_encode(a.get(c.name)) == _encode(b.get(c.name)) for c in table.columns)


def import_backup(session: Session, path: str | Path, *, actor: str) -> dict[str, Any]:
    """Check a backup completely, then load it in the caller's transaction (all or nothing)."""
    path = Path(path)
    header, rows = read_backup(path)
    code = header["code"]
    conn = session.connection()
    by_name = {t.name: t for t in _tables()}
    if conn.execute(select(col(Incident.id)).where(col(Incident.code) == code)).first():
        raise _refuse(path, "errors.evidence.incident_already_database_nothing", code=code)
    inserted = reused = 0
    touched: set[str] = set()
    carried = [{k: _encode(v) for k, v in row.items()} for _t, role, row in rows if role == "account"]
    for tname, role, row in rows:
        if role == "account":
            continue  # the key history: recorded in the backup.imported entry below, not inserted
        table = by_name[tname]
        pk_cond = [table.c[c] == row.get(c) for c in _pk(table)]
        existing = conn.execute(select(table).where(*pk_cond)).first()
        if existing is not None:
            if role == "shared" and _same(table, dict(existing._mapping), row):
                reused += 1
                continue
            ident = ", ".join(f"{c} {row.get(c)}" for c in _pk(table))
            raise _refuse(path, "errors.evidence.already_used_different_row", tname=tname, ident=ident)
        try:
            conn.execute(insert(table).values(**row))
        except IntegrityError as exc:
            raise _refuse(
                path,
                "errors.evidence.row_clashes_database_nothing",
                tname=tname,
                value=row.get("id", ""),
                orig=exc.orig,
            ) from exc
        inserted += 1
        touched.add(tname)
    if conn.dialect.name == "postgresql":
        for tname in touched:
            if _pk(by_name[tname]) == ["id"]:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{tname}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {tname}))"
                    )
                )
    file_sha = hashlib.sha256(path.read_bytes()).hexdigest()
    log.append(
        session,
        chain=log.CENTRE_CHAIN,
        actor=actor,
        kind="backup.imported",
        summary=f"Incident {code} imported from {path.name} (chain verified to seq {header['chain_head']['seq']})",
        payload={
            "code": code,
            "file": path.name,
            "sha256": file_sha,
            "chain_head": header["chain_head"],
            "accounts": carried,
        },
    )
    session.flush()
    session.expire_all()  # verified as the store holds it now, with the accounts just recorded
    report = integrity.verify(session, code)
    if not report.ok:  # pragma: no cover - defence in depth: read_backup already checked
        raise _refuse(
            path, "errors.evidence.after_loading_verification_failed", value=report.problems[0].render()
        )
    return {
        "code": code,
        "inserted": inserted,
        "reused": reused,
        "head": header["chain_head"],
        "file": str(path),
    }
