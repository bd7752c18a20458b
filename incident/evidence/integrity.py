"""Verification of the evidence trail: every hash chain, and every evidence row against it.

Two layers, both needed:
- each log chain is recomputed entry by entry (``log.verify_chain``): an
  edited, deleted, inserted or reordered entry breaks it;
- each evidence row (samples, results, custody transfers, check-ins, released
  reports) is compared with the digest its log entry committed to
  (``log.record``): an edited row no longer matches, a deleted one is missing,
  one inserted behind the app's back has no commitment, two swapped rows both
  mismatch.

Signatures (issue 18): every entry written after signing was enabled carries
its author's Ed25519 signature over its hash; it is checked against the key the
centre chain registered for that person at that time. An entry without a valid
signature is a forgery, an unsigned entry before signing was enabled is legacy
(reported, not a problem), an entry dated before the previous one of its chain
beyond the clock skew is backdated, and every start that found the append-only
triggers missing (a protection gap) is listed.

Limits, stated honestly: a person holding every author's key (or a legacy,
unsigned chain) can rewrite a chain's tail consistently; that is caught against
a head sealed and kept elsewhere: ``incident verify --sealed FILE`` (seals) or
``incident verify CODE --head SEQ:HASH`` (an export's head).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from incident.core import log, signing
from incident.core.clock import as_utc
from incident.core.store import tables
from incident.core.store.tables import (
    CheckIn,
    CustodyTransfer,
    Incident,
    LogEntry,
    Report,
    Result,
    Sample,
)
from incident.core.store.tables import (
    row_id as stored_id,
)

#: Tables whose every row must be committed to in the log (reports: once released).
EVIDENCE_TABLES: dict[str, type[SQLModel]] = {
    "sample": Sample,
    "result": Result,
    "custodytransfer": CustodyTransfer,
    "checkin": CheckIn,
    "report": Report,
}


def table_models() -> dict[str, type[SQLModel]]:
    """Every table model by table name (commitments may name any table)."""
    out: dict[str, type[SQLModel]] = {}
    for value in vars(tables).values():
        if isinstance(value, type) and issubclass(value, SQLModel) and hasattr(value, "__table__"):
            out[str(value.__tablename__)] = value
    return out


def must_be_committed(row: SQLModel) -> bool:
    if isinstance(row, Report):
        return row.state == "released"
    return True


@dataclass
class Problem:
    kind: str  # chain | changed | deleted | uncommitted | head
    where: str  # e.g. "log incident:INC-2026-0001 seq 12" or "result id 7"
    message: str

    def render(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class ChainReport:
    chain: str
    entries: int
    ok: bool
    head_seq: int
    head_hash: str
    message: str


@dataclass
class Commitment:
    chain: str
    seq: int
    digest: str
    fields: list[str] | None


@dataclass
class ProtectionGap:
    detected_at: str
    missing: list[str]
    previous_entry_at: str | None

    def render(self) -> str:
        since = f"after {self.previous_entry_at}" if self.previous_entry_at else "at some time"
        return (
            f"append-only triggers were missing ({', '.join(self.missing)}): off {since}, "
            f"found and re-installed at {self.detected_at}; rows changed then are caught by the digests"
        )


@dataclass
class VerifyReport:
    scope: str
    chains: list[ChainReport] = field(default_factory=list)
    rows_checked: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. legacy unsigned entries: not a problem
    signed: int = 0
    legacy_unsigned: int = 0
    protection_gaps: list[ProtectionGap] = field(default_factory=list)
    seals_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "ok": self.ok,
            "first_problem": self.first_problem.render() if self.first_problem else None,
            "chains": [c.__dict__ for c in self.chains],
            "rows_checked": self.rows_checked,
            "problems": [p.__dict__ for p in self.problems],
            "warnings": self.warnings,
            "notes": self.notes,
            "signed": self.signed,
            "legacy_unsigned": self.legacy_unsigned,
            "protection_gaps": [g.__dict__ for g in self.protection_gaps],
            "seals_checked": self.seals_checked,
        }


# ---------------------------------------------------------------- building blocks


def commitments_in(entries: list[LogEntry]) -> dict[tuple[str, int], Commitment]:
    """Map (table, row id) to what the log committed to (the latest entry wins)."""
    out: dict[tuple[str, int], Commitment] = {}
    for e in entries:
        try:
            payload = json.loads(e.payload_json)
        except ValueError:
            continue  # the chain check reports a changed entry
        if not isinstance(payload, dict):
            continue
        table, row_id, digest = payload.get("table"), payload.get("id"), payload.get("digest")
        if isinstance(table, str) and isinstance(row_id, int) and isinstance(digest, str):
            names = payload.get("fields")
            out[(table, row_id)] = Commitment(
                e.chain, e.seq, digest, names if isinstance(names, list) else None
            )
    return out


def check_rows(
    rows: Mapping[str, Sequence[SQLModel]],
    commitments: dict[tuple[str, int], Commitment],
    *,
    complete_tables: set[str],
) -> tuple[list[Problem], dict[str, int]]:
    """Compare rows with commitments.

    ``rows`` maps a table name to its rows in scope; for tables in
    ``complete_tables`` every committed id is expected among them (else the
    row was deleted) and every row that must be committed needs a commitment.
    """
    problems: list[Problem] = []
    checked: dict[str, int] = {}
    for table in sorted(rows):
        by_id = {r.id: r for r in rows[table]}  # type: ignore[attr-defined]  # every logged table has an id column
        checked[table] = len(by_id)
        committed_ids = {row_id for (t, row_id) in commitments if t == table}
        for row_id in sorted(set(by_id) | committed_ids):
            row = by_id.get(row_id)
            c = commitments.get((table, row_id))
            where = f"{table} id {row_id}"
            if row is None:
                if table in complete_tables and c is not None:
                    problems.append(
                        Problem(
                            "deleted",
                            where,
                            f"logged in {c.chain} seq {c.seq} but no longer in the database — deleted",
                        )
                    )
                continue
            if c is None:
                if table in complete_tables and must_be_committed(row):
                    problems.append(
                        Problem(
                            "uncommitted",
                            where,
                            "not committed in any log entry — inserted behind the app's back",
                        )
                    )
                continue
            missing_fields = [f for f in (c.fields or []) if f not in type(row).model_fields]
            if missing_fields:
                problems.append(
                    Problem("changed", where, f"columns {missing_fields} logged in seq {c.seq} are gone")
                )
                continue
            if log.evidence_digest(row, c.fields) != c.digest:
                problems.append(
                    Problem(
                        "changed",
                        where,
                        f"differs from what {c.chain} seq {c.seq} committed to — changed after it was logged",
                    )
                )
    return problems, checked


def _chain_report(chain: str, entries: list[LogEntry]) -> tuple[ChainReport, Problem | None]:
    ok, message = log.verify_chain(entries)
    last = entries[-1] if entries else None
    report = ChainReport(
        chain=chain,
        entries=len(entries),
        ok=ok,
        head_seq=last.seq if last else 0,
        head_hash=last.hash if last else log.GENESIS_HASH,
        message=message,
    )
    return report, None if ok else Problem("chain", f"log {chain}", message)


def check_signatures(entries: list[LogEntry], registry: signing.Registry) -> tuple[list[Problem], int, int]:
    """Each entry's signature against its author's key at that time; time moves forward.

    Returns (problems, signed entries, legacy unsigned entries).
    """
    problems: list[Problem] = []
    signed = legacy = 0
    prev: LogEntry | None = None
    for e in entries:
        where = f"log {e.chain} seq {e.seq}"
        if prev is not None and as_utc(e.at) < as_utc(prev.at) - signing.CLOCK_SKEW:
            problems.append(
                Problem(
                    "backdated",
                    where,
                    f"dated {as_utc(e.at).isoformat()}, before seq {prev.seq} ({as_utc(prev.at).isoformat()}) "
                    f"by more than the {signing.CLOCK_SKEW.total_seconds() / 60:g} min clock skew",
                )
            )
        prev = e
        if e.signature is None:
            if registry.enabled_at is None or (
                (e.id or 0) < (registry.enabled_id or 0) and as_utc(e.at) <= as_utc(registry.enabled_at)
            ):
                legacy += 1
            elif e.kind in signing.SYSTEM_KINDS and e.actor == signing.SYSTEM_ACTOR:
                pass  # a start-up record, listed apart (protection gaps)
            else:
                problems.append(
                    Problem(
                        "forged",
                        where,
                        f"not signed, but every entry is signed since {as_utc(registry.enabled_at).isoformat()} "
                        "— written without its author's key",
                    )
                )
            continue
        message = signing.entry_message(e.hash, e.signer or "", e.key_id or "")
        key = registry.key_at(e.signer or "", e.key_id or "", e.at, skew=signing.CLOCK_SKEW)
        if key is None:
            problems.append(
                Problem(
                    "forged",
                    where,
                    f"signed by {e.signer!r} with key {e.key_id}, which was not registered to them "
                    f"at {as_utc(e.at).isoformat()} (unknown, rotated or revoked)",
                )
            )
        elif not signing.verify_signature(key.public_hex, message, e.signature):
            problems.append(
                Problem(
                    "forged", where, f"the signature is not {e.signer}'s: the entry was forged or changed"
                )
            )
        elif signing.canonical_name(e.actor) != signing.canonical_name(e.signer or ""):
            problems.append(
                Problem("forged", where, f"signed by {e.signer} but names {e.actor} as its author")
            )
        else:
            signed += 1
    return problems, signed, legacy


def entry_intact(e: LogEntry) -> bool:
    """An entry's hash still matches its content (its link to the previous entry is not checked)."""
    return e.hash == log.entry_hash(
        e.prev_hash,
        chain=e.chain,
        seq=e.seq,
        at=e.at,
        actor=e.actor,
        position=e.position,
        kind=e.kind,
        incident_id=e.incident_id,
        summary=e.summary,
        payload_json=e.payload_json,
    )


