"""Accounts: register, rotate, revoke; roles and the checks of who may do what.

Every change is a signed entry of the centre chain (``account.*``), and the
registry of keys is folded from those entries (:mod:`incident.core.signing`),
so the accounts cannot be edited apart from the log. The first account of a
store registers itself (a self-signed entry) and must be a team lead: from then
on only a team lead registers people or changes roles, and every log entry is
signed. The table of who may do what is :data:`PERMISSIONS` (docs/roles.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from incident.core import log, signing
from incident.core.errors import UserError
from incident.core.i18n import t
from incident.core.signing import ROLES, Account, Person, canonical_name, display_name

#: Who may do what: action -> roles allowed. The one source of truth: the use cases
#: call :func:`require` with these names, docs/roles.md holds :func:`permissions_table`
#: (tests/evidence/test_roles.py checks it is up to date) and the same test tries
#: every cell (action × role) through the real use case.
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "account.manage": ("team_lead",),
    "incident.open": ("responder", "team_lead"),
    "result.record": ("responder", "team_lead"),
    "report.draft": ("responder", "team_lead"),
    "report.review": ("reviewer",),
    "report.release": ("reviewer",),
    "chain.seal": ("team_lead", "reviewer"),
    "equipment.update": ("equipment_manager",),
    "equipment.calibrate": ("equipment_manager",),
    "drill.control": ("exercise_controller",),
    "drill.inject": ("exercise_controller",),
}

#: What each action covers, in the words of docs/roles.md (the use-case functions that check it).
ACTION_TEXT: dict[str, str] = {
    "account.manage": "register people, change roles, revoke",
    "incident.open": "open an incident",
    "result.record": "record a result",
    "report.draft": "draft, edit or revise a report",
    "report.review": "review a report",
    "report.release": "release a report",
    "chain.seal": "seal chain heads",
    "equipment.update": "load or import the inventory, move stock, record maintenance",
    "equipment.calibrate": "record a calibration",
    "drill.control": "start a drill, change or pause its clock, ENDEX",
    "drill.inject": "deliver a drill's due injects",
}


def role_label(role: str) -> str:
    """A role as the reader names it (``team_lead`` → "team lead", "队长")."""
    return t(f"accounts.role.{role}")


@dataclass
class AccountInfo:
    name: str
    roles: tuple[str, ...]
    key_id: str | None
    registered_at: datetime
    registered_by: str
    revoked_at: datetime | None
    keys: int


def _info(account: Account) -> AccountInfo:
    key = account.current_key
    return AccountInfo(
        account.name,
        account.roles,
        key.key_id if key else None,
        account.registered_at,
        account.registered_by,
        account.revoked_at,
        len(account.keys),
    )


def check_roles(roles: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    clean = tuple(dict.fromkeys(r.strip().lower().replace(" ", "_").replace("-", "_") for r in roles))
    unknown = [r for r in clean if r not in ROLES]
    if unknown or not clean:
        raise UserError(
            "errors.accounts.unknown_roles" if unknown else "errors.accounts.no_role",
            where="--role",
            roles=", ".join(unknown),
            known=", ".join(ROLES),
        )
    return clean


def _acting(session: Session, doing: str) -> tuple[Person, signing.Registry]:
    person = signing.current()
    if person is None:
        raise UserError(
            "errors.accounts.nobody_logged_in",
            where=doing,
            doing=doing,
        )
    return person, signing.registry(session)


def may(roles: tuple[str, ...], action: str) -> bool:
    return any(r in PERMISSIONS[action] for r in roles)


def allows(session: Session, action: str) -> bool:
    """Whether the person acting may do ``action`` (always, while signing is off), without refusing."""
    if not signing.enabled(session):
        return True
    person = signing.current()
    return person is not None and may(signing.registry(session).roles_at(person.name), action)


def permissions_table() -> str:
    """The table of who may do what, as Markdown (docs/roles.md holds it verbatim)."""
    roles = list(ROLES)
    lines = [
        "| Action | " + " | ".join(roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for action, allowed in PERMISSIONS.items():
        cells = ["**yes**" if r in allowed else "no" for r in roles]
        lines.append(f"| {ACTION_TEXT[action]} (`{action}`) | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def require(session: Session, action: str) -> Person | None:
    """The person acting, if their roles allow ``action``; None while signing is off (legacy store)."""
    if not signing.enabled(session):
        return None
    person, reg = _acting(session, action)
    roles = reg.roles_at(person.name)
    if not may(roles, action):
        raise UserError(
            "errors.accounts.may_not",
            name=person.name,
            roles=", ".join(role_label(r) for r in roles) or t("accounts.no_role"),
            action=t(f"accounts.action.{action.replace('.', '_')}"),
            allowed=t("accounts.or").join(role_label(r) for r in PERMISSIONS[action]),
            where=action,
        )
    return person


def register_account(session: Session, name: str, roles: list[str], public_hex: str) -> AccountInfo:
    """Register ``name`` with ``roles`` and a public key; signed by the person acting.

    The first account of a store is self-registered (the person acting is the new
    account, holding its private key) and must include the team lead role.
    """
    shown = display_name(name)
    if not canonical_name(shown):
        raise UserError("errors.accounts.no_name", where="NAME")
    roles_t = check_roles(roles)
    key_id = signing.key_id_of(public_hex)
    reg = signing.registry(session)
    person = signing.current()
    bootstrap = not reg.accounts
    if bootstrap:
        if person is None or person.public_hex != public_hex:
            raise UserError("errors.accounts.bootstrap_self", where="account add")
        if "team_lead" not in roles_t:
            raise UserError("errors.accounts.bootstrap_lead", where="--role")
    else:
        require(session, "account.manage")
    existing = reg.get(shown)
    if existing is not None:
        state = "revoked" if not existing.active else "registered"
        raise UserError(
            "errors.accounts.same_identity",
            name=shown,
            state=state,
            existing=existing.name,
            where="NAME",
        )
    if any(k.key_id == key_id for a in reg.accounts.values() for k in a.keys):
        raise UserError("errors.accounts.key_taken", where="key")
    log.append(
        session,
        chain=log.CENTRE_CHAIN,
        actor=shown,
        kind="account.registered",
        summary=f"Account {shown} registered ({', '.join(roles_t)}), key {key_id}",
        payload={"name": shown, "roles": list(roles_t), "public_key": public_hex, "key_id": key_id},
        registering=bootstrap,
    )
    account = signing.registry(session).get(shown)
    assert account is not None
    return _info(account)


def rotate_key(session: Session, name: str, new_public_hex: str) -> AccountInfo:
    """Replace ``name``'s key: signed by the account's current key, or by a team lead."""
    person, reg = _acting(session, "account rotate")
    account = reg.get(name)
    if account is None or not account.active:
        raise UserError("errors.accounts.no_active", where="NAME", name=name)
    if canonical_name(person.name) != account.canonical:
        require(session, "account.manage")
    key_id = signing.key_id_of(new_public_hex)
    log.append(
        session,
        chain=log.CENTRE_CHAIN,
        actor=person.name,
        kind="account.key_rotated",
        summary=f"Key of {account.name} rotated to {key_id}",
        payload={"name": account.name, "public_key": new_public_hex, "key_id": key_id},
    )
    return _info(signing.registry(session).accounts[account.canonical])


def revoke_account(session: Session, name: str, *, reason: str) -> AccountInfo:
    """Revoke ``name``: their key signs nothing from now on (earlier entries stay valid)."""
    person, reg = _acting(session, "account revoke")
    account = reg.get(name)
    if account is None or not account.active:
        raise UserError("errors.accounts.no_active", where="NAME", name=name)
    if canonical_name(person.name) != account.canonical:
        require(session, "account.manage")
    if not reason.strip():
        raise UserError("errors.accounts.no_reason", where="--reason")
    leads = [a for a in reg.accounts.values() if a.has_role("team_lead") and a.canonical != account.canonical]
    if "team_lead" in account.roles and not leads:
        raise UserError(
            "errors.accounts.last_lead",
            name=account.name,
        )
    log.append(
        session,
        chain=log.CENTRE_CHAIN,
        actor=person.name,
        kind="account.revoked",
        summary=f"Account {account.name} revoked: {reason.strip()}",
        payload={"name": account.name, "reason": reason.strip()},
    )
    return _info(signing.registry(session).accounts[account.canonical])


def set_roles(session: Session, name: str, roles: list[str]) -> AccountInfo:
    require(session, "account.manage")
    reg = signing.registry(session)
    account = reg.get(name)
    if account is None or not account.active:
        raise UserError("errors.accounts.no_active", where="NAME", name=name)
    roles_t = check_roles(roles)
    person = signing.current()
    assert person is not None
    log.append(
        session,
        chain=log.CENTRE_CHAIN,
        actor=person.name,
        kind="account.roles_changed",
        summary=f"Roles of {account.name}: {', '.join(roles_t)}",
        payload={"name": account.name, "roles": list(roles_t)},
    )
    return _info(signing.registry(session).accounts[account.canonical])


def list_accounts(session: Session) -> list[AccountInfo]:
    return [_info(a) for a in signing.registry(session).accounts.values()]


def same_person(session: Session, a: str | None, b: str | None) -> bool:
    """Whether two recorded names are one identity (canonical names; accounts are unique by it)."""
    return bool(a) and bool(b) and canonical_name(a or "") == canonical_name(b or "")
