"""Reliability commands: verify the evidence trail, back up and restore an incident, serve in a browser."""

from __future__ import annotations

import sys
from pathlib import Path

from incident.cli.shell import add_json, as_json, engine_from, settings_from, table, whole
from incident.core.errors import UserError


def register(sub) -> None:
    p = sub.add_parser(
        "verify",
        help="check the hash-chained log and every evidence row against it (exit 1 if anything is broken)",
        description="Recompute every log chain (or one incident's) and compare every sample, result, "
        "custody transfer, check-in and released report with the digest the log committed to. "
        "Names the first broken entry or row. Exit 0 intact, 1 broken.",
    )
    p.add_argument("incident", nargs="?", help="incident code (default: every chain in the database)")
    p.add_argument(
        "--head",
        metavar="SEQ:HASH",
        help="a chain head recorded elsewhere (an export or backup header); checks it is still in the chain",
    )
    p.add_argument(
        "--sealed",
        action="append",
        metavar="FILE",
        help="a seal file (`incident seal`, report releases): proves the chain still passes through "
        "every sealed head and that each seal is genuinely signed (repeat for several files)",
    )
    add_json(p)
    p.set_defaults(handler=cmd_verify)

    p = sub.add_parser("backup", help="export an incident with its log chain to one file, or import one")
    bsub = p.add_subparsers(dest="backup_action", metavar="ACTION", required=True)
    q = bsub.add_parser("export", help="write one incident, all its rows and its log chain to a file")
    q.add_argument("incident", help="incident code, e.g. INC-2026-0001")
    q.add_argument("-o", "--output", required=True, metavar="FILE", help="file to write (JSON lines)")
    q.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    q.set_defaults(handler=cmd_backup_export)
    q = bsub.add_parser(
        "import",
        help="verify a backup file's chain and evidence, then load it into this database",
    )
    q.add_argument("file", metavar="FILE", help="a file written by `incident backup export` (JSON lines)")
    add_json(q)
    q.set_defaults(handler=cmd_backup_import)

    p = sub.add_parser(
        "serve",
        help="serve the terminal UI in a web browser (textual-serve), on this machine only by default",
        description="Each browser tab runs its own `incident tui` process on the same database. "
        "Each session asks for an account and its passphrase (the same accounts as the CLI: "
        "`incident account add`) and acts as that person. Listens on 127.0.0.1 unless --public; "
        "beyond this machine put it behind a TLS reverse proxy (docs/serve.md).",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=whole(), default=8000, help="port (default 8000)")
    p.add_argument(
        "--public",
        action="store_true",
        help="allow a non-loopback --host: anyone who reaches the port gets the app, so only behind a proxy",
    )
    p.add_argument("--public-url", help="URL the browser uses when behind a reverse proxy")
    p.add_argument("incident_code", nargs="?", metavar="INCIDENT", help="incident to open in each session")
    p.set_defaults(handler=cmd_serve, stream_output=True)


# ---------------------------------------------------------------- verify


def _parse_head(text: str) -> tuple[int, str]:
    seq, _, hash_ = text.partition(":")
    hash_ = hash_.strip().lower()
    if not seq.strip().isdigit() or len(hash_) != 64 or any(c not in "0123456789abcdef" for c in hash_):
        raise UserError("errors.cli.cannot_read_chain_head", field="head", text=repr(text))
    return int(seq), hash_


