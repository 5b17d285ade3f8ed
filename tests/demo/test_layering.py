"""The demo generator stays tooling: it may import the contracts and the source file formats, never
the pipeline (assets, quality, pipelines), so the code location does not grow a test-data path."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
OURS = {
    *("assets", "contracts", "demo", "golden", "mapping"),
    *("pipelines", "quality", "serving", "sinks", "sources"),
}
ALLOWED = {"contracts", "demo", "sources"}
MODULES = sorted((REPO / "demo").glob("*.py"))


def imported_packages(path: Path) -> set[str]:
    """Top-level names of every absolute import in ``path`` (also inside functions)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_the_package_has_modules() -> None:
    assert len(MODULES) > 5


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_demo_imports_only_contracts_and_sources(path: Path) -> None:
    assert imported_packages(path) & OURS <= ALLOWED
