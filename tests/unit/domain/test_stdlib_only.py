"""The domain imports nothing outside the standard library and itself."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import appliance.domain

DOMAIN_DIR = Path(appliance.domain.__file__).parent
MODULES = sorted(DOMAIN_DIR.glob("*.py"))


def _imported_modules(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative imports stay inside appliance.domain
                names.append("appliance.domain")
            elif node.module is not None:
                names.append(node.module)
    return names


def _allowed(module: str) -> bool:
    top = module.split(".")[0]
    return (
        top in sys.stdlib_module_names
        or module == "appliance.domain"
        or module.startswith("appliance.domain.")
    )


def test_domain_modules_found() -> None:
    assert len(MODULES) >= 5


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_imports_are_stdlib_or_domain(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    foreign = [m for m in _imported_modules(tree) if not _allowed(m)]
    assert foreign == [], f"{path.name} imports {foreign}"


@pytest.mark.parametrize(
    ("source", "ok"),
    [
        ("import datetime", True),
        ("from zoneinfo import ZoneInfo", True),
        ("from appliance.domain.tickets import TicketNumber", True),
        ("from . import tickets", True),
        ("import holidays", False),
        ("from appliance.errors import ConfigError", False),
        ("from appliance.domainx import y", False),
        ("import sqlalchemy.sql", False),
    ],
)
def test_checker_itself(source: str, ok: bool) -> None:
    assert all(_allowed(m) for m in _imported_modules(ast.parse(source))) is ok
