from __future__ import annotations

from pathlib import Path

import pytest

from lastmile.config import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Tracking runs inline (in the ingest request) so tests see its effects at once."""
    return Settings(environment="test", data_dir=tmp_path, auto_migrate=False, tracking_inline=True)
