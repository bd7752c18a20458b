"""Catalogs are complete in both languages and placeholders agree."""

from __future__ import annotations

import string

from incident.core.i18n import catalog, t


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_exists_in_both_languages():
    en, zh = catalog("en"), catalog("zh")
    assert set(en) - set(zh) == set(), "keys missing from zh"
    assert set(zh) - set(en) == set(), "keys missing from en"


def test_placeholders_match():
    en, zh = catalog("en"), catalog("zh")
    mismatched = [k for k in en if _fields(en[k]) != _fields(zh[k])]
    assert mismatched == []


def test_translation_falls_back_and_fills():
    assert t("dashboard.title", lang="zh") == "总览"
    assert t("no.such.key") == "no.such.key"
