"""Who wrote a log entry: people, their Ed25519 keys, and the registry of keys in the log.

A person is an account (a name, roles) with an Ed25519 key pair. Every log entry
written while signing is enabled carries ``signer``, ``key_id`` and an Ed25519
``signature`` over the entry's hash, so an entry is proof of its author and not
only of its place in the chain: someone who can write to the database but does
not hold the author's private key cannot forge or rechain a signed entry.

The registry of keys is not a table that could be edited apart from the log: it
is folded from the centre chain's ``account.*`` entries (registration, key
rotation, revocation), themselves signed. "The key registered for that person
at that time" is the key whose registration precedes the entry and whose
rotation or revocation does not. Signing is enabled from the first registration
on; entries before it are legacy (unsigned) and reported as such.

Time only moves forward: an entry dated more than :data:`CLOCK_SKEW` before the
previous entry of its chain is refused at write and flagged by verification.

The person acting now comes from :func:`current`: the CLI and TUI set it at login
(:func:`set_provider` unlocks the key lazily, on the first write), tests use
:func:`acting_as`.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from incident.core.clock import as_utc

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from sqlmodel import Session

#: The roles of the centre (docs/roles.md has the table of who may do what).
ROLES = ("responder", "team_lead", "reviewer", "equipment_manager", "exercise_controller")
#: How far a device's clock may lag behind another's: an entry dated more than this
#: before the previous entry of its chain is refused (write) and flagged (verify).
CLOCK_SKEW = timedelta(minutes=5)
#: Log entry kinds that make up the key registry (centre chain).
ACCOUNT_KINDS = ("account.registered", "account.key_rotated", "account.revoked", "account.roles_changed")
#: Entries the store writes by itself, with nobody logged in (start-up checks).
SYSTEM_KINDS = frozenset({"store.protection_gap"})
SYSTEM_ACTOR = "system"
_CONTEXT = b"incident.log.v1"


def canonical_name(name: str) -> str:
    """The identity behind a typed name: NFKC, white space collapsed, case folded.

    ``"Li  Wei"``, ``"li wei"`` and ``"Ｌｉ Wei"`` are the same person; a second
    account under any of them is refused.
    """
    return " ".join(unicodedata.normalize("NFKC", str(name or "")).split()).casefold()


def display_name(name: str) -> str:
    return " ".join(str(name or "").split())


def key_id_of(public_hex: str) -> str:
    """Short fingerprint of a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(bytes.fromhex(public_hex)).hexdigest()[:16]


def public_hex_of(private_key: Ed25519PrivateKey) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw.hex()


def new_private_key() -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate()


@dataclass(frozen=True)
class Person:
    """A person acting now: their account name and their unlocked private key."""

    name: str
    private_key: Any = field(repr=False)

    @property
    def public_hex(self) -> str:
        return public_hex_of(self.private_key)

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_hex)

    @property
    def canonical(self) -> str:
        return canonical_name(self.name)

    def sign(self, message: bytes) -> str:
        return self.private_key.sign(message).hex()


def entry_message(entry_hash: str, signer: str, key_id: str) -> bytes:
    """What a log entry's signature covers: its hash (all its content) and who signs."""
    return b"|".join([_CONTEXT, entry_hash.encode(), canonical_name(signer).encode(), key_id.encode()])


def document_message(purpose: str, data: dict[str, Any]) -> bytes:
    """What a seal or countersignature covers: a purpose tag and canonical JSON."""
    body = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return b"|".join([b"incident." + purpose.encode(), body.encode()])


