"""The wings beside ``graph`` (docs/architecture.md, "Layers"): each imports only core, purpose and
community, and nothing of the platform imports it except the entry points that wire it and ``devtools``
(the layer above everything, whose demo acts through the wings' actions)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLATFORM = {"app", "worker", "core", "purpose", "community", "events", "recognition", "ideas", "graph", "devtools"}
BELOW = {"core", "purpose", "community"}
WINGS = ("events", "recognition", "ideas")


def _imported(path: Path) -> set[str]:
    """Top-level names of the absolute imports of a module."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("wing", WINGS)
def test_a_wing_imports_only_the_layers_below_it_and_only_the_entry_points_import_it(wing):
    for path in (ROOT / wing).rglob("*.py"):
        stray = (_imported(path) & PLATFORM) - BELOW - {wing}
        assert not stray, f"{path.relative_to(ROOT)} imports {sorted(stray)}"
    for package in sorted(PLATFORM - {"app", "worker", "devtools", wing}):
        for path in (ROOT / package).rglob("*.py"):
            assert wing not in _imported(path), f"{path.relative_to(ROOT)} imports {wing}"
