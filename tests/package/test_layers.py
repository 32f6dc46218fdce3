"""The folders are the pipeline: each imports only the folders below it.

``_read`` → ``_table`` → ``_query`` → ``_store`` → the public faces. Reading
settings files needs neither SQLAlchemy nor pandas, so ``_read`` imports
neither at module level (a load starts reading while they import).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "naklar"
#: Folder -> the naklar folders (and top-level modules) it may import.
ALLOWED = {
    "_read": {"_read", "errors", "decorator"},
    "_table": {"_table", "_read", "errors", "decorator"},
    "_query": {"_query", "_table", "_read", "errors", "decorator"},
    "_store": {"_store", "_query", "_table", "_read", "errors", "decorator"},
}
HEAVY = ("sqlalchemy", "pandas", "numpy", "pyarrow")


def _modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).glob("*.py"))


def _naklar_imports(path: Path) -> set[str]:
    """The first part under ``naklar`` of every naklar import in the file."""
    folder = path.parent.name
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0 and (node.module or "").startswith("naklar."):
                found.add(node.module.split(".")[1])
            elif node.level == 1:
                found.add(folder)
            elif node.level == 2:
                found.update(
                    [node.module.split(".")[0]]
                    if node.module
                    else [alias.name for alias in node.names]
                )
    return found


def _module_level_imports(path: Path) -> set[str]:
    """Top-level packages imported when the module is (not inside functions)."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("folder", sorted(ALLOWED))
def test_a_folder_imports_only_the_folders_below_it(folder: str) -> None:
    wrong = {
        path.name: sorted(_naklar_imports(path) - ALLOWED[folder]) for path in _modules(folder)
    }

    assert {name: imports for name, imports in wrong.items() if imports} == {}


@pytest.mark.parametrize("path", _modules("_read"), ids=lambda path: path.name)
def test_reading_modules_import_neither_sqlalchemy_nor_pandas(path: Path) -> None:
    assert _module_level_imports(path) & set(HEAVY) == set()
