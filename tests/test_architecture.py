"""Layering: ``nn`` builds on ``autograd``, never the reverse, and no module imports in a circle.

Imports are read from the source with ``ast``, so an import inside a function (a lazy import)
counts as much as one at the top of the file.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def modules_of(package: str) -> dict[str, Path]:
    """{dotted module name: file} for every module of a package (``__init__`` as the package)."""
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules (of `known`, or any top-level name) that the file imports, anywhere in it."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in known else base)
    return found


def import_graph(*packages: str) -> dict[str, set[str]]:
    modules = {}
    for package in packages:
        modules.update(modules_of(package))
    known = set(modules)
    return {name: imports_of(name, path, known) & known for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A list of modules that import each other in a circle, or None (iterative DFS)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    for start in sorted(graph):
        if start in state:
            continue
        path, stack = [start], [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph[nxt])))
    return None


def test_the_cycle_finder_finds_a_circle_and_passes_a_tree():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_import_reader_sees_lazy_and_relative_imports(tmp_path):
    source = tmp_path / "m.py"
    source.write_text(
        "from . import sibling\nfrom .pkg import inner, NAME\ndef f():\n    import nn.cli\n"
    )
    known = {"top.sibling", "top.pkg", "top.pkg.inner", "nn.cli"}
    assert imports_of("top.m", source, known) == {
        "top.sibling",
        "top.pkg.inner",
        "top.pkg",
        "nn.cli",
    }


@pytest.mark.parametrize("packages", [("autograd",), ("autograd", "nn")], ids=str)
def test_no_module_imports_in_a_circle(packages):
    graph = import_graph(*packages)
    assert len(graph) > 10
    assert find_cycle(graph) is None, f"import cycle: {' -> '.join(find_cycle(graph))}"


def test_the_engine_never_imports_nn():
    for name, path in modules_of("autograd").items():
        imported = imports_of(name, path, set())
        assert not {m for m in imported if m == "nn" or m.startswith("nn.")}, name


def test_importing_every_engine_module_loads_no_nn():
    names = sorted(modules_of("autograd"))
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m == 'nn' or m.startswith('nn.'))\n"
        "assert not loaded, loaded\n"
        "print(len([m for m in sys.modules if m.startswith('autograd')]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= len(names)  # every module, viz included, was imported


def test_the_command_line_runs_as_a_module():
    done = subprocess.run(
        [sys.executable, "-m", "nn", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0 and "lecture" in done.stdout and "draw" in done.stdout