def carried_registry(account_entries: list[LogEntry]) -> tuple[signing.Registry, list[Problem]]:
    """The key registry a backup carries (its store's ``account.*`` entries, in seq order): each
    entry intact, signed by a key registered at the time, registered by a team lead."""
    problems = [
        Problem("forged", f"log {e.chain} seq {e.seq}", "account entry changed after it was logged")
        for e in account_entries
        if e.kind not in signing.ACCOUNT_KINDS or not entry_intact(e)
    ]
    reg = signing.Registry()
    for e in account_entries:
        signing.apply_event(reg, e)
    problems += check_signatures(account_entries, reg)[0] + check_account_entries(account_entries)
    return reg, problems


def _entry_from_json(data: dict[str, Any]) -> LogEntry:
    return LogEntry(**{**data, "at": datetime.fromisoformat(data["at"])})


def imported_registries(centre: list[LogEntry]) -> dict[str, signing.Registry]:
    """Chain -> the key registry its backup carried, for incidents imported from another store.

    The accounts travel in the ``backup.imported`` entry (checked at import, then protected by
    this store's own chain); they only check signatures: they give nobody a role here."""
    out: dict[str, signing.Registry] = {}
    for e in centre:
        if e.kind != "backup.imported":
            continue
        try:
            payload = json.loads(e.payload_json)
            entries = [_entry_from_json(d) for d in payload.get("accounts", [])]
            chain = log.incident_chain(str(payload["code"]))
        except (ValueError, TypeError, KeyError, AttributeError):
            continue
        if entries:
            out[chain] = carried_registry(sorted(entries, key=lambda x: x.seq))[0]
    return out


