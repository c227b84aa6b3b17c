"""The ETA engine stays pure: the standard library, numpy and the routing core, nothing else."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import lastmile.eta

PACKAGE = Path(lastmile.eta.__file__).parent
ALLOWED = {"numpy", "scipy", "__future__"}
ALLOWED_LASTMILE = ("lastmile.eta", "lastmile.routing")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_modules_import_only_the_stdlib_numerics_and_the_routing_core() -> None:
    """Every module imports the stdlib, numpy/scipy, lastmile.routing or itself; nothing else."""
    for path in PACKAGE.rglob("*.py"):
        for name in _imports(path):
            top = name.split(".")[0]
            if top == "lastmile":
                assert name.startswith(ALLOWED_LASTMILE), f"{path.name} imports {name}"
            else:
                assert top in ALLOWED or top in sys.stdlib_module_names, f"{path.name}: {name}"


def test_importing_the_engine_loads_no_web_or_database_code() -> None:
    """A fresh interpreter importing lastmile.eta has no web, database or HTTP module."""
    probe = (
        "import sys, lastmile.eta; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'fastapi', 'starlette', "
        "'sqlalchemy', 'pydantic', 'pydantic_settings', 'httpx', 'redis'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
