"""PostgreSQL: each person connects with their own login role (issue 18), on a real server.

Runs where INCIDENT_TEST_PG_URL names a server (CI starts one with .ci/pg-start; locally
``eval "$(.ci/pg-start)"``); skipped cleanly otherwise. The set-up is the SQL of
incident.core.store.pg_roles, run as the tables' owner, exactly as docs/roles.md tells an
administrator to.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import select

from incident.core.store import pg_roles
from incident.core.store.engine import open_store, session_scope
from incident.core.store.tables import LogEntry, Result
from incident.evidence import integrity
from tests.evidence.evidence import log_result
from tests.identities import acting_as, register


@pytest.fixture
def two_people_on_pg(pg_fresh_url):
    """A demo store on PostgreSQL (migrated by the owner), two accounts, each with a login role."""
    import psycopg

    from incident.demo.seed import ensure_demo

    tag = uuid.uuid4().hex[:6]
    lead, author = f"Lena Lead {tag}", f"Ann Author {tag}"
    owner = open_store(pg_fresh_url)
    code = ensure_demo(owner, actor="owner")
    people = register(owner, {lead: ["team_lead"], author: ["responder"]})
    owner.dispose()
    admin = make_url(pg_fresh_url)
    plain = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        for statement in pg_roles.group_sql(admin.database or ""):
            conn.execute(statement)
        for name in (lead, author):
            for statement in pg_roles.person_sql(name, password=f"pw-{tag}"):
                conn.execute(statement)
    urls = {
        name: admin.set(username=pg_roles.role_name(name), password=f"pw-{tag}").render_as_string(
            hide_password=False
        )
        for name in (lead, author)
    }
    yield people, urls, code, plain
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ANY(%s)",
            ([pg_roles.role_name(n) for n in urls],),
        )
        for name in urls:
            conn.execute(f'DROP ROLE IF EXISTS "{pg_roles.role_name(name)}"')


def test_each_person_connects_as_themselves_and_their_results_are_theirs(two_people_on_pg):
    import psycopg

    people, urls, code, admin = two_people_on_pg
    written: dict[str, int] = {}
    for i, (name, url) in enumerate(urls.items()):
        role = pg_roles.role_name(name)
        engine = open_store(url)  # a person's role opens the store: no upgrade, triggers all there
        try:
            with acting_as(people[name]), session_scope(engine) as s:
                user, session_user, pid = (
                    s.connection().execute(text("SELECT current_user, session_user, pg_backend_pid()")).one()
                )
                assert (user, session_user) == (role, role)
                # the server itself names who is connected
                with psycopg.connect(admin) as watch:
                    (usename,) = watch.execute(
                        "SELECT usename FROM pg_stat_activity WHERE pid = %s", (pid,)
                    ).fetchone()
                assert usename == role
                _sample, written[name] = log_result(s, code, f"S{i + 1}-R1", 0.25 + i)
        finally:
            engine.dispose()

    owner = open_store(admin)
    try:
        with session_scope(owner) as s:
            for name, result_id in written.items():
                result = s.get(Result, result_id)
                assert result is not None and result.log_seq is not None
                entry = s.exec(
                    select(LogEntry).where(
                        LogEntry.chain == f"incident:{code}", LogEntry.seq == result.log_seq
                    )
                ).one()
                # attributed to the person who wrote it: named and signed by them, not the other
                assert (entry.actor, entry.signer) == (name, name)
                assert entry.key_id == people[name].key_id
            report = integrity.verify(s)
        assert report.ok, [p.render() for p in report.problems]
        assert report.signed >= 4  # two samples and two results, each signed by its author
    finally:
        owner.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE logentry SET summary = 'edited' WHERE seq = 1",
        "DELETE FROM logentry WHERE seq = 1",
        "TRUNCATE logentry",
        "DELETE FROM result",
        "DROP TRIGGER guard_logentry_update ON logentry",
        "ALTER TABLE logentry DISABLE TRIGGER ALL",
    ],
)
def test_a_persons_role_cannot_change_the_log(two_people_on_pg, statement):
    import psycopg
    from psycopg import errors

    people, urls, code, admin = two_people_on_pg
    url = urls[next(n for n in urls if n.startswith("Ann"))]
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        (before,) = conn.execute("SELECT count(*) FROM logentry").fetchone()
        assert before > 0
        # refused by the server's privileges, before any trigger is reached
        with pytest.raises((errors.InsufficientPrivilege, errors.RaiseException)) as err:
            conn.execute(statement)
        assert isinstance(err.value, errors.InsufficientPrivilege), err.value
        (after,) = conn.execute("SELECT count(*) FROM logentry").fetchone()
        assert after == before
        # what a person may do: read and add (the app's own writes need nothing more)
        assert conn.execute("SELECT has_table_privilege('logentry', 'INSERT')").fetchone() == (True,)


def test_the_docs_give_the_sql_the_test_runs():
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "roles.md").read_text(encoding="utf-8")
    for statement in pg_roles.group_sql("incident")[1:] + pg_roles.person_sql("Li Wei", "…"):
        assert statement + ";" in docs, statement
