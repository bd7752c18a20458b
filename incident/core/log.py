"""The activity log: append-only and hash-chained, so nobody can quietly alter it.

Each entry commits to the previous one of its chain:
``hash = sha256(prev_hash || canonical_json(entry))``. One chain per incident
(``incident:<code>``) plus one for the centre (readiness, rosters). Rows that
are evidence (results, samples, custody) are committed to by the log entry
that recorded them: its payload carries the row's digest, so editing the row
behind the app's back breaks verification too.

Appends are serialised per chain: SQLite takes the write lock at BEGIN
(``BEGIN IMMEDIATE`` in the engine factory); PostgreSQL takes a transaction
advisory lock on the chain. The unique (chain, seq) constraint is the last
line of defence.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, func, text
from sqlmodel import Session, SQLModel, col, select

from incident.core import signing
from incident.core.clock import as_utc, utcnow
from incident.core.errors import UserError
from incident.core.store.tables import LogEntry

GENESIS_HASH = "0" * 64
CENTRE_CHAIN = "centre"


def incident_chain(code: str) -> str:
    return f"incident:{code}"


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


#: the encoder json.dumps would build on every call with these options, built once (the bulk
#: import encodes three documents per result)
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_default)


def canonical_json(data: Any) -> str:
    return _CANONICAL.encode(data)


def row_digest(row: SQLModel) -> str:
    """Digest of every column of a row, as stored."""
    fields = {col: getattr(row, col) for col in type(row).model_fields}
    return hashlib.sha256(canonical_json(fields).encode()).hexdigest()


def entry_hash(
    prev_hash: str,
    *,
    chain: str,
    seq: int,
    at: datetime,
    actor: str,
    position: str,
    kind: str,
    incident_id: int | None,
    summary: str,
    payload_json: str,
) -> str:
    body = canonical_json(
        {
            "chain": chain,
            "seq": seq,
            "at": as_utc(at).isoformat(timespec="microseconds"),
            "actor": actor,
            "position": position,
            "kind": kind,
            "incident_id": incident_id,
            "summary": summary,
            "payload": payload_json,
        }
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def _lock_chain(session: Session, chain: str) -> None:
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.connection().execute(text("SELECT pg_advisory_xact_lock(hashtext(:c))").bindparams(c=chain))


@cache
def _head() -> Any:
    """The chain-head statement, built once (read by every append)."""
    return (
        select(LogEntry)
        .where(LogEntry.chain == bindparam("chain"))
        .order_by(col(LogEntry.seq).desc())
        .limit(1)
    )


def head(session: Session, chain: str) -> LogEntry | None:
    return session.exec(_head(), params={"chain": chain}).first()


def _refuse_backdated(at: datetime, chain: str, seq: int, prev: datetime) -> None:
    """Time moves forward: an entry dated before the chain's last one, beyond the clock skew."""
    if at < prev - signing.CLOCK_SKEW:
        raise UserError(
            "errors.log.backdated",
            at=at.isoformat(),
            chain=chain,
            seq=seq,
            prev=prev.isoformat(),
            skew=f"{signing.CLOCK_SKEW.total_seconds() / 60:g}",
            where=f"log {chain}",
        )


def _nobody(kind: str) -> UserError:
    return UserError(
        "errors.log.nobody",
        where=kind,
    )


def _require_registered_key(
    registry: signing.Registry, person: signing.Person, kind: str, now: datetime
) -> None:
    """The signer's key must be registered for them at ``now``."""
    if registry.key_at(person.name, person.key_id, now) is None:
        raise UserError(
            "errors.log.key_not_registered",
            name=person.name,
            key=person.key_id,
            where=kind,
        )


def append(
    session: Session,
    *,
    chain: str,
    actor: str,
    kind: str,
    summary: str,
    payload: dict[str, Any] | None = None,
    incident_id: int | None = None,
    position: str = "",
    at: datetime | None = None,
    registering: bool = False,
    _head: tuple[LogEntry | None] | None = None,
) -> LogEntry:
    """Append one entry to ``chain`` inside the caller's transaction, signed by its author.

    The author is :func:`signing.current` (the logged-in person); their name is
    the entry's actor. Once signing is enabled in this store (an account
    exists), an entry nobody signs is refused, as is one signed with a key not
    registered for its author now (``registering``: the key is registered by
    this very entry, the first account's self-signed registration). Time moves
    forward: an entry dated more than ``CLOCK_SKEW`` before the previous one of
    its chain is refused (``at`` is for the app's own replays and tests; typed
    times are checked against the future where they are entered).

    ``_head``: the chain's head as :func:`record` read it, the chain locked, in this transaction.
    """
    if _head is None:
        _lock_chain(session, chain)
        last = head(session, chain)
    else:
        (last,) = _head
    seq = 1 if last is None else last.seq + 1
    prev = GENESIS_HASH if last is None else last.hash
    now = utcnow()
    at = as_utc(at or now)
    if last is not None:
        _refuse_backdated(at, chain, last.seq, as_utc(last.at))
    person = signing.current()
    if person is None and kind not in signing.SYSTEM_KINDS and signing.enabled(session):
        raise _nobody(kind)
    if person is not None and not registering:
        _require_registered_key(signing.registry(session), person, kind, now)
        actor = person.name
    if person is not None and registering:
        actor = person.name
    payload_json = canonical_json(payload or {})
    entry = LogEntry(
        chain=chain,
        seq=seq,
        at=at,
        actor=actor,
        position=position,
        kind=kind,
        incident_id=incident_id,
        summary=summary,
        payload_json=payload_json,
        prev_hash=prev,
        hash=entry_hash(
            prev,
            chain=chain,
            seq=seq,
            at=at,
            actor=actor,
            position=position,
            kind=kind,
            incident_id=incident_id,
            summary=summary,
            payload_json=payload_json,
        ),
    )
    if person is not None:
        entry.signer, entry.key_id = person.name, person.key_id
        entry.signature = person.sign(signing.entry_message(entry.hash, person.name, person.key_id))
    session.add(entry)
    session.flush()
    if kind == "account.registered":
        signing.forget_enabled(session)
    return entry


