"""People and seals: log in, manage accounts and keys, seal chain heads and countersign them."""

from __future__ import annotations

from typing import Any

from incident.cli.shell import add_json, as_json, engine_from, settings_from, table
from incident.core.errors import UserError
from incident.core.files import file_path


def register(sub) -> None:
    p = sub.add_parser(
        "login",
        help="act as NAME from now on: unlocks your key (keyring or passphrase) and checks it is registered",
    )
    p.add_argument("name", metavar="NAME", help="your account name")
    p.set_defaults(handler=cmd_login)
    p = sub.add_parser("logout", help="forget who this machine acts as")
    p.set_defaults(handler=cmd_logout)
    p = sub.add_parser("whoami", help="the person this machine acts as, their roles and key")
    add_json(p)
    p.set_defaults(handler=cmd_whoami)

    p = sub.add_parser("account", help="accounts: add, list, rotate a key, revoke, change roles")
    asub = p.add_subparsers(dest="account_action", metavar="ACTION", required=True)
    q = asub.add_parser(
        "add",
        help="register a person (the first account registers itself and must be a team lead)",
        description="Creates NAME's Ed25519 key on this machine (OS keyring, else a file protected by a "
        "passphrase: asked for, or $INCIDENT_PASSPHRASE) unless --public-key gives the key made on "
        "their own machine (`incident account keygen`). Signed by the logged-in team lead.",
    )
    q.add_argument("name", metavar="NAME", help='the person\'s name, e.g. "Li Wei"')
    q.add_argument(
        "--role",
        action="append",
        required=True,
        help="responder, team_lead, reviewer, equipment_manager or exercise_controller (repeat for more)",
    )
    q.add_argument("--public-key", metavar="HEX", help="their public key, from `incident account keygen`")
    q.set_defaults(handler=cmd_account_add)
    q = asub.add_parser("keygen", help="make NAME's key on this machine and print the public key to register")
    q.add_argument("name", metavar="NAME", help="your account name")
    q.set_defaults(handler=cmd_account_keygen)
    q = asub.add_parser("list", help="every account, its roles and current key")
    add_json(q)
    q.set_defaults(handler=cmd_account_list)
    q = asub.add_parser(
        "rotate", help="replace a key (yours by default); signed by the old key or a team lead"
    )
    q.add_argument("name", metavar="NAME", nargs="?", help="whose key (default: yours)")
    q.set_defaults(handler=cmd_account_rotate)
    q = asub.add_parser("revoke", help="revoke an account: its key signs nothing from now on")
    q.add_argument("name", metavar="NAME", help="the account to revoke")
    q.add_argument("--reason", required=True, help='why, e.g. "laptop lost"')
    q.set_defaults(handler=cmd_account_revoke)
    q = asub.add_parser("roles", help="set an account's roles (team leads only)")
    q.add_argument("name", metavar="NAME", help="the account")
    q.add_argument("roles", nargs="+", metavar="ROLE", help="its roles from now on (all of them)")
    q.set_defaults(handler=cmd_account_roles)

    p = sub.add_parser(
        "seal",
        help="seal chain heads (signed) into a file to keep outside the store; `seal countersign FILE`",
        description="Writes the head (sequence, hash, time) of every chain, or one incident's, signed by "
        "you, to FILE. Keep FILE elsewhere (e-mail, paper, an RFC 3161 timestamp: docs/evidence.md); "
        "`incident verify --sealed FILE` then proves the chain still passes through each head.",
    )
    p.add_argument("target", nargs="?", metavar="INCIDENT|countersign", help="incident code, or countersign")
    p.add_argument("file", nargs="?", metavar="FILE", help="with countersign: the seal file to countersign")
    p.add_argument("-o", "--output", metavar="FILE", help="seal file to write (JSON)")
    p.set_defaults(handler=cmd_seal)


def _person_line(info) -> dict:
    return {
        "name": info.name,
        "roles": ", ".join(info.roles),
        "key": info.key_id or "—",
        "keys": info.keys,
        "registered": info.registered_at.isoformat(timespec="seconds"),
        "by": info.registered_by,
        "revoked": info.revoked_at.isoformat(timespec="seconds") if info.revoked_at else "",
    }


def cmd_login(args) -> int:
    from incident.core import keystore, signing
    from incident.core.store.engine import session_scope

    engine = engine_from(args)
    person = keystore.unlock(args.name)
    with session_scope(engine) as s:
        reg = signing.registry(s)
    account = reg.get(person.name)
    if account is None or reg.key_at(person.name, person.key_id, _now()) is None:
        raise UserError(
            "errors.keys.not_registered_here",
            name=person.name,
            key=person.key_id,
            where=args.name,
        )
    keystore.remember_login(account.name)
    print(f"logged in as {account.name} ({', '.join(account.roles)}), key {person.key_id}")
    return 0


def _now():
    from incident.core.clock import utcnow

    return utcnow()