def with_keys_of(registry: signing.Registry, *carried: signing.Registry) -> signing.Registry:
    """``registry``'s accounts plus the keys of ``carried`` registries (for signature checks only).
    Legacy entries are judged by when signing began in the first carried registry's store."""
    first = carried[0] if carried else registry
    out = signing.Registry(enabled_at=first.enabled_at, enabled_id=first.enabled_id)
    for reg in (registry, *carried):
        for canonical, account in reg.accounts.items():
            mine = out.accounts.setdefault(canonical, dataclasses.replace(account, keys=[]))
            known = {(k.key_id, k.valid_from) for k in mine.keys}
            mine.keys += [k for k in account.keys if (k.key_id, k.valid_from) not in known]
    return out


def check_account_entries(entries: list[LogEntry]) -> list[Problem]:
    """Registrations after the first are signed by a team lead; rotations by the account or a lead."""
    problems: list[Problem] = []
    reg = signing.Registry()
    for e in entries:
        if e.kind not in signing.ACCOUNT_KINDS:
            continue
        where = f"log {e.chain} seq {e.seq}"
        if e.kind == "account.registered" and reg.accounts:
            if "team_lead" not in reg.roles_at(e.signer or ""):
                problems.append(
                    Problem("forged", where, f"account registered by {e.signer!r}, who is not a team lead")
                )
        elif e.kind != "account.registered":
            try:
                target = json.loads(e.payload_json).get("name", "")
            except (ValueError, AttributeError):
                target = ""
            own = signing.canonical_name(target) == signing.canonical_name(e.signer or "")
            if not (own and e.kind != "account.roles_changed") and "team_lead" not in reg.roles_at(
                e.signer or ""
            ):
                problems.append(Problem("forged", where, f"{e.kind} by {e.signer!r}, who is not a team lead"))
        signing.apply_event(reg, e)
    return problems