def entries(session: Session, chain: str) -> list[LogEntry]:
    return list(session.exec(select(LogEntry).where(LogEntry.chain == chain).order_by(col(LogEntry.seq))))


def count(session: Session, chain: str) -> int:
    return session.exec(select(func.count()).select_from(LogEntry).where(LogEntry.chain == chain)).one()


def verify_chain(rows: list[LogEntry]) -> tuple[bool, str]:
    """Recompute a chain in seq order. Returns (ok, message naming the first broken entry)."""
    prev = GENESIS_HASH
    expected_seq = 1
    for row in rows:
        if row.seq != expected_seq:
            return (
                False,
                f"entry seq {row.seq} (id {row.id}): expected seq {expected_seq} — an entry is missing or was inserted",
            )
        if row.prev_hash != prev:
            return (
                False,
                f"entry seq {row.seq} (id {row.id}): does not follow entry seq {row.seq - 1} — reordered or replaced",
            )
        recomputed = entry_hash(
            prev,
            chain=row.chain,
            seq=row.seq,
            at=row.at,
            actor=row.actor,
            position=row.position,
            kind=row.kind,
            incident_id=row.incident_id,
            summary=row.summary,
            payload_json=row.payload_json,
        )
        if recomputed != row.hash:
            return False, f"entry seq {row.seq} (id {row.id}): content changed after it was logged"
        prev = row.hash
        expected_seq += 1
    return True, f"{len(rows)} entries, head {prev[:16]}"


# ---------------------------------------------------------------- evidence rows

#: columns left out of a row's digest: ``log_seq`` is set after the digest is taken.
DIGEST_EXCLUDE = frozenset({"log_seq"})


def digest_fields(row_type: type[SQLModel]) -> list[str]:
    """The columns a digest covers: every model field but ``DIGEST_EXCLUDE``, sorted."""
    return list(_digest_fields(row_type))


@cache
def _digest_fields(row_type: type[SQLModel]) -> tuple[str, ...]:
    return tuple(sorted(col for col in row_type.model_fields if col not in DIGEST_EXCLUDE))


def evidence_digest(row: SQLModel, fields: list[str] | None = None) -> str:
    """Digest of ``fields`` (default: :func:`digest_fields`) of a row, as stored.

    The log entry that commits to a row also lists the fields it covered, so a
    column added by a later migration does not make old rows look tampered.
    """
    names = digest_fields(type(row)) if fields is None else fields
    values = {col: getattr(row, col) for col in names}
    for key, value in values.items():
        if isinstance(value, datetime):
            values[key] = as_utc(value).isoformat(timespec="microseconds")
    return hashlib.sha256(canonical_json(values).encode()).hexdigest()


