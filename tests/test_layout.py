"""The package layout keeps its floors: imports run down only, and no two packages import
each other (issue 16: "models use a training engine; the benchmark uses forecasters")."""

from __future__ import annotations

import ast
from pathlib import Path

import tsattn

ROOT = Path(tsattn.__file__).parent
#: the floors of docs/ARCHITECTURE.md, bottom (0) to top; a module may import its own floor's
#: package and anything below it, never above
FLOORS = {
    "registry": 0,
    "atomic": 0,
    "checks": 0,
    "attention": 1,
    "datasets": 1,
    "nn": 2,
    "training": 3,
    "models": 4,
    "evaluation": 5,
    "benchmark": 6,  # scores quantile forecasts with evaluation's metric definitions
    "commands": 7,
    "cli": 7,
}


def package_of(path: Path) -> str:
    return path.relative_to(ROOT).parts[0].removesuffix(".py")


def imported_packages(path: Path) -> set[str]:
    """Every tsattn package a module imports, at module level or inside functions (type-only
    imports under ``if TYPE_CHECKING`` included: a cycle in annotations is still a cycle)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "tsattn" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_every_package_has_a_floor():
    packages = {package_of(p) for p in ROOT.rglob("*.py")} - {"__init__"}
    assert packages <= set(FLOORS), packages - set(FLOORS)


def test_imports_run_down_only():
    upward = []
    for path in ROOT.rglob("*.py"):
        source = package_of(path)
        if source == "__init__":
            continue
        for target in imported_packages(path) - {source}:
            if FLOORS.get(target, 99) > FLOORS[source] or (
                FLOORS.get(target) == FLOORS[source] and target != source
            ):
                upward.append(f"{path.relative_to(ROOT)} imports tsattn.{target}")
    assert not upward, upward


def test_no_module_cycle_inside_the_engine_and_the_benchmark():
    """checkpoint code takes state and config, never the training run object; the runner
    calls forecasters, never a module that imports the runner back."""
    for folder in ("training", "benchmark"):
        modules = {p.stem: p for p in (ROOT / folder).glob("*.py") if p.stem != "__init__"}
        graph = {
            name: {
                node.module.rsplit(".", 1)[-1]
                for node in ast.walk(ast.parse(path.read_text()))
                if isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith(f"tsattn.{folder}.")
            }
            for name, path in modules.items()
        }
        for name, targets in graph.items():
            for target in targets:
                assert name not in graph.get(target, set()), f"{folder}: {name} <-> {target}"
