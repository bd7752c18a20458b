"""`incident serve`: the textual-serve server runs `incident tui` on the same database, loopback by default."""

from __future__ import annotations

import shlex
import sys

import pytest

from incident.cli import build_parser, main
from incident.cli.reliability import build_server, is_loopback


def parse(*argv):
    return build_parser().parse_args(list(argv))


def test_builds_a_server_on_loopback_running_the_tui(db_url):
    server = build_server(
        parse("--db", db_url, "--lang", "zh", "--user", "Li Wei", "serve", "--port", "8123")
    )
    assert (server.host, server.port) == ("127.0.0.1", 8123)
    argv = shlex.split(server.command)
    assert argv[:3] == [sys.executable, "-m", "incident"]
    assert argv[argv.index("--db") + 1] == db_url
    assert argv[argv.index("--lang") + 1] == "zh"
    assert argv[argv.index("--user") + 1] == "Li Wei"  # quoted: a name with a space stays one argument
    assert argv[-1] == "tui"


def test_opens_a_given_incident_in_each_session(db_url):
    server = build_server(parse("--db", db_url, "serve", "INC-2026-0001"))
    assert shlex.split(server.command)[-2:] == ["tui", "INC-2026-0001"]


def test_refuses_a_public_address_without_public(db_url, capsys):
    assert main(["--db", db_url, "serve", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "reverse proxy" in err and "--public" in err


def test_public_address_with_public_warns(db_url, capsys):
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