def protection_gaps(entries: list[LogEntry]) -> list[ProtectionGap]:
    gaps = []
    for e in entries:
        if e.kind != "store.protection_gap":
            continue
        try:
            payload = json.loads(e.payload_json)
        except ValueError:
            continue
        gaps.append(
            ProtectionGap(
                detected_at=as_utc(e.at).isoformat(),
                missing=list(payload.get("missing", [])),
                previous_entry_at=payload.get("previous_entry_at"),
            )
        )
    return gaps


def check_head(entries: list[LogEntry], seq: int, hash_: str) -> Problem | None:
    """An anchor recorded elsewhere (an export's chain head) must still be in the chain."""
    for e in entries:
        if e.seq == seq:
            if e.hash != hash_:
                return Problem("head", f"log seq {seq}", "hash differs from the recorded head — rewritten")
            return None
    return Problem(
        "head",
        f"log seq {seq}",
        f"the recorded head is gone (the chain now ends at seq {entries[-1].seq if entries else 0}) — truncated",
    )


# ---------------------------------------------------------------- database


def _incident_rows(session: Session, incident_id: int) -> dict[str, Sequence[SQLModel]]:
    samples = list(session.exec(select(Sample).where(Sample.incident_id == incident_id)))
    sample_ids = [s.id for s in samples]
    custody = (
        list(session.exec(select(CustodyTransfer).where(col(CustodyTransfer.sample_id).in_(sample_ids))))
        if sample_ids
        else []
    )
    results = list(session.exec(select(Result).where(Result.incident_id == incident_id)))
    checkins = list(session.exec(select(CheckIn).where(CheckIn.incident_id == incident_id)))
    reports = list(session.exec(select(Report).where(Report.incident_id == incident_id)))
    return {
        "sample": samples,
        "result": results,
        "custodytransfer": custody,
        "checkin": checkins,
        "report": reports,
    }


