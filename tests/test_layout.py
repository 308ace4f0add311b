"""The package layout: imports run down the floors only (no two packages import each other),
and no modules import each other in a cycle of any length, in any package (issue 16: "models
use a training engine; the benchmark uses forecasters").

Every import form counts: ``import tsattn.x.y``, ``from tsattn.x import y`` (``y`` a module, or
a name defined in ``tsattn.x``'s ``__init__``), ``from tsattn import X`` (``X`` a subpackage, or
a public name re-exported lazily by ``tsattn/__init__.py``: the module that defines it), relative
imports, and ``importlib.import_module("tsattn....")`` with a literal name.

Imports inside functions (lazy imports) count, and so do type-only imports under
``if TYPE_CHECKING``. A lazy import keeps a cycle from failing at load time, but not from
being a cycle: the two modules still need each other, neither can be read, tested or moved
alone, and the load order only works while the import stays inside the function. (The issue's
own circle, ``models/base.py <-> intervals.py <-> persistence.py``, was closed by lazy imports.)
Break a cycle by moving what both sides need into a module below them.

Importing ``tsattn.x.y`` also runs the package ``tsattn.x``'s ``__init__``; that implicit
edge does not count (an ``__init__`` that re-exports its submodules would otherwise be in a
cycle with each of them), but an explicit ``from tsattn.x import name`` inside ``tsattn.x``'s
own submodules does.
"""

from __future__ import annotations

import ast
import textwrap
from collections import deque
from pathlib import Path

import pytest

import tsattn

ROOT = Path(tsattn.__file__).parent
#: the floors of docs/ARCHITECTURE.md, bottom (0) to top; a module may import its own floor's
#: package and anything below it, never above
FLOORS = {
    "checks": -1,  # argument checks and the one "did you mean" (nearest), which registry uses
    "registry": 0,
    "atomic": 0,
    "attention": 1,
    "datasets": 1,
    "parallel": 1,  # units of work in local processes or on Dask: models and evaluation use it
    "nn": 2,
    "training": 3,
    "models": 4,
    "evaluation": 5,
    "auto": 6,  # AutoForecaster validates its candidates with evaluation's backtest
    "benchmark": 7,  # scores quantile forecasts with evaluation's metric definitions
    "commands": 8,
    "cli": 9,  # parses the arguments and calls commands
    "__init__": 10,  # the public API re-exports every floor; nothing inside imports it
}


class Edge:
    """One import: ``source`` imports ``target`` at ``line``; ``how``: "at module level",
    "inside a function" (lazy) or "type-only" (under ``if TYPE_CHECKING``)."""

    def __init__(self, source: str, target: str, line: int, how: str) -> None:
        self.source, self.target, self.line, self.how = source, target, line, how

    def __repr__(self) -> str:
        return f"{self.source} -> {self.target} (line {self.line}, {self.how})"


def module_names(root: Path) -> dict[str, Path]:
    """``{dotted module name: file}`` of every module of the package at ``root``."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = (root.name, *path.relative_to(root).with_suffix("").parts)
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


class _Imports:
    """The modules of the package at ``root`` and the module each import statement names."""

    def __init__(self, root: Path, exports: dict[str, str]) -> None:
        self.modules = module_names(root)
        self.package = root.name
        self.exports = exports

    def existing(self, name: str) -> str:
        """``name``, or its longest prefix that is a module (``a.b.Name`` -> ``a.b``)."""
        while name not in self.modules:
            name = name.rpartition(".")[0]
        return name

    def ours(self, name: str) -> bool:
        return name.split(".")[0] == self.package

    def targets(self, node: ast.AST, module: str) -> list[str]:
        if isinstance(node, ast.Import):
            return [self.existing(a.name) for a in node.names if self.ours(a.name)]
        if isinstance(node, ast.ImportFrom):
            return self.from_targets(node, module)
        if isinstance(node, ast.Call) and _literal_import_module(node):
            name = node.args[0].value  # type: ignore[attr-defined]
            return [self.existing(name)] if self.ours(name) else []
        return []

    def from_targets(self, node: ast.ImportFrom, module: str) -> list[str]:
        base = node.module or ""
        if node.level:  # relative: from the module's package, one level up per extra dot
            is_package = self.modules[module].name == "__init__.py"
            here = module.split(".") if is_package else module.split(".")[:-1]
            here = here[: len(here) - node.level + 1]
            base = ".".join([*here, *([node.module] if node.module else [])])
        if not self.ours(base):
            return []
        found = []
        for alias in node.names:
            full = f"{base}.{alias.name}"
            if full in self.modules:
                found.append(full)
            elif base == self.package and alias.name in self.exports:
                found.append(self.existing(self.exports[alias.name]))
            else:
                found.append(self.existing(base))
        return found


def _literal_import_module(node: ast.Call) -> bool:
    """``importlib.import_module("...")`` or ``import_module("...")`` with a literal name."""
    name = getattr(node.func, "attr", getattr(node.func, "id", None))
    return (
        name == "import_module"
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def import_edges(root: Path, exports: dict[str, str] | None = None) -> list[Edge]:
    """Every import between modules of the package at ``root``; ``exports``: the root
    package's lazily re-exported names -> the module defining each."""
    imports = _Imports(root, exports or {})
    edges = []
    for module, path in imports.modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        todo = [(node, "at module level") for node in tree.body]
        while todo:
            node, how = todo.pop()
            for target in imports.targets(node, module):
                if target != module:
                    edges.append(Edge(module, target, node.lineno, how))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                how = "inside a function"
            elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                todo.extend((child, "type-only") for child in node.body)
                todo.extend((child, how) for child in node.orelse)
                continue
            todo.extend((child, how) for child in ast.iter_child_nodes(node))
    return edges


