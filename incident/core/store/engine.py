"""One engine per app, from a factory; schema upgraded by Alembic on start.

SQLite pragmas are per connection, so they live in a ``connect`` listener:
foreign keys on, WAL (several processes may share the file: textual-serve,
two terminals), a generous busy timeout so writers queue instead of failing,
and synchronous=FULL because a logged result is evidence and must survive a
power cut, not only a crash.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from incident.core.errors import UserError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: The newest Alembic revision. Start-up compares the database with this and
#: skips loading Alembic when they match; tests check it equals the script head.
SCHEMA_HEAD = "perf_1"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # pragma: no cover - exercised via every test
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # FULL: a committed result survives power loss, not just a process crash.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _sqlite_begin(conn) -> None:
    # Take the write lock at BEGIN so that read-then-write transactions (the
    # log chain head) never deadlock or fail with "database is locked" midway.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create the engine for ``url`` (an SQLite file or a PostgreSQL URL)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        event.listen(engine, "connect", _sqlite_pragmas)

        # Let SQLAlchemy, not pysqlite, control transactions so BEGIN IMMEDIATE applies.
        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_connection, _record):  # pragma: no cover
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn):  # pragma: no cover
            _sqlite_begin(conn)

        return engine
    if url.startswith("postgresql+"):
        try:
            import psycopg  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on install
            raise UserError(
                "PostgreSQL support is not installed",
                where="--db",
                fix="pip install 'incident[postgres]'",
            ) from exc
        return create_engine(url, echo=echo, pool_pre_ping=True)
    raise UserError(
        f"unsupported database URL {url!r}",
        where="--db / INCIDENT_DB",
        fix="use sqlite:///path/to/file.sqlite or postgresql://user:pass@host/db",
    )


def alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (idempotent; safe with several processes)."""
    from alembic import command

    if engine.dialect.name != "postgresql":
        # SQLite: the migration transaction starts with BEGIN IMMEDIATE, which serialises processes
        command.upgrade(alembic_config(engine), revision)
        return
    # PostgreSQL: laptops starting together must not run the same migration twice
    from sqlalchemy import text

    with engine.connect() as lock:
        lock.execute(text("SELECT pg_advisory_lock(hashtext('incident:migrations'))"))
        try:
            command.upgrade(alembic_config(engine), revision)
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(hashtext('incident:migrations'))"))
            lock.commit()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _at_head(engine: Engine) -> bool:
    from sqlalchemy import inspect, text

    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return False
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == SCHEMA_HEAD
    except Exception:
        return False


def open_store(url: str) -> Engine:
    """Engine with the schema upgraded: what the app and the CLI use."""
    engine = make_engine(url)
    try:
        if not _at_head(engine):
            upgrade(engine)
        from incident.core.store import guards

        guards.ensure(engine)  # re-install append-only triggers someone dropped
    except UserError:
        raise
    except Exception as exc:
        raise UserError(
            f"cannot open or upgrade the database: {exc.__class__.__name__}: {exc}",
            where=url,
            fix="check the path/URL and permissions; for PostgreSQL check the server is running",
        ) from exc
    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One session per unit of work: commit on success, roll back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