def cmd_logout(args) -> int:
    from incident.core import keystore

    keystore.remember_login(None)
    print("logged out")
    return 0


def cmd_whoami(args) -> int:
    from incident.core import signing
    from incident.core.store.engine import session_scope

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        account = signing.registry(s).get(settings.user)
        enabled = signing.enabled(s)
    data: dict[str, Any] = {
        "name": settings.user,
        "registered": account is not None,
        "roles": list(account.roles) if account else [],
        "key": account.current_key.key_id if account and account.current_key else None,
        "signing_enabled": enabled,
    }
    if getattr(args, "json", False):
        as_json(data)
    else:
        state = "registered" if account else "not registered in this database"
        print(f"{settings.user}: {state}; roles {', '.join(data['roles']) or '—'}; key {data['key'] or '—'}")
        if not enabled:
            print(
                "signing is off in this database (no account yet): `incident account add NAME --role team_lead`"
            )
    return 0


def _new_key(name: str):
    from incident.core import keystore, signing

    person = signing.Person(signing.display_name(name), signing.new_private_key())
    secret = (
        None
        if keystore._keyring()
        else keystore.passphrase(confirm=True, prompt=f"new passphrase for {name}: ")
    )
    where = keystore.store(name, person, secret)
    return person, where


def cmd_account_keygen(args) -> int:
    person, where = _new_key(args.name)
    print(f"key for {person.name} kept in {where}")
    print(f"public key (give it to a team lead): {person.public_hex}")
    return 0


def cmd_account_add(args) -> int:
    from incident.core import accounts, keystore, signing
    from incident.core.store.engine import session_scope

    engine = engine_from(args)
    with session_scope(engine) as s:
        bootstrap = not signing.registry(s).accounts
    if args.public_key:
        public_hex = args.public_key.strip().lower()
        if len(public_hex) != 64 or any(c not in "0123456789abcdef" for c in public_hex):
            raise UserError("errors.keys.not_public_key", where="--public-key")
        person = None
    else:
        person, where = _new_key(args.name)
        public_hex = person.public_hex
        print(f"key for {person.name} kept in {where}")
    acting = person if bootstrap else signing.current()
    if bootstrap and person is None:
        raise UserError("errors.accounts.bootstrap_self", where="--public-key")
    with signing.acting_as(acting), session_scope(engine) as s:
        info = accounts.register_account(s, args.name, args.role, public_hex)
    if bootstrap:
        keystore.remember_login(info.name)
    print(f"registered {info.name} ({', '.join(info.roles)}), key {info.key_id}")
    return 0


def cmd_account_list(args) -> int:
    from incident.core import accounts
    from incident.core.store.engine import session_scope

    with session_scope(engine_from(args)) as s:
        rows = [_person_line(a) for a in accounts.list_accounts(s)]
    if args.json:
        as_json(rows)
    else:
        table(rows, ["name", "roles", "key", "keys", "registered", "by", "revoked"])
    return 0


def cmd_account_rotate(args) -> int:
    from incident.core import accounts
    from incident.core.store.engine import session_scope

    settings = settings_from(args)
    name = args.name or settings.user
    engine = engine_from(args)
    from incident.core import signing

    signing.current()  # unlock the old key first (it signs the rotation)
    person, where = _new_key(name)
    with session_scope(engine) as s:
        info = accounts.rotate_key(s, name, person.public_hex)
    print(f"{info.name}: new key {info.key_id} ({where}); the old key signs nothing from now on")
    return 0


def cmd_account_revoke(args) -> int:
    from incident.core import accounts
    from incident.core.store.engine import session_scope

    with session_scope(engine_from(args)) as s:
        info = accounts.revoke_account(s, args.name, reason=args.reason)
    print(f"revoked {info.name}")
    return 0


def cmd_account_roles(args) -> int:
    from incident.core import accounts
    from incident.core.store.engine import session_scope

    with session_scope(engine_from(args)) as s:
        info = accounts.set_roles(s, args.name, args.roles)
    print(f"{info.name}: {', '.join(info.roles)}")
    return 0


def cmd_seal(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.evidence import countersign_file, seal_heads, write_seal_file

    engine = engine_from(args)
    if args.target == "countersign":
        if not args.file:
            raise UserError("errors.seal.which_file", where="FILE")
        with session_scope(engine) as s:
            n = countersign_file(s, args.file)
        print(f"countersigned {n} sealed head(s) in {args.file}")
        return 0
    if not args.output:
        raise UserError("errors.seal.no_output", where="-o")
    file_path(args.output, where="-o")  # a folder: refused before sealing, so that no seal is left behind
    with session_scope(engine) as s:
        seals = seal_heads(s, args.target)
    write_seal_file(args.output, seals)
    for seal in seals:
        print(seal.text())
    print(f"wrote {len(seals)} sealed head(s) to {args.output}; keep it outside this store")
    return 0
