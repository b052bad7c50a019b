"""Integration tests run on the session stack of `tests.support.stack` (a plugin)."""

from __future__ import annotations

from pathlib import Path

import pytest

# Re-exported for the tests that import them from here.
from tests.support.stack import (  # noqa: F401
    AGENT_EMAIL,
    AGENT_PASSWORD,
    Gateway,
    _free_port,
    seed_database,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark everything here as an integration test."""
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.integration)