def record(
    session: Session,
    row: SQLModel,
    *,
    chain: str,
    actor: str,
    kind: str,
    summary: str,
    incident_id: int | None = None,
    position: str = "",
    extra: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> LogEntry:
    """Insert an evidence row (sample, result, custody...) and commit to it in the log.

    The log entry's payload carries the table name, the row id and the row's
    digest, so a later edit, delete or insert behind the app's back is found
    by verification. Rows with a ``log_seq`` column get the entry's seq.

    Also for a row that already exists and becomes evidence later: call it on
    a report at release (``kind="report.released"``) to commit to the released
    text; ``incident verify`` then checks every released report.
    """
    has_seq = "log_seq" in type(row).model_fields
    known: tuple[LogEntry | None] | None = None
    if has_seq and getattr(row, "log_seq", None) is None:
        # a new row is inserted with the seq its entry will have (the chain is locked for the
        # transaction): one UPDATE less for every sample and result (issue 19)
        _lock_chain(session, chain)
        known = (head(session, chain),)
        setattr(row, "log_seq", 1 if known[0] is None else known[0].seq + 1)  # noqa: B010
    session.add(row)
    session.flush()
    payload = record_payload(row)
    if extra:
        payload["extra"] = extra
    entry = append(
        session,
        chain=chain,
        actor=actor,
        kind=kind,
        summary=summary,
        payload=payload,
        incident_id=incident_id,
        position=position,
        at=at,
        _head=known,
    )
    if has_seq and getattr(row, "log_seq", None) != entry.seq:
        setattr(row, "log_seq", entry.seq)  # noqa: B010
        session.add(row)
        session.flush()
    return entry


class ChainWriter:
    """Many entries appended to one chain in the caller's transaction, in one ``executemany``.

    Each entry is exactly what :func:`append` would write in its place, one by one:
    the same seq, previous hash, time rule, signer checks and signature. The head is
    read once (the chain is locked for the transaction, as :func:`append` locks it),
    the accounts registry once. Nothing else may append to the chain between the
    first :meth:`add` and :meth:`flush`; after a flush, a new writer reads the head
    again. (Issue 19: the bulk result import.)
    """

    def __init__(self, session: Session, chain: str) -> None:
        _lock_chain(session, chain)
        last = head(session, chain)
        self.session = session
        self.chain = chain
        self.seq = 0 if last is None else last.seq
        self.prev = GENESIS_HASH if last is None else last.hash
        self.last_at = None if last is None else as_utc(last.at)
        self.person = signing.current()
        self._enabled: bool | None = None
        self._registry: signing.Registry | None = None
        self.pending: list[dict[str, Any]] = []

    def add(
        self,
        *,
        actor: str,
        kind: str,
        summary: str,
        payload: dict[str, Any] | None = None,
        incident_id: int | None = None,
        position: str = "",
    ) -> int:
        """Queue one entry (checked and signed as :func:`append` would); returns its seq."""
        now = utcnow()
        at = as_utc(now)
        if self.last_at is not None:
            _refuse_backdated(at, self.chain, self.seq, self.last_at)
        person = self.person
        if person is None and kind not in signing.SYSTEM_KINDS:
            if self._enabled is None:
                self._enabled = signing.enabled(self.session)
            if self._enabled:
                raise _nobody(kind)
        if person is not None:
            if self._registry is None:
                self._registry = signing.registry(self.session)
            _require_registered_key(self._registry, person, kind, now)
            actor = person.name
        seq = self.seq + 1
        payload_json = canonical_json(payload or {})
        digest = entry_hash(
            self.prev,
            chain=self.chain,
            seq=seq,
            at=at,
            actor=actor,
            position=position,
            kind=kind,
            incident_id=incident_id,
            summary=summary,
            payload_json=payload_json,
        )
        values: dict[str, Any] = {
            "chain": self.chain,
            "seq": seq,
            "at": at,
            "actor": actor,
            "position": position,
            "kind": kind,
            "incident_id": incident_id,
            "summary": summary,
            "payload_json": payload_json,
            "prev_hash": self.prev,
            "hash": digest,
            "signer": None,
            "key_id": None,
            "signature": None,
        }
        if person is not None:
            values["signer"], values["key_id"] = person.name, person.key_id
            values["signature"] = person.sign(signing.entry_message(digest, person.name, person.key_id))
        self.pending.append(values)
        self.seq, self.prev, self.last_at = seq, digest, at
        return seq

    def flush(self) -> None:
        """Insert the queued entries, in seq order, in one statement."""
        if self.pending:
            if any(v["kind"] == "account.registered" for v in self.pending):
                signing.forget_enabled(self.session)
            insert_many(self.session, SQLModel.metadata.tables["logentry"], self.pending)
            self.pending = []


def insert_many(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same columns of ``table``) in the caller's transaction.

    On SQLite, one DB-API ``executemany``: each value goes through its column type's own bind
    processor (UTC times, booleans), as SQLAlchemy's ``insert()`` converts it, without its
    per-row bookkeeping (a tenth of a bulk import). Elsewhere, or when a column left out has
    a Python-side default to fill in, ``insert()`` itself.
    """
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect
    columns = [c for c in table.columns if c.name in rows[0]]
    left_out = [c for c in table.columns if c.name not in rows[0]]
    if dialect.name != "sqlite" or any(c.default is not None for c in left_out):
        from sqlalchemy import insert

        conn.execute(insert(table), rows)
        return
    names = [c.name for c in columns]
    procs = [c.type.bind_processor(dialect) for c in columns]
    sql = 'INSERT INTO "{}" ({}) VALUES ({})'.format(
        table.name, ", ".join(f'"{n}"' for n in names), ", ".join("?" * len(names))
    )
    conn.exec_driver_sql(
        sql,
        [
            tuple(v if p is None else p(v) for v, p in zip([row[n] for n in names], procs, strict=True))
            for row in rows
        ],
    )


def record_payload(row: Any, row_type: type[SQLModel] | None = None) -> dict[str, Any]:
    """The payload :func:`record` writes for an evidence row that has its id.

    ``row_type``: the table, when ``row`` is not an instance of it but carries its columns
    as attributes (the bulk import's light rows).
    """
    row_type = row_type or type(row)
    names = digest_fields(row_type)
    return {
        "table": row_type.__tablename__,
        "id": getattr(row, "id"),  # noqa: B009 (SQLModel itself has no id; every evidence table does)
        "digest": evidence_digest(row, names),
        "fields": names,
    }
