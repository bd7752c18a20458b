"""PostgreSQL: a connection the server drops in the middle of a command (pg_terminate_backend,
as a restarted server or a cut network does). A read is tried once more; a write never silently.

Needs INCIDENT_TEST_PG_URL (CI starts PostgreSQL; locally `eval "$(.ci/pg-start)"`).
"""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from incident.cli import main
from incident.cli.shell import context


@pytest.fixture
def pg_cli(pg_fresh_url, capsys):
    """Run the CLI on a fresh PostgreSQL database: (run(*argv) -> (rc, out, err), admin connection)."""

    def run(*argv: str) -> tuple[int, str, str]:
        rc = main(["--db", pg_fresh_url, "--user", "tester", *argv])
        out = capsys.readouterr()
        return rc, out.out, out.err

    admin = psycopg.connect(pg_fresh_url, autocommit=True)
    context._engine.cache_clear()
    yield run, admin
    context._engine.cache_clear()
    admin.close()


class Cutter:
    """Kills the server side of the CLI's connection just before the next statement matching
    ``needle`` (or the next COMMIT) is sent: the statement meets a dead connection."""

    def __init__(self, admin, needle: str) -> None:
        self.admin, self.needle, self.cuts = admin, needle.lower(), 0
        self.seen: list[str] = []

    def cut(self, dbapi_connection) -> None:
        pid = dbapi_connection.info.backend_pid
        self.admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        self.cuts += 1

    def before(self, conn, cursor, statement, parameters, context_, executemany) -> None:
        self.seen.append(statement.split(None, 1)[0].upper())
        if self.cuts == 0 and self.needle != "commit" and self.needle in statement.lower():
            self.cut(conn.connection.dbapi_connection)

    def at_commit(self, conn) -> None:
        if self.cuts == 0:
            self.cut(conn.connection.dbapi_connection)

    def __enter__(self):
        event.listen(Engine, "before_cursor_execute", self.before)
        if self.needle == "commit":
            event.listen(Engine, "commit", self.at_commit)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(Engine, "before_cursor_execute", self.before)
        if self.needle == "commit":
            event.remove(Engine, "commit", self.at_commit)


def _count(admin, table: str) -> int:
    return admin.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]


NEW = ["new", "Faults PG spill", "--substance", "cadmium", "--mass-kg", "100"]


def test_a_read_that_loses_its_connection_is_tried_once_more_and_answers_once(pg_cli):
    run, admin = pg_cli
    rc, out, err = run(*NEW)
    assert rc == 0, err
    rc, expected, err = run("list")
    assert rc == 0 and "Faults PG spill" in expected
    with Cutter(admin, "from incident") as cutter:
        rc, out, err = run("list")
    assert cutter.cuts == 1  # the connection really was cut under the command
    assert rc == 0, err
    assert "lost the connection to the database server; trying this read once more" in err
    assert out == expected  # answered once, in full (the first try's output was dropped)
    assert "Traceback" not in err


def test_a_write_that_loses_its_connection_is_not_retried_and_says_nothing_was_saved(pg_cli):
    run, admin = pg_cli
    assert run(*NEW)[0] == 0
    incidents, entries = _count(admin, "incident"), _count(admin, "logentry")
    with Cutter(admin, "insert into incident") as cutter:
        rc, out, err = run("new", "Second spill", "--substance", "cadmium", "--mass-kg", "5")
    assert cutter.cuts == 1
    assert rc == 2 and out == "", err
    assert "during a write: nothing was saved" in err
    assert "trying this read once more" not in err and "Traceback" not in err
    assert cutter.seen.count("INSERT") == 1  # the write was sent once: no silent second attempt
    assert (_count(admin, "incident"), _count(admin, "logentry")) == (incidents, entries)
    # the next command gets a new connection and goes through
    rc, out, err = run("new", "Second spill", "--substance", "cadmium", "--mass-kg", "5")
    assert rc == 0, err
    assert _count(admin, "incident") == incidents + 1


def test_a_write_that_loses_its_connection_at_the_commit_says_it_may_not_be_saved(pg_cli):
    run, admin = pg_cli
    assert run(*NEW)[0] == 0
    incidents = _count(admin, "incident")
    with Cutter(admin, "commit") as cutter:
        rc, out, err = run("new", "Third spill", "--substance", "cadmium", "--mass-kg", "5")
    assert cutter.cuts == 1
    assert rc == 2 and out == "", err
    assert "may or may not have been saved" in err and "incident log" in err
    assert "trying this read once more" not in err and "Traceback" not in err
    assert _count(admin, "incident") == incidents  # the server never saw the COMMIT
