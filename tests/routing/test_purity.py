"""The routing core stays pure: it imports only numerics, solvers and the standard library."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import lastmile.routing

PACKAGE = Path(lastmile.routing.__file__).parent
ALLOWED = {"numpy", "scipy", "pyvrp", "routingkit_cch", "osmium", "lastmile", "__future__"}
ONLY_IN = {"pyvrp": "solver.py", "osmium": "osm_reader.py", "httpx": "osrm.py"}


def _module_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_modules_import_only_allowed_packages() -> None:
    """Every routing module imports the stdlib, numerics, solvers or itself; nothing else."""
    for path in PACKAGE.rglob("*.py"):
        foreign = {
            name
            for name in _module_imports(path)
            if name not in ALLOWED and name not in sys.stdlib_module_names
        }
        assert foreign <= ({"httpx"} if path.name == "osrm.py" else set()), path


def test_solver_and_parser_dependencies_stay_in_their_modules() -> None:
    """Only solver.py imports pyvrp, only osm_reader.py osmium, only osrm.py httpx."""
    for path in PACKAGE.rglob("*.py"):
        for package, home in ONLY_IN.items():
            if package in _module_imports(path):
                assert path.name == home, f"{path.name} imports {package}"


def test_importing_the_core_loads_no_web_or_database_code() -> None:
    """A fresh interpreter importing lastmile.routing has no web, database or HTTP module."""
    probe = (
        "import sys, lastmile.routing; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'fastapi', 'starlette', 'sqlalchemy', 'pydantic', 'httpx', 'redis'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
