"""Reliability commands: verify the evidence trail, back up and restore an incident, serve in a browser."""

from __future__ import annotations

import ipaddress
import socket
import sys

from incident.cli.context import add_json, engine_from, settings_from
from incident.cli.output import as_json, table
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
        "Listens on 127.0.0.1 unless --public; put it behind an authenticating reverse proxy "
        "(see docs/serve.md) before anyone else can reach it.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
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
        raise UserError(
            f"cannot read the chain head {text!r}",
            where="--head",
            fix="give SEQ:HASH, e.g. 12:3fa2… with the full 64-character hash from the export header",
        )
    return int(seq), hash_


def cmd_verify(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.evidence import verify

    head = _parse_head(args.head) if args.head else None
    if head and not args.incident:
        raise UserError(
            "--head needs an incident code", where="--head", fix="incident verify CODE --head SEQ:HASH"
        )
    with session_scope(engine_from(args)) as s:
        report = verify(s, args.incident, head=head)
    if args.json:
        as_json(report.as_dict())
        return 0 if report.ok else 1
    state = "intact" if report.ok else "BROKEN"
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
    for w in report.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return 0 if report.ok else 1


# ---------------------------------------------------------------- backup


def cmd_backup_export(args) -> int:
    from incident.core.store.engine import session_scope
    from incident.evidence import export_incident

    with session_scope(engine_from(args)) as s:
        summary = export_incident(s, args.incident, args.output, overwrite=args.force)
    print(
        f"wrote {summary['rows']} rows of {summary['code']} to {args.output}; "
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


def is_loopback(host: str) -> bool:
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
    if getattr(args, "user", None):
        parts += ["--user", args.user]
    parts += ["tui"]
    if getattr(args, "incident_code", None):
        parts.append(args.incident_code)
    return shlex.join(parts)


def build_server(args):
    if not 1 <= args.port <= 65535:
        raise UserError(f"port {args.port} is out of range", where="--port", fix="use 1024-65535, e.g. 8000")
    if not is_loopback(args.host):
        if not args.public:
            raise UserError(
                f"{args.host} is reachable from other machines and the app has no login of its own",
                where="--host",
                fix="keep the default 127.0.0.1 and put an authenticating reverse proxy in front "
                "(docs/serve.md), or add --public if the proxy runs elsewhere",
            )
        print(
            f"warning: serving on {args.host}: anyone who can reach port {args.port} can use the app "
            "and its database. Put an authenticating reverse proxy in front.",
            file=sys.stderr,
        )
    try:
        from textual_serve.server import Server
    except ImportError as exc:  # pragma: no cover - depends on install
        raise UserError(
            "textual-serve is not installed", where="incident serve", fix="pip install 'incident[serve]'"
        ) from exc
    engine_from(args)  # open (and upgrade) the database once, before any session starts
    return Server(
        tui_command(args),
        host=args.host,
        port=args.port,
        title="incident",
        public_url=args.public_url,
    )


def cmd_serve(args) -> int:  # pragma: no cover - runs until interrupted
    server = build_server(args)
    print(f"serving on http://{args.host}:{args.port} (Ctrl+C to stop)", file=sys.stderr)
    server.serve()
    return 0