def verify_signature(public_hex: str, message: bytes, signature_hex: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(
            bytes.fromhex(signature_hex), message
        )
    except (InvalidSignature, ValueError):
        return False
    return True


# ---------------------------------------------------------------- the person acting now

_acting: ContextVar[Person | None] = ContextVar("incident_acting_person", default=None)
_process_person: Person | None = None
_provider: Callable[[], Person | None] | None = None


def current() -> Person | None:
    """The person acting now: :func:`acting_as`, else the logged-in person (unlocked on first use)."""
    global _process_person, _provider
    person = _acting.get()
    if person is not None:
        return person
    if _process_person is None and _provider is not None:
        provider, _provider = _provider, None
        _process_person = provider()
    return _process_person


def login(person: Person | None) -> None:
    """Act as ``person`` in this process (the TUI and CLI after unlocking the key)."""
    global _process_person, _provider
    _process_person, _provider = person, None


def set_provider(provider: Callable[[], Person | None] | None) -> None:
    """Unlock the logged-in person only when something is about to be signed."""
    global _process_person, _provider
    _process_person, _provider = None, provider


@contextmanager
def acting_as(person: Person | None) -> Iterator[Person | None]:
    token = _acting.set(person)
    try:
        yield person
    finally:
        _acting.reset(token)


# ---------------------------------------------------------------- the registry (from the log)


@dataclass
class KeyRecord:
    public_hex: str
    key_id: str
    valid_from: datetime
    valid_until: datetime | None = None  # rotated or revoked at


@dataclass
class Account:
    name: str
    canonical: str
    roles: tuple[str, ...]
    registered_at: datetime
    registered_by: str
    keys: list[KeyRecord] = field(default_factory=list)
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def current_key(self) -> KeyRecord | None:
        return next((k for k in reversed(self.keys) if k.valid_until is None), None)

    def has_role(self, role: str) -> bool:
        return self.active and role in self.roles


@dataclass
class Registry:
    accounts: dict[str, Account] = field(default_factory=dict)  # canonical name -> account
    enabled_at: datetime | None = None
    enabled_id: int | None = None  # log entry id of the first registration

    def get(self, name: str) -> Account | None:
        return self.accounts.get(canonical_name(name))

    def key_at(
        self, name: str, key_id: str, at: datetime, *, skew: timedelta = timedelta(0)
    ) -> KeyRecord | None:
        """The key ``key_id`` of ``name`` if it was registered and not yet retired at ``at``.

        ``skew``: an entry dated up to this before the registration (a slower device
        clock) still counts; retirement is strict.
        """
        account = self.get(name)
        if account is None:
            return None
        at = as_utc(at)
        for key in account.keys:
            if key.key_id != key_id:
                continue
            if as_utc(key.valid_from) - skew <= at and (
                key.valid_until is None or at <= as_utc(key.valid_until)
            ):
                return key
        return None

    def roles_at(self, name: str) -> tuple[str, ...]:
        account = self.get(name)
        return account.roles if account and account.active else ()


def apply_event(registry: Registry, entry: Any) -> None:
    """Fold one ``account.*`` log entry into ``registry`` (payloads written by incident.core.accounts)."""
    try:
        payload = json.loads(entry.payload_json)
    except ValueError:
        return
    if not isinstance(payload, dict) or not isinstance(payload.get("name"), str):
        return
    at = as_utc(entry.at)
    canonical = canonical_name(payload["name"])
    account = registry.accounts.get(canonical)
    if entry.kind == "account.registered" and account is None:
        public = str(payload.get("public_key", ""))
        registry.accounts[canonical] = Account(
            name=display_name(payload["name"]),
            canonical=canonical,
            roles=tuple(r for r in payload.get("roles", []) if r in ROLES),
            registered_at=at,
            registered_by=entry.signer or entry.actor,
            keys=[KeyRecord(public, str(payload.get("key_id", "")), at)],
        )
        if registry.enabled_at is None:
            registry.enabled_at, registry.enabled_id = at, entry.id
    elif account is None:
        return
    elif entry.kind == "account.key_rotated":
        for key in account.keys:
            if key.valid_until is None:
                key.valid_until = at
        account.keys.append(KeyRecord(str(payload.get("public_key", "")), str(payload.get("key_id", "")), at))
    elif entry.kind == "account.revoked":
        account.revoked_at = at
        for key in account.keys:
            if key.valid_until is None:
                key.valid_until = at
    elif entry.kind == "account.roles_changed":
        account.roles = tuple(r for r in payload.get("roles", []) if r in ROLES)


def account_entries(session: Session) -> list[Any]:
    from sqlmodel import col, select

    from incident.core.store.tables import LogEntry

    return list(
        session.exec(
            select(LogEntry)
            .where(LogEntry.chain == "centre", col(LogEntry.kind).in_(ACCOUNT_KINDS))
            .order_by(col(LogEntry.seq))
        )
    )


def registry(session: Session) -> Registry:
    """The accounts and keys as the centre chain records them now."""
    out = Registry()
    for entry in account_entries(session):
        apply_event(out, entry)
    return out


_ENABLED: list[Any] = []
_ENABLED_KEY = "incident.signing.enabled"


def enabled(session: Session) -> bool:
    """Signing is on once the first account is registered; from then every entry is signed.

    Asked by every write (twice for one result): the answer is kept for the session's
    current transaction, and :func:`incident.core.log.append` forgets it when it logs
    an ``account.registered`` entry (the only thing that turns signing on)."""
    txn = session.get_transaction()
    kept = session.info.get(_ENABLED_KEY)
    if txn is not None and kept is not None and kept[0] is txn:
        return bool(kept[1])
    if not _ENABLED:  # the statement is built once
        from sqlmodel import select

        from incident.core.store.tables import LogEntry

        _ENABLED.append(
            select(LogEntry.id)
            .where(LogEntry.chain == "centre", LogEntry.kind == "account.registered")
            .limit(1)
        )
    on = session.exec(_ENABLED[0]).first() is not None
    txn = session.get_transaction()  # the query began one if there was none
    if txn is not None:
        session.info[_ENABLED_KEY] = (txn, on)
    return on


def forget_enabled(session: Session) -> None:
    """Drop the answer :func:`enabled` keeps (an account was just registered)."""
    session.info.pop(_ENABLED_KEY, None)
