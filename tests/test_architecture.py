"""Architecture guards: the routing core stays pure, and tenant data always names its tenant."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect as sa_inspect

import lastmile
from lastmile.db import models
from lastmile.db.models import Base

SRC = Path(lastmile.__file__).parent
ROUTING = "lastmile.routing"
# What the routing core must not depend on, directly or through other lastmile code: the web
# and database frameworks, settings, and every lastmile module outside lastmile.routing.
FORBIDDEN = ("fastapi", "starlette", "sqlalchemy", "alembic", "psycopg", "uvicorn", "redis",
             "jinja2", "typer", "pydantic_settings")  # fmt: skip
UNSCOPED = {"Organization", "IdempotencyRecord"}


def module_file(name: str) -> Path | None:
    """The source file of a lastmile module, or None if it is not one."""
    parts = name.split(".")
    if parts[0] != "lastmile":
        return None
    base = SRC.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_in(source: str, package: str) -> set[str]:
    """Every module ``source`` imports, relative imports resolved against ``package``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # maybe submodules
    return found


def imports_of(path: Path) -> set[str]:
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    return imports_in(path.read_text(), package)


# The pure cores and the lastmile packages each may use.
PURE_CORES = {
    ROUTING: (ROUTING,),
    "lastmile.eta": ("lastmile.eta", ROUTING),
    "lastmile.tracking.fixes": ("lastmile.tracking.fixes", ROUTING),
    "lastmile.ledger.core": ("lastmile.ledger.core",),
    "lastmile.slots.insertion": ("lastmile.slots.insertion", ROUTING),
    "lastmile.selfservice.policy": ("lastmile.selfservice.policy", "lastmile.orders.status"),
    "lastmile.chat.redact": ("lastmile.chat.redact",),
    "lastmile.chat.quick_replies": ("lastmile.chat.quick_replies",),
    "lastmile.reports.metrics": ("lastmile.reports.metrics", ROUTING),
    "lastmile.reports.svg": ("lastmile.reports.svg",),
}


def is_forbidden(imported: str, allowed: tuple[str, ...] = (ROUTING,)) -> bool:
    """Whether a pure core that may use the ``allowed`` packages may not import ``imported``."""
    if imported.split(".")[0] in FORBIDDEN:
        return True
    inside = any(imported == a or imported.startswith(f"{a}.") for a in allowed)
    return imported.startswith("lastmile.") and not inside


def closure(root: str) -> dict[str, set[str]]:
    """For every module reachable from ``root`` via lastmile imports: what it imports."""
    path = module_file(root)
    assert path is not None, root
    if path.name == "__init__.py":
        todo = [module_name(p) for p in path.parent.rglob("*.py")]
    else:
        todo = [root]
    seen: dict[str, set[str]] = {}
    while todo:
        name = todo.pop()
        path = module_file(name)
        if name in seen or path is None:
            continue
        seen[name] = imports_of(path)
        todo.extend(m for m in seen[name] if m.startswith("lastmile"))
    return seen


@pytest.mark.parametrize("core", sorted(PURE_CORES))
def test_pure_core_imports_no_framework_or_domain_module(core: str) -> None:
    """A pure core, and all lastmile code it reaches, imports no web/DB framework or domain."""
    reached = closure(core)
    assert any(name.startswith(core) for name in reached), f"found no {core} modules"
    offences = sorted(
        f"{module} imports {imported}"
        for module, imported_set in reached.items()
        for imported in imported_set
        if is_forbidden(imported, PURE_CORES[core])
    )
    assert offences == []


def test_import_walker_would_catch_offences() -> None:
    """The walker resolves absolute, from- and relative imports, and flags the forbidden ones."""
    source = (
        "import numpy as np\n"
        "import sqlalchemy.orm\n"
        "from fastapi import APIRouter\n"
        "from ..db import models\n"
        "from . import geo\n"
        "from .travel import TravelModel\n"
    )
    found = imports_in(source, "lastmile.routing")
    assert {"numpy", "sqlalchemy.orm", "fastapi", "lastmile.db.models"} <= found
    assert {"lastmile.routing.geo", "lastmile.routing.travel"} <= found
    flagged = {m for m in found if is_forbidden(m)}
    assert flagged == {"sqlalchemy.orm", "fastapi", "fastapi.APIRouter", "lastmile.db",
                       "lastmile.db.models"}  # fmt: skip
    assert not is_forbidden("lastmile.routing.road.graph")
    assert is_forbidden("lastmile.orders.status")


@pytest.mark.parametrize("core", sorted(PURE_CORES))
def test_importing_a_pure_core_loads_no_web_or_database_code(core: str) -> None:
    """A fresh interpreter importing the core has no web, database or settings module loaded
    (the import walk above misses what third-party imports pull in)."""
    probe = (
        f"import sys, {core}; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'fastapi', 'starlette', "
        "'sqlalchemy', 'pydantic', 'pydantic_settings', 'httpx', 'redis'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]", core

def test_every_tenant_model_has_organization_id() -> None:
    """Every mapped model except Organization and IdempotencyRecord has organization_id."""
    mapped = {mapper.class_.__name__: mapper.class_ for mapper in Base.registry.mappers}
    assert set(models.__all__) - {"Base"} <= set(mapped)
    missing = []
    for name, cls in sorted(mapped.items()):
        if name in UNSCOPED:
            continue
        columns = sa_inspect(cls).columns
        column = columns.get("organization_id")
        if column is None or column.nullable:
            missing.append(name)
            continue
        targets = {fk.target_fullname for fk in column.foreign_keys}
        if targets != {"organizations.id"}:
            missing.append(f"{name} (organization_id does not reference organizations.id)")
    assert missing == []
    for name in UNSCOPED:
        assert "organization_id" not in sa_inspect(mapped[name]).columns
