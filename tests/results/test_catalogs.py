"""Every UI string key used by the results feature exists in both catalogs, with the same keys."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FILES = [
    "incident/tui/screens/results.py",
    "incident/tui/screens/point_plot.py",
    "incident/tui/dialogs/result_form.py",
    "incident/tui/dialogs/import_results.py",
    "incident/tui/dialogs/termination.py",
    "incident/results/termination.py",
]


def _flat(node: dict, prefix: str = "") -> set[str]:
    out: set[str] = set()
    for k, v in node.items():
        out |= _flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {prefix + k}
    return out


def _catalog(lang: str) -> set[str]:
    keys: set[str] = set()
    for path in (ROOT / "incident/locale" / lang).glob("*.toml"):
        keys |= _flat(tomllib.loads(path.read_text(encoding="utf-8")))
    return keys


def test_results_catalogs_have_the_same_keys():
    def load(lang):
        return _flat(tomllib.loads((ROOT / f"incident/locale/{lang}/results.toml").read_text("utf-8")))

    assert load("en") == load("zh")


def test_every_key_used_exists():
    en, zh = _catalog("en"), _catalog("zh")
    used = set()
    for f in FILES:
        text = (ROOT / f).read_text(encoding="utf-8")
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z_.]+)["']""", text))
        used |= set(re.findall(r"""["']((?:key|form|results|cmd)\.[a-z_]+)["']""", text))
        used |= {f"termination.{k}" for k in re.findall(r"""\btr\(\s*["']([a-z_]+)["']""", text)}
    assert used, "no keys found: the pattern is wrong"
    assert not used - en, sorted(used - en)
    assert not used - zh, sorted(used - zh)
