"""The insertion core stays pure: the standard library, numpy and the routing core."""

from __future__ import annotations

import subprocess
import sys

from tests.test_architecture import closure, is_forbidden

CORE = "lastmile.slots.insertion"
ALLOWED = (CORE, "lastmile.routing")


def test_insertion_core_imports_no_framework_or_domain_module() -> None:
    """The core, and every lastmile module it reaches, imports no web/DB code or domain."""
    reached = closure(CORE)
    offences = sorted(
        f"{module} imports {name}"
        for module, names in reached.items()
        for name in names
        if is_forbidden(name, ALLOWED)
    )
    assert CORE in reached
    assert offences == []


def test_importing_the_core_loads_no_web_or_database_code() -> None:
    """A fresh interpreter importing the core has no web, database or settings module."""
    probe = (
        f"import sys, {CORE}; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'fastapi', 'starlette', "
        "'sqlalchemy', 'pydantic', 'pydantic_settings', 'httpx', 'redis'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
