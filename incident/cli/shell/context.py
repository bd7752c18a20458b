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


_acting_installed: set[str] = set()


def act_as_user(name: str) -> None:
    """The CLI acts as ``name`` (the logged-in person): their key is unlocked on the first write
    (keyring, or the passphrase asked for / $INCIDENT_PASSPHRASE). No key here: nobody signs,
    which a store with accounts refuses."""
    if name in _acting_installed:
        return
    from incident.core import keystore, signing

    def provider():
        return keystore.unlock(name) if keystore.has_key(name) else None

    signing.set_provider(provider)
    _acting_installed.clear()
    _acting_installed.add(name)


def engine_from(args) -> Engine:
    settings = settings_from(args)
    act_as_user(settings.user)
    return _engine(settings.db_url, settings.lock_timeout_s)


def add_json(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON instead of a table")
