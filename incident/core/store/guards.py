"""Database triggers that refuse UPDATE and DELETE on the log and evidence tables.

The app never changes evidence (a correction is a new row that references the
old one), so the database refuses it too: a bug, a script or a person with
``sqlite3`` gets an error instead of silently altering a logged result. The
triggers are installed by the ``reliability_1`` migration and re-installed on
every start if missing (an SQLite table rebuilt by a later migration loses its
triggers). Someone who drops them on purpose is still caught by ``incident
verify``: the hash chain, not the trigger, is the proof.

Exceptions, each narrow:
- ``result.log_seq`` and ``sample.log_seq`` are set once, in the same transaction
  that inserts the row (``log.record``), so such a row may be updated only while
  ``log_seq`` is NULL;
- a report is evidence from its release on: drafts stay editable.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

PG_FUNCTION = "incident_append_only"


@dataclass(frozen=True)
class Guard:
    table: str
    op: str  # UPDATE | DELETE | TRUNCATE (PostgreSQL only)
    when: str | None = None  # condition on OLD; the change is refused when it holds

    @property
    def name(self) -> str:
        return f"guard_{self.table}_{self.op.lower()}"


def _guards() -> list[Guard]:
    out: list[Guard] = []
    for table in ("logentry", "custodytransfer", "checkin"):
        out += [Guard(table, "UPDATE"), Guard(table, "DELETE")]
    # log.record sets log_seq once, in the inserting transaction
    for table in ("sample", "result", "forecastrecord", "resulthold", "holdreview"):
        out += [Guard(table, "UPDATE", "OLD.log_seq IS NOT NULL"), Guard(table, "DELETE")]
    out += [
        Guard("report", "UPDATE", "OLD.state = 'released'"),
        Guard("report", "DELETE", "OLD.state = 'released'"),
    ]
    return out


GUARDS = _guards()
PG_TRUNCATE_TABLES = (
    "logentry",
    "sample",
    "result",
    "custodytransfer",
    "checkin",
    "report",
    "forecastrecord",
    "resulthold",
    "holdreview",
)


def _message(guard: Guard) -> str:
    return (
        f"{guard.table} is append-only evidence: {guard.op} refused "
        "(a correction is a new row that references the old one)"
    )


def _sqlite_ddl(guard: Guard) -> str:
    when = f" WHEN {guard.when}" if guard.when else ""
    return (
        f"CREATE TRIGGER IF NOT EXISTS {guard.name} BEFORE {guard.op} ON {guard.table}{when} "
        f"BEGIN SELECT RAISE(ABORT, '{_message(guard).replace(chr(39), chr(39) * 2)}'); END"
    )


_PG_FUNCTION_DDL = f"""
CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only evidence: % refused (a correction is a new row that references the old one)',
    TG_TABLE_NAME, TG_OP USING ERRCODE = 'integrity_constraint_violation';
END
$$
"""


def _pg_ddl(guard: Guard) -> str:
    if guard.op == "TRUNCATE":
        return (
            f"CREATE TRIGGER {guard.name} BEFORE TRUNCATE ON {guard.table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()"
        )
    when = f" WHEN ({guard.when})" if guard.when else ""
    return (
        f"CREATE TRIGGER {guard.name} BEFORE {guard.op} ON {guard.table} "
        f"FOR EACH ROW{when} EXECUTE FUNCTION {PG_FUNCTION}()"
    )


def expected(dialect: str) -> list[Guard]:
    if dialect == "postgresql":
        return GUARDS + [Guard(t, "TRUNCATE") for t in PG_TRUNCATE_TABLES]
    return list(GUARDS)


def installed(conn: Connection) -> set[str]:
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'guard\\_%'")
        )
    else:
        rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
    return {r[0] for r in rows}


def missing(conn: Connection) -> list[str]:
    """Names of the guards that should be there and are not (e.g. dropped by hand).

    Only for tables that exist: an older migration (``reliability_1``) installs the guards
    of its time, and the migration that adds a table installs that table's.
    """
    from sqlalchemy import inspect

    have = installed(conn)
    tables = set(inspect(conn).get_table_names())
    return [g.name for g in expected(conn.dialect.name) if g.name not in have and g.table in tables]


def install(conn: Connection) -> list[str]:
    """Create whichever guards are missing; returns their names. Idempotent."""
    absent = set(missing(conn))
    if not absent:
        return []
    pg = conn.dialect.name == "postgresql"
    if pg:
        conn.execute(text(_PG_FUNCTION_DDL))
    for guard in expected(conn.dialect.name):
        if guard.name in absent:
            conn.execute(text(_pg_ddl(guard) if pg else _sqlite_ddl(guard)))
    return sorted(absent)


def uninstall(conn: Connection) -> None:
    pg = conn.dialect.name == "postgresql"
    for guard in expected(conn.dialect.name):
        if pg:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {guard.name} ON {guard.table}"))
        else:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {guard.name}"))
    if pg:
        conn.execute(text(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()"))


def ensure(engine: Engine) -> list[str]:
    """Re-install missing guards on start (after migrations); returns what was re-installed."""
    with engine.connect() as conn:
        if not missing(conn):
            return []
    with engine.begin() as conn:
        return install(conn)
