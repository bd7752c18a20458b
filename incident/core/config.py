"""Where things live: database URL, language, data folder.

Resolved once at start-up from (in order) command-line flags, environment
variables (INCIDENT_DB, INCIDENT_LANG, INCIDENT_HOME) and defaults. Nothing
here opens a database; the engine factory does that.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_data_dir

from incident.core.i18n import SUPPORTED_LANGS


def default_data_dir() -> Path:
    home = os.environ.get("INCIDENT_HOME")
    return Path(home) if home else Path(user_data_dir("incident", appauthor=False))


def default_db_url(data_dir: Path | None = None) -> str:
    data_dir = data_dir or default_data_dir()
    return f"sqlite:///{data_dir / 'incident.sqlite'}"


def _env_seconds(name: str) -> float | None:
    raw = os.environ.get(name)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        from incident.core.errors import UserError

        raise UserError("errors.faults.env_seconds", where=name, name=name, raw=raw)
    return value


def default_lang() -> str:
    """$INCIDENT_LANG, else English."""
    return os.environ.get("INCIDENT_LANG", "en")


def default_user() -> str:
    """$INCIDENT_USER, else the person logged in on this machine (`incident login`), else $USER."""
    if os.environ.get("INCIDENT_USER"):
        return os.environ["INCIDENT_USER"]
    from incident.core.keystore import logged_in_name

    return logged_in_name() or os.environ.get("USER") or "responder"


@dataclass
class Settings:
    db_url: str = field(default_factory=lambda: os.environ.get("INCIDENT_DB") or default_db_url())
    lang: str = field(default_factory=default_lang)
    user: str = field(default_factory=lambda: default_user())
    #: seconds a write waits for another program holding the store (None: the engine's default, 30 s)
    lock_timeout_s: float | None = field(default_factory=lambda: _env_seconds("INCIDENT_LOCK_TIMEOUT"))

    def __post_init__(self) -> None:
        if self.lang not in SUPPORTED_LANGS:
            from incident.core.errors import UserError

            raise UserError(
                "errors.core.unknown_language",
                where="--lang / INCIDENT_LANG",
                lang_name=repr(self.lang),
                value=", ".join(SUPPORTED_LANGS),
            )
        if self.lock_timeout_s is not None and self.lock_timeout_s < 0:
            from incident.core.errors import UserError

            raise UserError(
                "errors.faults.negative_lock_timeout",
                where="--lock-timeout",
                seconds=f"{self.lock_timeout_s:g}",
            )
        if self.db_url.startswith("sqlite:///"):
            try:
                Path(self.db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            except OSError:
                pass  # a read-only disk: opening the store says what is wrong
