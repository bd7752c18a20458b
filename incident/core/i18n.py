"""Translation layer: every UI string goes through :func:`t`.

Catalogs are TOML files in ``incident/locale/<lang>/*.toml``, one per feature
(``core.toml``, ``forecast.toml``...), merged; keys are dotted by table
(``[dashboard] title = ...`` is ``dashboard.title``), ``{name}`` placeholders. English is the reference catalog; a key missing from
another language falls back to English, and a test keeps the catalogs complete.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

#: the interface languages; every catalog key exists in each (tests/core/test_i18n.py)
SUPPORTED_LANGS = ("en", "zh")

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
_current = "en"


@cache
def catalog(lang: str) -> dict[str, str]:
    flat: dict[str, str] = {}

    def walk(prefix: str, node: dict) -> None:
        for key, value in node.items():
            full = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict):
                walk(full, value)
            else:
                flat[full] = str(value)

    for path in sorted((LOCALE_DIR / lang).glob("*.toml")):
        with path.open("rb") as fh:
            walk("", tomllib.load(fh))
    return flat


def set_language(lang: str) -> None:
    global _current
    if lang not in SUPPORTED_LANGS:
        raise ValueError(f"unknown language {lang!r}; use one of {SUPPORTED_LANGS}")
    _current = lang


def get_language() -> str:
    return _current


def t(key: str, /, lang: str | None = None, **params: object) -> str:
    """Translate ``key`` into the current (or given) language and fill placeholders."""
    text = catalog(lang or _current).get(key) or catalog("en").get(key) or key
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def bilingual(en: str | None, zh: str | None, lang: str | None = None) -> str:
    """Pick the right side of a data field that carries both languages."""
    if (lang or _current) == "zh" and zh:
        return zh
    return en or zh or ""