def cmd_verify(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.evidence import verify

    head = _parse_head(args.head) if args.head else None
    if head and not args.incident:
        raise UserError("errors.cli.head_needs_incident_code", field="head")
    sealed = None
    if args.sealed:
        from incident.evidence import read_seal_file

        sealed = [seal for path in args.sealed for seal in read_seal_file(path)]
    from incident.reports import photo_file_problems

    with session_scope(engine_from(args)) as s:
        report = verify(s, args.incident, head=head, sealed=sealed)
        photos = photo_file_problems(s, args.incident)  # kept photos against the SHA-256 the log holds
    ok = report.ok and not photos
    if args.json:
        as_json({**report.as_dict(), "ok": ok, "photo_files": photos})
        return 0 if ok else 1
    state = "intact" if ok else "BROKEN"
    print(f"verify {report.scope}: {state}")
    if report.first_problem:
        print(f"first problem: {report.first_problem.render()}")
    table(
        [
            {
                "chain": c.chain,
                "entries": c.entries,
                "ok": c.ok,
                "head": f"seq {c.head_seq} {c.head_hash[:16]}",
            }
            for c in report.chains
        ],
        ["chain", "entries", "ok", "head"],
    )
    print("evidence rows checked: " + ", ".join(f"{k} {v}" for k, v in report.rows_checked.items()))
    if len(report.problems) > 1:
        print(f"{len(report.problems)} problems:")
        for p in report.problems:
            print(f"- {p.render()}")
    print(f"signed entries: {report.signed}; legacy unsigned: {report.legacy_unsigned}")
    if report.seals_checked:
        print(f"sealed heads checked: {report.seals_checked}")
    for gap in report.protection_gaps:
        print(f"protection gap: {gap.render()}")
    for note in report.notes:
        print(f"note: {note}")
    for problem in photos:
        print(f"photo file: {problem}")
    for w in report.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return 0 if ok else 1


# ---------------------------------------------------------------- backup


def cmd_backup_export(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.evidence import export_incident

    with session_scope(engine_from(args)) as s:
        summary = export_incident(s, args.incident, args.output, overwrite=args.force)
    print(
        f"wrote {summary['rows']} rows of {summary['code']} to {summary['file']}; "
        f"chain head seq {summary['head']['seq']} {summary['head']['hash']}"
    )
    return 0


def cmd_backup_import(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.evidence import import_backup

    settings = settings_from(args)
    with session_scope(engine_from(args)) as s:
        summary = import_backup(s, args.file, actor=settings.user)
    if args.json:
        as_json(summary)
    else:
        print(
            f"imported {summary['code']}: {summary['inserted']} rows written, {summary['reused']} shared rows "
            f"already present; chain verified to seq {summary['head']['seq']}"
        )
    return 0


# ---------------------------------------------------------------- serve


SERVE_TEMPLATES = Path(__file__).resolve().parent / "serve"


def is_loopback(host: str) -> bool:
    import ipaddress
    import socket

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return all(
                ipaddress.ip_address(info[4][0]).is_loopback for info in socket.getaddrinfo(host, None)
            )
        except OSError:
            return False


def tui_command(args) -> str:
    """The command each browser session runs: this Python, the same database, language and user."""
    import shlex

    settings = settings_from(args)
    parts = [sys.executable, "-m", "incident", "--db", settings.db_url, "--lang", settings.lang]
    # never the operator's --user: each browser session logs in with its own account
    parts += ["tui", "--login"]
    if getattr(args, "incident_code", None):
        parts.append(args.incident_code)
    return shlex.join(parts)


def build_server(args):
    if not 1 <= args.port <= 65535:
        raise UserError("errors.cli.port_out_range", field="port", port=args.port)
    if not is_loopback(args.host):
        if not args.public:
            raise UserError("errors.cli.reachable_other_machines_app", field="host", host=args.host)
        print(
            f"warning: serving on {args.host}: anyone who can reach port {args.port} can use the app "
            "and its database. Put an authenticating reverse proxy in front.",
            file=sys.stderr,
        )
    try:
        from textual_serve.server import Server
    except ImportError as exc:  # pragma: no cover - depends on install
        raise UserError("errors.cli.textual_serve_not_installed", where="incident serve") from exc
    engine = engine_from(args)  # open (and upgrade) the database once, before any session starts
    from incident.core import signing
    from incident.core.store.engine import session_scope

    with session_scope(engine) as s:
        if not signing.registry(s).accounts:
            raise UserError("errors.login.serve_needs_accounts", where="incident serve")
    return Server(
        tui_command(args),
        host=args.host,
        port=args.port,
        title="incident",
        public_url=args.public_url,
        # our page template: textual-serve's, with the web font served locally (offline)
        templates_path=SERVE_TEMPLATES,
    )


def cmd_serve(args) -> int:  # pragma: no cover - runs until interrupted
    server = build_server(args)
    print(f"serving on http://{args.host}:{args.port} (Ctrl+C to stop)", file=sys.stderr)
    server.serve()
    return 0
