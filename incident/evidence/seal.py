"""Sealed chain heads: a signed statement "chain C had entry SEQ with hash H at time T".

A seal kept outside the store (an e-mailed file, a printed report footer, an
RFC 3161 timestamp of the file) is what catches a consistent rewrite of a
chain's tail: whoever rechains the log after the seal cannot make entry SEQ
have hash H again. ``incident verify --sealed FILE`` checks that the chain still
passes through every sealed head, and that each seal (and countersignature) is
signed by a key registered to its signer at that time.

Heads are sealed at every report release (the seal is printed in the report's
footer and written to ``<data folder>/seals/``) and on demand (``incident
seal``). A second person may countersign a seal file (``incident seal
countersign FILE``). Seal files are written atomically (temporary file, fsync,
rename). Sealing and countersigning are logged in the centre chain.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from incident.core import log, signing
from incident.core.clock import as_utc, utcnow
from incident.core.errors import UserError
from incident.core.files import file_path
from incident.core.store.tables import LogEntry

FORMAT = "incident-seal/1"


@dataclass
class Seal:
    chain: str
    seq: int
    hash: str
    head_at: str
    sealed_at: str
    signer: str | None
    key_id: str | None
    signature: str | None
    countersignatures: list[dict[str, str]] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        return {
            "chain": self.chain,
            "seq": self.seq,
            "hash": self.hash,
            "head_at": self.head_at,
            "sealed_at": self.sealed_at,
            "signer": self.signer,
            "key_id": self.key_id,
        }

    def text(self) -> str:
        """One line for a report footer or an e-mail: everything needed to check the head."""
        who = f"signed by {self.signer} (key {self.key_id})" if self.signer else "unsigned (signing is off)"
        return f"{self.chain} seq {self.seq} sha256 {self.hash}, head at {self.head_at}, sealed {self.sealed_at}, {who}"


def _message(seal: Seal) -> bytes:
    return signing.document_message("seal", seal.body())


def seal_chain(session: Session, chain: str, *, before: LogEntry | None = None) -> Seal:
    """Seal the head of ``chain`` (or ``before``, an entry of it), signed by the person acting."""
    last = before or log.head(session, chain)
    if last is None:
        raise UserError("errors.seal.empty_chain", where=chain, chain=chain)
    person = signing.current()
    seal = Seal(
        chain=chain,
        seq=last.seq,
        hash=last.hash,
        head_at=as_utc(last.at).isoformat(),
        sealed_at=utcnow().isoformat(),
        signer=person.name if person else None,
        key_id=person.key_id if person else None,
        signature=None,
    )
    if person is not None:
        seal.signature = person.sign(_message(seal))
    return seal


def seal_heads(session: Session, code: str | None = None) -> list[Seal]:
    """Seal every chain's head (or one incident's); the sealing is logged in the centre chain."""
    from incident.core.accounts import require
    from incident.core.incidents import get_incident

    require(session, "chain.seal")
    if code is not None:
        chains = [log.incident_chain(get_incident(session, code).code)]
    else:
        chains = sorted(set(session.exec(select(LogEntry.chain).distinct())))
    seals = [seal_chain(session, chain) for chain in chains]
    person = signing.current()
    log.append(
        session,
        chain=log.CENTRE_CHAIN,
        actor=person.name if person else "",
        kind="chain.sealed",
        summary=f"Sealed {len(seals)} chain head(s)",
        payload={"heads": [{"chain": s.chain, "seq": s.seq, "hash": s.hash} for s in seals]},
    )
    return seals


def write_seal_file(path: str | Path, seals: list[Seal]) -> Path:
    """Write seals as JSON, atomically: a crash leaves the old file or the new one, never half."""
    path = file_path(path)
    text = json.dumps({"format": FORMAT, "seals": [asdict(s) for s in seals]}, indent=2, ensure_ascii=False)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    except OSError as exc:
        raise UserError(
            "errors.seal.cannot_write",
            where=str(path),
            reason=exc.strerror,
        ) from exc
    return path


def read_seal_file(path: str | Path) -> list[Seal]:
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(
            "errors.seal.cannot_read",
            where=str(path),
            reason=str(exc),
        ) from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("seals"), list):
        raise UserError("errors.seal.not_seal_file", where=str(path), seal_format=FORMAT)
    out = []
    for i, item in enumerate(doc["seals"]):
        try:
            out.append(Seal(**item))
        except TypeError as exc:
            raise UserError("errors.seal.malformed", where=str(path), index=i, reason=str(exc)) from exc
    return out


def countersign_file(session: Session, path: str | Path) -> int:
    """Add the acting person's countersignature to every seal of ``path``; returns how many."""
    person = signing.current()
    if person is None:
        raise UserError("errors.seal.nobody_countersign")
    seals = read_seal_file(path)
    for seal in seals:
        if seal.signer and signing.canonical_name(seal.signer) == person.canonical:
            raise UserError(
                "errors.seal.same_person",
                name=person.name,
                chain=seal.chain,
                seq=seal.seq,
                where=str(path),
            )
        at = utcnow().isoformat()
        body = seal.body() | {"countersigner": person.name, "countersigner_key_id": person.key_id, "at": at}
        seal.countersignatures.append(
            {
                "signer": person.name,
                "key_id": person.key_id,
                "at": at,
                "signature": person.sign(signing.document_message("countersign", body)),
            }
        )
    log.append(
        session,
        chain=log.CENTRE_CHAIN,
        actor=person.name,
        kind="chain.countersigned",
        summary=f"Countersigned {len(seals)} sealed head(s) in {Path(path).name}",
        payload={"heads": [{"chain": s.chain, "seq": s.seq, "hash": s.hash} for s in seals]},
    )
    write_seal_file(path, seals)
    return len(seals)


