"""Log entries as the user reads them, in their language.

The log stores each entry language-neutral: a ``kind`` (``step.done``) and a payload of plain
values (ids, numbers, times); its English ``summary`` is kept for the archive and the ICS 214
form. Screens render an entry from its kind and payload through the catalogs
(``logtext.<kind>`` with payload placeholders, else the kind's name ``logkind.<kind>``), so with
zh chosen no English summary reaches a screen. Step names come from the playbook, in both
languages.
"""

from __future__ import annotations

import json
import string
from typing import Any

from incident.core.i18n import catalog, get_language, t


def _step_title(payload: dict[str, Any], lang: str) -> str | None:
    try:
        from incident.playbook import find_playbook

        step = find_playbook(str(payload["playbook"])).step(str(payload["step"]))
        return step.title.get(lang)
    except Exception:  # noqa: BLE001 - a playbook renamed since: fall back to the id
        return str(payload.get("step")) if payload.get("step") else None


def _fields(payload: dict[str, Any], lang: str) -> dict[str, Any]:
    """Placeholders: the payload's scalars, ``<name>_count`` for lists, and derived names."""
    out: dict[str, Any] = {}
    for key, value in payload.items():
        if isinstance(value, list | tuple):
            out[f"{key}_count"] = len(value)
            out[key] = ", ".join(str(v) for v in value if not isinstance(v, dict))
        elif isinstance(value, dict):
            continue
        elif isinstance(value, float):
            out[key] = f"{value:,.6g}"
        else:
            out[key] = "" if value is None else value
    if "step" in payload:
        out["step_title"] = _step_title(payload, lang) or ""
    if "playbook" in payload:
        try:
            from incident.playbook import find_playbook

            out["playbook_title"] = find_playbook(str(payload["playbook"])).title.get(lang)
        except Exception:  # noqa: BLE001 - a playbook no longer shipped: its id
            out["playbook_title"] = str(payload["playbook"])
    if isinstance(payload.get("lines"), list):
        out["lines_count"] = len(payload["lines"])
    if isinstance(payload.get("after"), dict) and payload["after"].get("mass_kg") is not None:
        out["mass_kg"] = f"{payload['after']['mass_kg']:,.6g}"
    if "kind" in payload and isinstance(payload["kind"], str):
        out["report_kind"] = t(f"reports.kind.{payload['kind']}", lang=lang)
    return out


def describe(kind: str, payload: dict[str, Any] | str | None, summary: str, lang: str | None = None) -> str:
    """One log entry in ``lang`` (default: the current language)."""
    lang = lang or get_language()
    data: dict[str, Any] = {}
    if isinstance(payload, str):
        try:
            data = json.loads(payload) or {}
        except ValueError:
            data = {}
    else:
        data = payload or {}
    template = catalog(lang).get(f"logtext.{kind}")
    if template:
        fields = _fields(data, lang)
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        if names <= fields.keys():
            try:
                return template.format(**fields)
            except (KeyError, IndexError, ValueError):
                pass
    if lang == "en":
        return summary  # the English summary is the entry's own text
    name = catalog(lang).get(f"logkind.{kind}")
    return name or t("logkind.other", lang=lang, kind=kind)
