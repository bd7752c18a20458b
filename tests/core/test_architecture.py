"""The shape of the tree holds: no import cycles anywhere, and rooms are entered only
through their public API (their ``__init__``). The layers themselves are import-linter
contracts in pyproject.toml (tests/core/test_layers.py runs them)."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "incident"
#: core is the shared kernel: its modules (clock, log, errors, store, …) are public.
KERNEL = {"core"}
FRONT_ENDS = {"tui", "cli"}
ROOMS = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))


def _cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root) & modules)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child) & modules)))
                    )
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle_anywhere_in_the_tree():
    graph = grimp.build_graph("incident", "models")
    modules = {m for m in graph.modules if m.split(".")[0] in ("incident", "models")}
    assert len(modules) > 100  # the whole tree was read
    assert _cycles(graph, modules) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for name in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(name)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")
    graph.add_import(importer="a.z", imported="a.x")
    assert _cycles(graph, {"a.x", "a.y", "a.z"}) == [["a.x", "a.y"]]


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``, function-level ones too."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
    return found


def _private_imports(path: Path) -> list[str]:
    """Imports of another room's modules from ``path`` (anything but its ``__init__``)."""
    parts = path.relative_to(PACKAGE).parts
    own = parts[0] if len(parts) > 1 else None
    bad = []
    for lineno, name in _imports(path):
        bits = name.split(".")
        if bits[0] != "incident" or len(bits) < 3:
            continue
        room = bits[1]
        if room == own or room in KERNEL or (room in FRONT_ENDS and own in FRONT_ENDS):
            continue
        bad.append(f"{path.relative_to(ROOT)}:{lineno} imports {name}")
    return bad


def test_rooms_are_entered_only_through_their_public_api():
    bad = [
        b for p in sorted(PACKAGE.rglob("*.py")) if "migrations" not in p.parts for b in _private_imports(p)
    ]
    assert bad == []


def test_every_name_a_room_exports_exists():
    """The lazy public API of each room resolves: no stale entry after a move."""
    import importlib

    for room in ROOMS:
        if room in KERNEL | FRONT_ENDS:
            continue
        module = importlib.import_module(f"incident.{room}")
        for name in getattr(module, "__all__", []):
            getattr(module, name)  # raises AttributeError for a stale entry


CLI = PACKAGE / "cli"
CLI_ROOMS = sorted(p.parent.name for p in CLI.glob("*/__init__.py"))


def _cli_private_imports(path: Path) -> list[str]:
    """Imports, from a command room, of another command room's (or the shell's) private modules."""
    own = path.relative_to(CLI).parts[0]
    bad = []
    for lineno, name in _imports(path):
        bits = name.split(".")
        if bits[:2] == ["incident", "cli"] and len(bits) > 3 and bits[2] != own:
            bad.append(f"{path.relative_to(ROOT)}:{lineno} imports {name}")
    return bad


def test_command_rooms_share_only_the_shell_and_public_apis():
    """The CLI is split like the domain: one command room per domain room (``incident/cli/plume``,
    ``incident/cli/results``, …), each entered through its ``__init__``; the shell
    (context, output, dispatch, help examples) is shared through ``incident.cli.shell``."""
    import importlib

    from incident.cli import COMMAND_MODULES

    assert len(CLI_ROOMS) >= 10 and "shell" in CLI_ROOMS
    # every command room is registered, and exposes register()
    assert sorted(m.rsplit(".", 1)[1] for m in COMMAND_MODULES) == sorted(set(CLI_ROOMS) - {"shell"})
    for name in COMMAND_MODULES:
        assert callable(importlib.import_module(name).register)
    loose = [p.name for p in CLI.glob("*.py") if p.name != "__init__.py"]
    assert loose == [], "command modules belong in a command room"
    bad = [
        b
        for room in CLI_ROOMS
        if room != "shell"
        for p in sorted((CLI / room).rglob("*.py"))
        for b in _cli_private_imports(p)
    ]
    assert bad == []
