"""The report core (metrics, SVG charts) stays pure: the standard library and routing only."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.test_architecture import closure, is_forbidden

CORES = ("lastmile.reports.metrics", "lastmile.reports.svg")


@pytest.mark.parametrize("core", CORES)
def test_core_imports_no_framework_or_domain_module(core: str) -> None:
    """The core, and every lastmile module it reaches, imports no web/DB code or domain."""
    reached = closure(core)
    offences = sorted(
        f"{module} imports {name}"
        for module, names in reached.items()
        for name in names
        if is_forbidden(name, (core, "lastmile.routing"))
    )
    assert core in reached
    assert offences == []


@pytest.mark.parametrize("core", CORES)
def test_importing_the_core_loads_no_web_or_database_code(core: str) -> None:
    """A fresh interpreter importing the core has no web, database or settings module."""
    probe = (
        f"import sys, {core}; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'fastapi', 'starlette', "
        "'sqlalchemy', 'pydantic', 'pydantic_settings', 'httpx', 'redis'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
