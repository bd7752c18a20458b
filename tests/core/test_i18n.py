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


# ---------------------------------------------------------------- refusals


def _refusals():
    """(path, line, first argument) of every ``UserError(...)`` in the package."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "incident"
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "UserError"
                and node.args
            ):
                yield path.relative_to(root.parent), node.lineno, node.args[0]


def _keyed(arg) -> bool:
    """A catalog key: a literal key, or a helper's ``message_key`` parameter passing one through."""
    import ast

    from incident.core.errors import is_message_key

    if isinstance(arg, ast.Name):
        return arg.id == "message_key"
    if isinstance(arg, ast.IfExp):
        return _keyed(arg.body) and _keyed(arg.orelse)
    return isinstance(arg, ast.Constant) and isinstance(arg.value, str) and is_message_key(arg.value)


#: Refusals written as English text instead of a catalog key: none are left, and none may come back.
ENGLISH_ONLY_REFUSALS = 0


def test_every_refusal_key_is_translated():
    import ast

    from incident.core.errors import is_message_key

    en, zh = catalog("en"), catalog("zh")
    missing = []
    for path, line, first in _refusals():
        for arg in (first.body, first.orelse) if isinstance(first, ast.IfExp) else (first,):
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and is_message_key(arg.value):
                for lang, cat in (("en", en), ("zh", zh)):
                    if arg.value not in cat:
                        missing.append(f"{path}:{line} {arg.value} ({lang})")
    assert missing == []


def test_english_only_refusals_only_go_down():
    english = [f"{path}:{line}" for path, line, arg in _refusals() if not _keyed(arg)]
    assert len(english) <= ENGLISH_ONLY_REFUSALS, (
        f"write new refusals as catalog keys (incident/core/errors.py): {english}"
    )


def test_a_keyed_refusal_keeps_its_fix_in_the_catalogs():
    """A keyed refusal's "how to fix it" is the catalog's ``<key>_fix`` (en and zh), never an English
    ``fix=`` literal beside the key, which a Chinese reader would get in English."""
    import ast
    from pathlib import Path

    from incident.core.errors import is_message_key

    root = Path(__file__).resolve().parents[2] / "incident"
    english = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            first = node.args[0]
            if name != "UserError" or not (
                isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and is_message_key(first.value)
            ):
                continue
            for kw in node.keywords:
                if kw.arg == "fix" and isinstance(kw.value, ast.Constant | ast.JoinedStr | ast.BinOp):
                    english.append(f"{path.relative_to(root.parent)}:{node.lineno} {first.value}")
    assert english == [], "move each fix into the catalogs as <key>_fix"


def test_a_keyed_refusal_renders_in_the_readers_language():
    from incident.core.errors import UserError

    err = UserError("errors.fix_label", where="river.geojson, line 41", field="length_m")
    assert err.key == "errors.fix_label"
    assert err.render("en").endswith("fix")
    assert err.render("zh").endswith("处理办法")
    assert err.render("en").startswith("river.geojson, line 41, length_m: ")


def test_a_list_of_problems_reads_in_the_readers_language():
    from incident.core.errors import UserError, ValidationErrors

    err = ValidationErrors("results.csv", [UserError("errors.outcome.nothing_saved", where="line 3")])
    assert err.render("en").startswith("results.csv: 1 problem(s), nothing was imported")
    assert err.render("zh").startswith("results.csv: 1 处问题，未导入任何内容")
    assert "line 3: 未保存任何内容" in err.render("zh")
