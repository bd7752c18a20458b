"""`incident serve`: the textual-serve server runs `incident tui` on the same database, loopback by default."""

from __future__ import annotations

import shlex
import sys

import pytest

from incident.cli import build_parser, main
from incident.cli.evidence.reliability import build_server, is_loopback


def parse(*argv):
    return build_parser().parse_args(list(argv))


def test_builds_a_server_on_loopback_running_the_tui(db_url, people):
    server = build_server(
        parse("--db", db_url, "--lang", "zh", "--user", "Li Wei", "serve", "--port", "8123")
    )
    assert (server.host, server.port) == ("127.0.0.1", 8123)
    argv = shlex.split(server.command)
    assert argv[:3] == [sys.executable, "-m", "incident"]
    assert argv[argv.index("--db") + 1] == db_url
    assert argv[argv.index("--lang") + 1] == "zh"
    # each browser session logs in as its own person: never the operator's --user
    assert "--user" not in argv and argv[-2:] == ["tui", "--login"]


def test_opens_a_given_incident_in_each_session(db_url, people):
    server = build_server(parse("--db", db_url, "serve", "INC-2026-0001"))
    assert shlex.split(server.command)[-3:] == ["tui", "--login", "INC-2026-0001"]


def test_serve_refuses_a_store_without_accounts(db_url, capsys):
    assert main(["--db", db_url, "serve"]) == 2
    assert "needs accounts" in capsys.readouterr().err


def test_a_served_session_logs_in_with_an_account_and_its_passphrase(engine, people, monkeypatch, capsys):
    from incident.cli.core.commands import login_prompt
    from incident.core import keystore, signing
    from incident.core.errors import UserError

    keystore.store("Rita Reviewer", people["Rita Reviewer"], "a long passphrase")
    monkeypatch.setenv("INCIDENT_PASSPHRASE", "a long passphrase")
    answers = iter(["Nobody Here", "Rita  Reviewer"])
    assert login_prompt(engine, read=lambda _prompt: next(answers)) == "Rita Reviewer"
    assert signing.current().key_id == people["Rita Reviewer"].key_id
    assert "no key for 'Nobody Here'" in capsys.readouterr().err
    monkeypatch.setenv("INCIDENT_PASSPHRASE", "wrong passphrase")
    with pytest.raises(UserError, match="wrong passphrase"):
        login_prompt(engine, read=lambda _prompt: "Rita Reviewer")


def test_refuses_a_public_address_without_public(db_url, capsys):
    assert main(["--db", db_url, "serve", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "reverse proxy" in err and "--public" in err


def test_public_address_with_public_warns(db_url, people, capsys):
    server = build_server(
        parse(
            "--db",
            db_url,
            "serve",
            "--host",
            "0.0.0.0",
            "--public",
            "--public-url",
            "https://incident.example.org",
        )
    )
    assert server.host == "0.0.0.0" and server.public_url == "https://incident.example.org"
    assert "warning" in capsys.readouterr().err


@pytest.mark.parametrize(
    "host, loopback",
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.168.1.5", False),
    ],
)
def test_loopback_detection(host, loopback):
    assert is_loopback(host) is loopback


def test_bad_port_is_refused(db_url, capsys):
    assert main(["--db", db_url, "serve", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err


def test_a_served_session_cannot_log_in_with_a_key_this_store_does_not_know(
    engine, people, monkeypatch, capsys
):
    """The same accounts: a key for a name that is not an account here, or a retired key, is refused."""
    from incident.cli.core.commands import login_prompt
    from incident.core import accounts, keystore, signing
    from incident.core.errors import UserError
    from incident.core.store.engine import session_scope
    from tests.identities import new_person

    monkeypatch.setenv("INCIDENT_PASSPHRASE", "a long passphrase")
    keystore.store("Olga Outsider", new_person("Olga Outsider"), "a long passphrase")  # no account here
    with pytest.raises(UserError, match="no active account"):
        login_prompt(engine, read=lambda _prompt: "Olga Outsider")
    keystore.store("Ann Author", people["Ann Author"], "a long passphrase")
    with signing.acting_as(people["Lena Lead"]), session_scope(engine) as s:
        accounts.revoke_account(s, "Ann Author", reason="laptop lost")
    with pytest.raises(UserError, match="no active account"):
        login_prompt(engine, read=lambda _prompt: "Ann Author")
    assert signing.current() is None


def test_a_served_session_that_does_not_log_in_never_reaches_the_app(db_url, people):
    """What each browser session runs (`incident tui --login`): three wrong answers, and it exits
    with the refusal before any screen is drawn."""
    import subprocess

    server = build_server(parse("--db", db_url, "serve"))
    proc = subprocess.run(
        shlex.split(server.command),
        input="Nobody Here\nLena  Lead\nRita Reviewer\n",  # no key on this machine for any of them
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("no key") >= 3 and "Traceback" not in proc.stderr
    assert "\x1b[?1049h" not in proc.stdout  # the terminal's alternate screen: the TUI never started


def _listening(port: int) -> list[str]:
    """Local addresses listening on ``port`` (Linux /proc/net/tcp and tcp6), as printed IPs."""
    import ipaddress
    from pathlib import Path

    out = []
    for name in ("tcp", "tcp6"):
        path = Path("/proc/net") / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            host_hex, port_hex = local.split(":")
            if state != "0A" or int(port_hex, 16) != port:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(host_hex)
            # the kernel prints each 32-bit word in host (little-endian) order
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            out.append(str(ipaddress.ip_address(raw)))
    return out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the listening sockets from /proc/net")
def test_serve_really_listens_on_loopback_only(db_url, people):
    import socket
    import subprocess
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "incident", "--db", db_url, "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        addresses: list[str] = []
        while time.monotonic() < deadline and not addresses:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            addresses = _listening(port)
            time.sleep(0.5)
        assert addresses == ["127.0.0.1"], addresses
        with socket.create_connection(("127.0.0.1", port), timeout=10):
            pass  # and it answers there
    finally:
        proc.terminate()
        proc.wait(timeout=30)
