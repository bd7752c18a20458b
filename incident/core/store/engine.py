"""One engine per app, from a factory; schema upgraded by Alembic on start.

SQLite pragmas are per connection, so they live in a ``connect`` listener:
foreign keys on, WAL (several processes may share the file: textual-serve,
two terminals), a generous busy timeout so writers queue instead of failing,
and synchronous=FULL because a logged result is evidence and must survive a
power cut, not only a crash.

Faults (see :mod:`incident.core.store.faults` and docs/faults.md): a writer
that waits more than a second for another process's lock says so
(``faults.lock_wait_notice``) and gives up cleanly after the lock timeout; a
read-only store file or disk is opened read-only, so reading still works and
writing is refused by name; a full disk, a lost server or a locked store
reaches the user as a :class:`~incident.core.store.faults.StoreError`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from incident.core.errors import UserError
from incident.core.store import faults

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: The newest Alembic revision. Start-up compares the database with this and
#: skips loading Alembic when they match; tests check it equals the script head.
SCHEMA_HEAD = "perf_2"
SQLITE_BUSY_TIMEOUT_MS = 30_000


#: Seconds to wait before a writer mentions it is waiting for another process's lock.
LOCK_NOTICE_AFTER_S = 1.0


def _sqlite_pragmas(dbapi_connection: Any, busy_timeout_ms: int, read_only: bool) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError:
        if not read_only:
            raise
    cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    # FULL: a committed result survives power loss, not just a process crash.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _locked(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "database is locked" in text or "database is busy" in text


class _LockTimeout:
    """What a write does when the lock does not come: ``where`` names the store in the notice,
    and the call gives the error to raise after ``waited_s``."""

    def __init__(self, engine: Engine, where: str) -> None:
        self.engine, self.where = engine, where

    def __call__(self, waited_s: float) -> Exception:
        return faults.locked_error(self.engine, waited_s)


def _begin_immediate(dbapi_connection: Any, timeout_s: float, on_timeout: _LockTimeout) -> None:
    """BEGIN IMMEDIATE: take the write lock at BEGIN so that read-then-write
    transactions (the log chain head) never fail midway with "database is locked".

    Waits quietly for a second, then tells ``faults.lock_wait_notice`` that it
    is waiting, and gives up with a StoreError after ``timeout_s`` in all.
    """
    total_ms = int(timeout_s * 1000)
    first_ms = min(int(LOCK_NOTICE_AFTER_S * 1000), total_ms)
    started = time.monotonic()
    try:
        dbapi_connection.execute(f"PRAGMA busy_timeout={first_ms}")
        try:
            dbapi_connection.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if not _locked(exc):
                raise
        if faults.lock_wait_notice is not None:
            faults.lock_wait_notice(on_timeout.where, timeout_s)
        remaining_ms = max(0, total_ms - int(1000 * (time.monotonic() - started)))
        dbapi_connection.execute(f"PRAGMA busy_timeout={remaining_ms}")
        try:
            dbapi_connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if not _locked(exc):
                raise
            raise on_timeout(time.monotonic() - started) from exc
    finally:
        with suppress(sqlite3.Error):
            dbapi_connection.execute(f"PRAGMA busy_timeout={total_ms}")


def _sqlite_engine(url: str, *, echo: bool, lock_timeout_s: float) -> Engine:
    path = faults.sqlite_path(url)
    read_only = path is not None and path.exists() and faults.read_only_reason(path) is not None
    kwargs: dict[str, Any] = {}
    if read_only and path is not None:
        # Opened read-only, reads still work and a write is refused by SQLite itself.
        # On a read-only disk the -shm file cannot be made: nobody can write there,
        # so the file is immutable for as long as we read it.
        from urllib.parse import quote

        shm = Path(str(path) + "-shm")
        immutable = not shm.exists() and not faults.can_create_in(path.parent)
        uri = f"file:{quote(str(path.resolve()))}?mode=ro" + ("&immutable=1" if immutable else "")
        kwargs["creator"] = lambda: sqlite3.connect(
            uri, uri=True, check_same_thread=False, timeout=lock_timeout_s
        )
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": lock_timeout_s},
        **kwargs,
    )
    busy_ms = int(lock_timeout_s * 1000)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:  # pragma: no cover - exercised via every test
        _sqlite_pragmas(dbapi_connection, busy_ms, read_only)
        # Let SQLAlchemy, not pysqlite, control transactions so BEGIN IMMEDIATE applies.
        dbapi_connection.isolation_level = None

    on_timeout = _LockTimeout(engine, str(path) if path is not None else url)

    def do_begin(dbapi_connection: Any) -> None:
        if read_only:
            dbapi_connection.execute("BEGIN")
        else:
            _begin_immediate(dbapi_connection, lock_timeout_s, on_timeout)

    engine.dialect.do_begin = do_begin  # type: ignore[method-assign]  # the dialect's BEGIN, replaced per engine
    engine._incident_read_only = read_only  # type: ignore[attr-defined]  # a mark on the engine, read by is_read_only()
    return engine


def make_engine(url: str, *, echo: bool = False, lock_timeout_s: float | None = None) -> Engine:
    """Create the engine for ``url`` (an SQLite file or a PostgreSQL URL).

    ``lock_timeout_s``: how long a writer waits for another process's lock
    (SQLite; default SQLITE_BUSY_TIMEOUT_MS).
    """
    if lock_timeout_s is None:
        lock_timeout_s = SQLITE_BUSY_TIMEOUT_MS / 1000
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = _sqlite_engine(url, echo=echo, lock_timeout_s=lock_timeout_s)
        faults.instrument(engine)
        return engine
    if url.startswith("postgresql+"):
        try:
            import psycopg  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on install
            raise UserError("errors.core.postgresql_support_not_installed", field="db") from exc
        # pool_pre_ping: a connection the server dropped while idle is replaced before use
        engine = create_engine(url, echo=echo, pool_pre_ping=True)
        faults.instrument(engine)
        return engine
    raise UserError("errors.core.unsupported_database_url", where="--db / INCIDENT_DB", url=repr(url))


def alembic_config(engine: Engine) -> Config:
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
    except faults.StoreError:
        raise  # a locked, full or lost store: the user hears it now, not after a second wait
    except Exception:
        return False


def is_read_only(engine: Engine) -> bool:
    """True when the store was opened read-only (a read-only file or disk)."""
    return bool(getattr(engine, "_incident_read_only", False))


def open_store(url: str, *, lock_timeout_s: float | None = None) -> Engine:
    """Engine with the schema upgraded: what the app and the CLI use."""
    engine = make_engine(url, lock_timeout_s=lock_timeout_s)
    try:
        upgraded = not _at_head(engine)
        if upgraded:
            if is_read_only(engine):
                err = faults.read_only_error(engine)
                raise faults.StoreError(
                    "readonly",
                    "the store needs a schema upgrade to be opened by this version, but "
                    + err.problem[0].lower()
                    + err.problem[1:],
                    where=err.where,
                    fix=err.fix,
                )
            upgrade(engine)
        if not is_read_only(engine):
            from incident.core.store import guards

            guards.ensure(engine, upgraded=upgraded)  # re-install (and log) triggers someone dropped
    except UserError:
        raise
    except Exception as exc:
        converted = faults.store_error(exc, engine)
        if converted is not None:
            raise converted from exc
        raise UserError(
            "errors.core.cannot_open_upgrade_database", where=url, name=exc.__class__.__name__, exc=exc
        ) from exc
    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One session per unit of work: commit on success, roll back on error.

    A database failure a user can act on (full disk, read-only or locked store,
    lost server) leaves as a :class:`~incident.core.store.faults.StoreError`.
    """
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException as exc:
            try:
                session.rollback()
            except Exception:  # noqa: BLE001
                # The database already ended the transaction (SQLite rolls back on a full disk, and
                # the savepoint is then gone): the cause below is what the user must hear about.
                pass
            if isinstance(exc, Exception) and not isinstance(exc, UserError):
                converted = faults.store_error(exc, engine)
                if converted is not None:
                    raise converted from exc
            raise