def check_seals(
    entries_by_chain: dict[str, list[LogEntry]], seals: list[Seal], registry: signing.Registry
) -> list[tuple[str, str]]:
    """(where, message) for each seal the store no longer honours or that is not genuinely signed."""
    problems: list[tuple[str, str]] = []
    for seal in seals:
        where = f"sealed head {seal.chain} seq {seal.seq}"
        entries = entries_by_chain.get(seal.chain)
        if entries is None:
            problems.append((where, "the chain is not in this store (or not in the scope verified)"))
            continue
        entry = next((e for e in entries if e.seq == seal.seq), None)
        if entry is None:
            last = entries[-1].seq if entries else 0
            problems.append((where, f"the chain now ends at seq {last}: entries after it were dropped"))
        elif entry.hash != seal.hash:
            problems.append(
                (where, "the entry's hash differs from the sealed one: the chain was rewritten (rechained)")
            )
        if seal.signature is not None:
            key = registry.key_at(
                seal.signer or "", seal.key_id or "", as_utc(_dt(seal.sealed_at)), skew=signing.CLOCK_SKEW
            )
            if key is None or not signing.verify_signature(key.public_hex, _message(seal), seal.signature):
                problems.append((where, f"the seal is not signed by {seal.signer}'s registered key"))
        for cs in seal.countersignatures:
            body = seal.body() | {
                "countersigner": cs.get("signer"),
                "countersigner_key_id": cs.get("key_id"),
                "at": cs.get("at"),
            }
            key = registry.key_at(
                cs.get("signer", ""),
                cs.get("key_id", ""),
                as_utc(_dt(cs.get("at", ""))),
                skew=signing.CLOCK_SKEW,
            )
            if key is None or not signing.verify_signature(
                key.public_hex, signing.document_message("countersign", body), cs.get("signature", "")
            ):
                problems.append((where, f"the countersignature of {cs.get('signer')} does not verify"))
    return problems


def _dt(text: str) -> datetime:
    from datetime import UTC, datetime

    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return datetime.min.replace(tzinfo=UTC)


def seals_dir() -> Path:
    from incident.core.config import default_data_dir

    return default_data_dir() / "seals"
