"""The docs site builds with `mkdocs build --strict`, loads nothing from the internet when viewed,
its CLI reference is the one generated from the parser, and the README stays short."""

from __future__ import annotations

import argparse
import html
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from incident.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = (ROOT / "README.md").read_text(encoding="utf-8")

TUI_COMMAND = "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/incident"
TEST_COMMAND = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python -m pytest"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"docs_{name}", DOCS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- remote assets -------------------------------------------------------------------------------

# An element that makes the browser fetch something when the page is shown (links you click are fine).
_FETCHING = re.compile(
    r"<(?:script|img|iframe|source|audio|video|embed)\b[^>]*\bsrc=[\"']?(?:https?:)?//"
    r"|<link\b[^>]*\bhref=[\"']?(?:https?:)?//"
    r"|url\(\s*[\"']?(?:https?:)?//"
    r"|@import\s+[\"'](?:https?:)?//"
    r"|fonts\.googleapis\.com|fonts\.gstatic\.com",
    re.IGNORECASE,
)


def remote_fetches(text: str) -> list[str]:
    """What in an HTML/SVG/CSS text would be fetched from another host when it is viewed."""
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    return [text[max(0, m.start() - 20) : m.end() + 60] for m in _FETCHING.finditer(text)]


def test_the_remote_fetch_check_can_fail():
    assert remote_fetches('<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">')
    assert remote_fetches('<script src="https://unpkg.com/mermaid@11/dist/mermaid.min.js"></script>')
    assert remote_fetches(
        'src: local("FiraCode"), url("https://cdnjs.cloudflare.com/x.woff2") format("woff2");'
    )
    assert not remote_fetches(
        '<a href="https://www.mee.gov.cn/">HJ 589</a> <script src="assets/x.js"></script>'
    )
    assert not remote_fetches('<svg xmlns="http://www.w3.org/2000/svg"><!-- url(https://x.org/) --></svg>')


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    pytest.importorskip("mkdocs", reason="mkdocs is not installed (pip install -e '.[docs]'); CI installs it")
    pytest.importorskip("material", reason="mkdocs-material is not installed; CI installs it")
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
    )
    assert result.returncode == 0, "mkdocs build --strict failed:\n" + result.stdout + result.stderr
    return out


def test_mkdocs_build_strict_builds_every_page(site):
    pages = {p.relative_to(DOCS).with_suffix(".html").as_posix() for p in DOCS.rglob("*.md")}
    built = {p.relative_to(site).as_posix() for p in site.rglob("*.html")}
    assert pages <= built, pages - built
    for name in ("index.html", "cli.html", "architecture.html", "formats/playbook.html"):
        assert (site / name).stat().st_size > 1000, name


def test_the_site_fetches_nothing_from_the_internet(site):
    problems = []
    for path in sorted(site.rglob("*")):
        if path.suffix in (".html", ".svg", ".css"):
            text = path.read_text(encoding="utf-8", errors="replace")
            problems += [f"{path.relative_to(site)}: …{hit}…" for hit in remote_fetches(text)]
            if path.suffix == ".html" and re.search(r"class=\"[^\"]*\bmermaid\b", text):
                problems.append(
                    f"{path.relative_to(site)}: a Mermaid diagram (Material loads mermaid from a CDN)"
                )
    assert not problems, "\n".join(problems)


def test_the_readme_screenshot_fetches_nothing():
    svg = (DOCS / "img" / "dashboard.svg").read_text(encoding="utf-8")
    assert "<svg" in svg and "Situation" in svg
    assert remote_fetches(svg) == []


def test_the_screenshot_script_strips_remote_fonts():
    offline_svg = _load("screenshot").offline_svg
    face = (
        '@font-face { font-family: "Fira Code"; src: local("FiraCode-Regular"), '
        'url("https://cdnjs.cloudflare.com/ajax/libs/firacode/6.2.0/woff2/FiraCode-Regular.woff2") '
        'format("woff2"), url("https://cdnjs.cloudflare.com/x.woff") format("woff"); }'
    )
    cleaned = offline_svg(face)
    assert remote_fetches(face) and remote_fetches(cleaned) == []
    assert 'src: local("FiraCode-Regular");' in cleaned


# --- the generated CLI reference -----------------------------------------------------------------


def test_the_cli_reference_is_up_to_date():
    expected = _load("gen_cli").render()
    current = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert current == expected, (
        "docs/cli.md is out of date with incident.cli.build_parser(): run .venv/bin/python docs/gen_cli.py"
    )


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield (*path, name), child
                yield from _commands(child, (*path, name))


def test_the_cli_reference_has_every_command_and_option():
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    sections = dict(
        re.findall(r"^#{2,4} incident ([^\n]+)\n(.*?)(?=^#{2,4} incident |\Z)", text, re.M | re.S)
    )
    commands = dict(_commands(build_parser()))
    assert {" ".join(p) for p in commands} == set(sections)
    for path, parser in commands.items():
        body = sections[" ".join(path)]
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert f"`{option}" in body or f", {option}" in body, (
                        f"incident {' '.join(path)}: {option}"
                    )
            if action.help and action.help != argparse.SUPPRESS and "%(" not in action.help:
                help_text = " ".join(action.help.split()).replace("\\", "")
                assert help_text in html.unescape(body.replace("\\", "")), (
                    f"incident {' '.join(path)}: help of {action.dest}"
                )


# --- the README ----------------------------------------------------------------------------------


def test_the_readme_is_short():
    assert len(README) <= 12_000, f"README.md is {len(README):,} characters; move detail into docs/"


def test_the_readme_and_getting_started_keep_the_two_commands():
    install = (DOCS / "install.md").read_text(encoding="utf-8")
    for text in (README, install):
        assert f"```sh\n{TUI_COMMAND}\n```" in text
        assert f"```sh\n{TEST_COMMAND}\n```" in text
    assert f"```sh\n{TEST_COMMAND}\n```" in (DOCS / "testing.md").read_text(encoding="utf-8")


def test_the_readme_links_resolve():
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README)
    local = [t for t in targets if not re.match(r"[a-z]+:", t)]
    assert len(local) > 10, local
    missing = [t for t in local if not (ROOT / t).exists()]
    assert not missing, missing
    assert "docs/img/dashboard.svg" in local
