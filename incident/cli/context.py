"""Shared set-up for CLI commands: settings, the store, the acting user."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from incident.core.config import Settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def settings_from(args) -> Settings:
    kwargs = {}
    if getattr(args, "db", None):
        kwargs["db_url"] = args.db
    if getattr(args, "lang", None):
        kwargs["lang"] = args.lang
    if getattr(args, "user", None):
        kwargs["user"] = args.user
    if getattr(args, "lock_timeout", None) is not None:
        kwargs["lock_timeout_s"] = args.lock_timeout
    settings = Settings(**kwargs)
    from incident.core.i18n import set_language

    set_language(settings.lang)
    return settings


@cache
def _engine(url: str, lock_timeout_s: float | None = None) -> Engine:
    from incident.core.store.engine import open_store

    return open_store(url, lock_timeout_s=lock_timeout_s)


def engine_from(args) -> Engine:
    settings = settings_from(args)
    return _engine(settings.db_url, settings.lock_timeout_s)


def add_json(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON instead of a table")
