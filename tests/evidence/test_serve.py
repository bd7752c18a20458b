"""`incident serve`: the textual-serve server runs `incident tui` on the same database, loopback by default."""

from __future__ import annotations

import shlex
import sys

import pytest

from incident.cli import build_parser, main
from incident.cli.reliability import build_server, is_loopback


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
    from incident.cli.core import login_prompt
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
