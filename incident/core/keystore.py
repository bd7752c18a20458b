"""Where a person's private key lives on this machine: the OS keyring, else a passphrase-protected file.

- The OS keyring (macOS Keychain, Windows Credential Locker, Secret Service) when
  the ``keyring`` package finds a real backend; ``INCIDENT_KEYRING=0`` turns it off.
- Otherwise a PKCS#8 PEM file encrypted with the person's passphrase, in the user's
  config folder (platformdirs; ``$INCIDENT_HOME/keys`` when INCIDENT_HOME is set,
  ``$INCIDENT_KEY_DIR`` to choose). The passphrase is asked for, or read from
  ``INCIDENT_PASSPHRASE`` (tests and CI); an empty one is refused.

The database holds only public keys (in the log); a private key never enters it.
The login file names the person this machine acts as (``incident login``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from incident.core.errors import UserError
from incident.core.signing import Person, canonical_name, display_name

SERVICE = "incident"
PASSPHRASE_ENV = "INCIDENT_PASSPHRASE"
MIN_PASSPHRASE = 8


def key_dir() -> Path:
    if os.environ.get("INCIDENT_KEY_DIR"):
        return Path(os.environ["INCIDENT_KEY_DIR"])
    if os.environ.get("INCIDENT_HOME"):
        return Path(os.environ["INCIDENT_HOME"]) / "keys"
    from platformdirs import user_config_dir

    return Path(user_config_dir("incident", appauthor=False)) / "keys"


def _slug(name: str) -> str:
    canonical = canonical_name(name)
    return re.sub(r"[^0-9a-z_.-]+", "_", canonical.encode("ascii", "backslashreplace").decode()) or "_"


def key_file(name: str) -> Path:
    return key_dir() / f"{_slug(name)}.pem"


def _keyring() -> Any:
    """The keyring module if it has a usable backend, else None."""
    if os.environ.get("INCIDENT_KEYRING", "1") == "0":
        return None
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:  # pragma: no cover - depends on the desktop
        return None
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) <= 0:
        return None
    return keyring


def passphrase(*, confirm: bool = False, prompt: str = "passphrase for your key: ") -> str:
    value = os.environ.get(PASSPHRASE_ENV)
    if value is None:
        import getpass
        import sys

        if not sys.stdin.isatty():
            raise UserError(
                "errors.keys.no_terminal",
                where=PASSPHRASE_ENV,
                env=PASSPHRASE_ENV,
            )
        value = getpass.getpass(prompt)
        if confirm and getpass.getpass("again: ") != value:
            raise UserError("errors.keys.differ")
    return value


def store(name: str, person: Person, secret: str | None) -> str:
    """Keep ``person``'s private key: the OS keyring if usable, else an encrypted file. Returns where."""
    from cryptography.hazmat.primitives import serialization

    kr = _keyring()
    if kr is not None:
        pem = person.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        kr.set_password(SERVICE, canonical_name(name), pem.decode())
        return "OS keyring"
    if not secret or len(secret) < MIN_PASSPHRASE:
        raise UserError(
            "errors.keys.short",
            n=MIN_PASSPHRASE,
            where=PASSPHRASE_ENV,
        )
    path = key_file(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = person.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(secret.encode()),
    )
    tmp = path.with_name(path.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    return str(path)


def has_key(name: str) -> bool:
    kr = _keyring()
    if kr is not None and kr.get_password(SERVICE, canonical_name(name)):
        return True
    return key_file(name).exists()


def unlock(name: str, secret: str | None = None) -> Person:
    """``name``'s key from the keyring or the key file (asking for the passphrase if needed)."""
    from cryptography.hazmat.primitives import serialization

    kr = _keyring()
    if kr is not None:
        pem = kr.get_password(SERVICE, canonical_name(name))
        if pem:
            return Person(display_name(name), serialization.load_pem_private_key(pem.encode(), None))
    path = key_file(name)
    if not path.exists():
        raise UserError(
            "errors.keys.no_key",
            name=name,
            where=str(path),
        )
    secret = passphrase(prompt=f"passphrase for {name}: ") if secret is None else secret
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), secret.encode() or None)
    except (ValueError, TypeError) as exc:
        raise UserError("errors.keys.wrong_passphrase", where=str(path), name=name) from exc
    return Person(display_name(name), key)


def forget(name: str) -> None:
    kr = _keyring()
    if kr is not None:
        try:
            kr.delete_password(SERVICE, canonical_name(name))
        except Exception:  # pragma: no cover - not stored there
            pass
    key_file(name).unlink(missing_ok=True)


def login_file() -> Path:
    return key_dir().parent / "login"


def logged_in_name() -> str | None:
    try:
        name = login_file().read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return name or None


def remember_login(name: str | None) -> None:
    path = login_file()
    if name is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(display_name(name) + "\n", encoding="utf-8")