def verify(
    session: Session,
    code: str | None = None,
    *,
    head: tuple[int, str] | None = None,
    sealed: list[Any] | None = None,
) -> VerifyReport:
    """Verify every chain and evidence row, or one incident's."""
    from incident.core.incidents import get_incident

    if code is not None:
        inc = get_incident(session, code)
        chain_names = [log.incident_chain(inc.code)]
        report = VerifyReport(scope=inc.code)
    else:
        chain_names = sorted(set(session.exec(select(LogEntry.chain).distinct())))
        report = VerifyReport(scope="all")
    all_entries: list[LogEntry] = []
    for chain in chain_names:
        entries = log.entries(session, chain)
        chain_report, problem = _chain_report(chain, entries)
        report.chains.append(chain_report)
        if problem:
            report.problems.append(problem)
        all_entries += entries
    centre = all_entries if code is None else log.entries(session, log.CENTRE_CHAIN)
    centre = [e for e in centre if e.chain == log.CENTRE_CHAIN]
    registry = signing.registry(session)
    carried = imported_registries(centre)  # incidents imported from another store: its keys
    by_chain: dict[str, list[LogEntry]] = {}
    for e in all_entries:
        by_chain.setdefault(e.chain, []).append(e)
    for chain, entries in by_chain.items():
        keys = with_keys_of(registry, carried[chain]) if chain in carried else registry
        problems, signed, legacy = check_signatures(entries, keys)
        report.problems += problems
        report.signed += signed
        report.legacy_unsigned += legacy
    report.problems += check_account_entries(centre)
    report.protection_gaps = protection_gaps(centre)
    if report.legacy_unsigned:
        when = (
            f"before signing was enabled ({as_utc(registry.enabled_at).isoformat()})"
            if registry.enabled_at
            else "signing is not enabled in this store (no account yet: `incident account add`)"
        )
        report.notes.append(f"{report.legacy_unsigned} legacy unsigned entries: {when}")
    for gap in report.protection_gaps:
        report.warnings.append(gap.render())
    if sealed:
        from incident.evidence.seal import check_seals

        by_chain_all = dict(by_chain)
        for seal in sealed:
            if seal.chain not in by_chain_all:
                found = log.entries(session, seal.chain)
                if found:
                    by_chain_all[seal.chain] = found
        seal_keys = with_keys_of(registry, *carried.values()) if carried else registry
        for where, message in check_seals(by_chain_all, sealed, seal_keys):
            report.problems.append(Problem("sealed", where, message))
        report.seals_checked = len(sealed)
    if head is not None:
        problem = check_head(all_entries, *head)
        if problem:
            report.problems.append(problem)
    commitments = commitments_in(all_entries)

    if code is not None:
        rows = _incident_rows(session, stored_id(inc))
        complete = set(EVIDENCE_TABLES)
    else:
        rows = {name: list(session.exec(select(model))) for name, model in EVIDENCE_TABLES.items()}
        complete = set(EVIDENCE_TABLES)
        # commitments to other tables (e.g. calibration records) are checked too
        models = table_models()
        for table in sorted({t for (t, _) in commitments} - set(EVIDENCE_TABLES)):
            if table in models:
                rows[table] = list(session.exec(select(models[table])))
                complete.add(table)
    problems, checked = check_rows(rows, commitments, complete_tables=complete)
    report.problems += problems
    report.rows_checked = checked

    from incident.core.store import guards

    missing = guards.missing(session.connection())
    if missing:
        report.warnings.append(
            f"append-only triggers missing: {', '.join(missing)} (re-installed on the next start; "
            "someone may have dropped them)"
        )
    return report


def chain_head(session: Session, code: str) -> dict[str, Any]:
    """The head of an incident's chain, for exports: {chain, seq, hash}."""
    from incident.core.incidents import get_incident

    chain = log.incident_chain(get_incident(session, code).code)
    last = log.head(session, chain)
    return {"chain": chain, "seq": last.seq if last else 0, "hash": last.hash if last else log.GENESIS_HASH}


def incident_codes(session: Session) -> list[str]:
    return list(session.exec(select(Incident.code).order_by(col(Incident.id))))
