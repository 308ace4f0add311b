"""Time axes users have (issue 22): long yearly spans, dates before 1677 at a coarser
resolution, integer time steps, and mixed time zones in a CSV; plus the models package's
import graph (series data apart from the base class, so no module imports another back)."""

from __future__ import annotations

import ast
from pathlib import Path

import tsattn

MODELS_DIR = Path(tsattn.__file__).parent / "models"


def _model_imports(path: Path) -> set[str]:
    """The ``tsattn.models.<module>`` names a file imports (anywhere, type-only included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tsattn.models."):
            found.add(node.module.split(".")[2])
    return found


def test_base_intervals_and_persistence_import_no_module_back():
    graph = {
        name: _model_imports(MODELS_DIR / f"{name}.py")
        for name in ("base", "intervals", "persistence", "series_data", "catalog")
    }
    for name, targets in graph.items():
        for target in targets & set(graph):
            assert name not in graph[target], f"models: {name} <-> {target}"
