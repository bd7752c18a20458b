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
from incident.core.signing import ROLES, Account, Person, canonical_name, display_name

#: Who may do what: action -> roles allowed. docs/roles.md renders this table and
#: tests/evidence/test_roles.py checks every cell.
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "account.manage": ("team_lead",),
    "incident.open": ("responder", "team_lead"),
    "result.record": ("responder", "team_lead"),
    "report.draft": ("responder", "team_lead"),
    "report.review": ("reviewer",),
    "report.release": ("reviewer",),
    "chain.seal": ("team_lead", "reviewer"),
}
#: Roles not (yet) checked by any action: equipment managers and exercise controllers
#: are recorded so the docs and a later release can give them their own actions.

ROLE_LABELS = {
    "responder": "responder",
    "team_lead": "team lead",
    "reviewer": "reviewer",
    "equipment_manager": "equipment manager",
    "exercise_controller": "exercise controller",
}


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
            fix="log in first: `incident login NAME`",
            doing=doing,
        )
    return person, signing.registry(session)


def may(roles: tuple[str, ...], action: str) -> bool:
    return any(r in PERMISSIONS[action] for r in roles)


def require(session: Session, action: str) -> Person | None:
    """The person acting, if their roles allow ``action``; None while signing is off (legacy store)."""
    if not signing.enabled(session):
        return None
    person, reg = _acting(session, action)
    roles = reg.roles_at(person.name)
    if not may(roles, action):
        allowed = " or ".join(ROLE_LABELS[r] for r in PERMISSIONS[action])
        raise UserError(
            "errors.accounts.may_not",
            name=person.name,
            roles=", ".join(ROLE_LABELS[r] for r in roles) or "no active role",
            action=action.replace(".", " "),
            allowed=allowed,
            where=action,
            fix="ask a person with that role, or a team lead to give you the role "
            "(`incident account roles NAME ROLE...`)",
        )
    return person


def register_account(session: Session, name: str, roles: list[str], public_hex: str) -> AccountInfo:
    """Register ``name`` with ``roles`` and a public key; signed by the person acting.

    The first account of a store is self-registered (the person acting is the new
    account, holding its private key) and must include the team lead role.
    """
    shown = display_name(name)
    if not canonical_name(shown):
        raise UserError("errors.accounts.no_name", where="NAME", fix="give the person's name")
    roles_t = check_roles(roles)
    key_id = signing.key_id_of(public_hex)
    reg = signing.registry(session)
    person = signing.current()
    bootstrap = not reg.accounts
    if bootstrap:
        if person is None or person.public_hex != public_hex:
            raise UserError(
                "errors.accounts.bootstrap_self",
                where="account add",
            )
        if "team_lead" not in roles_t:
            raise UserError(
                "errors.accounts.bootstrap_lead",
                where="--role",
                fix="add --role team_lead",
            )
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
            fix="use a distinguishing name (e.g. add the unit), or rotate that account's key",
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
        raise UserError("errors.accounts.no_active", where="NAME", fix="`incident account list`", name=name)
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
        raise UserError("errors.accounts.no_active", where="NAME", fix="`incident account list`", name=name)
    if canonical_name(person.name) != account.canonical:
        require(session, "account.manage")
    if not reason.strip():
        raise UserError("errors.accounts.no_reason", where="--reason", fix='e.g. --reason "laptop lost"')
    leads = [a for a in reg.accounts.values() if a.has_role("team_lead") and a.canonical != account.canonical]
    if "team_lead" in account.roles and not leads:
        raise UserError(
            "errors.accounts.last_lead",
            name=account.name,
            fix="give another account the team lead role first",
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
        raise UserError("errors.accounts.no_active", where="NAME", fix="`incident account list`", name=name)
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