def cycles(edges: list[Edge]) -> list[list[Edge]]:
    """One shortest cycle through each strongly connected group of modules, as the imports
    that close it; empty when the import graph is acyclic."""
    graph: dict[str, dict[str, Edge]] = {}
    for edge in edges:
        graph.setdefault(edge.source, {}).setdefault(edge.target, edge)
        graph.setdefault(edge.target, {})
    groups = [group for group in strongly_connected(graph) if len(group) > 1]
    return [_shortest_cycle(graph, group) for group in groups]


def strongly_connected(graph: dict[str, dict[str, Edge]]) -> list[set[str]]:
    """Tarjan's strongly connected components (recursion depth <= number of modules)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group: list[str] = []
            while not group or group[-1] != node:
                group.append(stack.pop())
            groups.append(set(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def _shortest_cycle(graph: dict[str, dict[str, Edge]], group: set[str]) -> list[Edge]:
    """The shortest cycle through the first module of ``group`` (breadth first)."""
    start = min(group)
    came: dict[str, Edge | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target, edge in sorted(graph[node].items()):
            if target == start:
                path = [edge]
                while came[path[0].source] is not None:
                    path.insert(0, came[path[0].source])
                return path
            if target in group and target not in came:
                came[target] = edge
                queue.append(target)
    raise AssertionError(f"no cycle through {start}")  # a strongly connected group has one


def describe(cycle: list[Edge]) -> str:
    return " ; ".join(repr(edge) for edge in cycle)


EDGES = import_edges(ROOT, getattr(tsattn, "_EXPORTS", {}))


def floor_of(module: str) -> str:
    """The floor key of a dotted module name: its top-level package (``__init__`` for the root)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


# --------------------------------------------------------------------------- floors


def test_every_package_has_a_floor():
    packages = {floor_of(name) for name in module_names(ROOT)}
    assert packages <= set(FLOORS), packages - set(FLOORS)


def test_imports_run_down_only():
    upward = [
        edge
        for edge in EDGES
        if (source := floor_of(edge.source)) != (target := floor_of(edge.target))
        and source != "__init__"
        and FLOORS[target] >= FLOORS[source]
    ]
    assert not upward, upward


# --------------------------------------------------------------------------- module cycles


def test_no_import_cycle_of_any_length_between_modules():
    found = cycles(EDGES)
    assert not found, "import cycles (break each by moving what both sides need below them):\n" + (
        "\n".join(describe(cycle) for cycle in found)
    )


def test_the_edges_include_every_import_form():
    """The imports this file promises to read are read (a parser that missed a form would make
    the cycle test pass vacuously)."""
    seen = {(edge.source, edge.target) for edge in EDGES}
    assert ("tsattn.commands", "tsattn.evaluation") in seen  # from tsattn.x import name, lazy
    assert ("tsattn.evaluation.metric_tables", "tsattn.evaluation.quantile_metrics") in seen
    assert {"at module level", "inside a function"} <= {edge.how for edge in EDGES}


def write_package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for name, text in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


CYCLES = {
    "three modules, plain imports": {
        "a.py": "import pkg.b\n",
        "b.py": "from pkg import c\n",
        "c.py": "from pkg.a import thing\n",
    },
    "two packages, a lazy import": {
        "x/__init__.py": "",
        "x/one.py": "def f():\n    from pkg.y.two import g\n",
        "y/__init__.py": "",
        "y/two.py": "from pkg.x import one\n",
    },
    "a package's own __init__, a type-only import": {
        "m/__init__.py": "from pkg.m.core import Core\n",
        "m/core.py": (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.m import Core\n"
        ),
    },
    "relative imports": {
        "r/__init__.py": "",
        "r/p.py": "from . import q\n",
        "r/q.py": "from .p import thing\n",
    },
    "a lazily re-exported name of the root": {
        "__init__.py": "_EXPORTS = {'Thing': 'pkg.t.impl'}\n",
        "t/__init__.py": "",
        "t/impl.py": "import importlib\nimportlib.import_module('pkg.u')\n",
        "u.py": "from pkg import Thing\n",
    },
}


@pytest.mark.parametrize("case", list(CYCLES))
def test_the_cycle_finder_fails_on_a_cycle(tmp_path, case):
    files = CYCLES[case]
    root = write_package(tmp_path, files)
    exports = {"Thing": "pkg.t.impl"} if "_EXPORTS" in files.get("__init__.py", "") else {}
    found = cycles(import_edges(root, exports))
    assert len(found) == 1, found
    modules = {edge.source for edge in found[0]}
    assert modules == {edge.target for edge in found[0]}  # a closed loop
    assert len(modules) >= 2


def test_the_cycle_finder_passes_a_chain_and_a_package_importing_its_own_submodules(tmp_path):
    root = write_package(
        tmp_path,
        {
            "low.py": "",
            "mid.py": "from pkg.low import x\n",
            "top.py": "import pkg.mid\nfrom pkg import low\n",
            "sub/__init__.py": "from pkg.sub.inner import name\n",
            "sub/inner.py": "from pkg.low import x\n",
        },
    )
    assert cycles(import_edges(root)) == []
