"""Fault tests run on PostgreSQL and Redis, which CI always has.

`fresh_database` gives a test module a new, seeded PostgreSQL database of its own
(skipped only outside CI when the servers are absent); `scaled_stack` runs the
production shape on it: two Rasa replicas sharing the tracker store and the
Redis lock store, the action balancer, and two gateways, all supervised.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.launcher import Stack
from tests.badinput.processes import whatsapp  # noqa: F401  (a fixture)
from tests.support import postgres
from tests.support.required import REDIS_URL, require_servers
from tests.support.stack import _free_port, running_stack, seed_database


@pytest.fixture(scope="module")
def fresh_database() -> Iterator[str]:
    """Create, migrate and seed a PostgreSQL database for one module; drop it afterwards."""
    require_servers()
    with postgres.fresh_database("quitt_faults") as url:
        seed_database(url)
        yield url


@pytest.fixture(scope="module")
def scaled_stack(fresh_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Run 2 Rasa replicas, 1 supervised action server behind the balancer, 2 gateways."""
    with running_stack(
        fresh_database,
        tmp_path_factory.mktemp("scaled-stack") / "logs",
        redis_url=REDIS_URL,
        rasa_ports=[_free_port(), _free_port()],
        action_ports=[_free_port()],
        more_gateways=[_free_port()],
        extra_env={"QUITT_ENVIRONMENT": "test", "QUITT_REST_TOKEN": ""},
        # A replica killed mid-turn holds its conversation's lock this long.
        lock_lifetime_seconds=8,
    ) as stack:
        yield stack
