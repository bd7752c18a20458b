"""Verification of the evidence trail: every hash chain, and every evidence row against it.

Two layers, both needed:
- each log chain is recomputed entry by entry (``log.verify_chain``): an
  edited, deleted, inserted or reordered entry breaks it;
- each evidence row (samples, results, custody transfers, check-ins, released
  reports) is compared with the digest its log entry committed to
  (``log.record``): an edited row no longer matches, a deleted one is missing,
  one inserted behind the app's back has no commitment, two swapped rows both
  mismatch.

Limits, stated honestly: the chain has no secret key, so someone who rewrites
the whole tail of a chain consistently, or drops its last entries, is caught
only against a head recorded elsewhere: every export and backup carries the
chain head, and ``incident verify CODE --head SEQ:HASH`` checks it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from incident.core import log
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
            out[value.__tablename__] = value
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
class VerifyReport:
    scope: str
    chains: list[ChainReport] = field(default_factory=list)
    rows_checked: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

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
    rows: dict[str, list[SQLModel]],
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
        by_id = {r.id: r for r in rows[table]}  # type: ignore[attr-defined]
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


def _incident_rows(session: Session, incident_id: int) -> dict[str, list[SQLModel]]:
    samples = list(session.exec(select(Sample).where(Sample.incident_id == incident_id)))
    sample_ids = [s.id for s in samples]
    custody = (
        list(session.exec(select(CustodyTransfer).where(col(CustodyTransfer.sample_id).in_(sample_ids))))
        if sample_ids
        else []
    )
    return {
        "sample": samples,  # type: ignore[dict-item]
        "result": list(session.exec(select(Result).where(Result.incident_id == incident_id))),
        "custodytransfer": custody,  # type: ignore[dict-item]
        "checkin": list(session.exec(select(CheckIn).where(CheckIn.incident_id == incident_id))),
        "report": list(session.exec(select(Report).where(Report.incident_id == incident_id))),
    }


def verify(session: Session, code: str | None = None, *, head: tuple[int, str] | None = None) -> VerifyReport:
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
