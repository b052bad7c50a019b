"""The real stack (Rasa server, action server, gateway), started once per pytest run.

Loaded as a plugin from tests/conftest.py, so `stack`, `gateway` and `database_url`
are the same session-scoped processes in every test directory.
"""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest

from api.db.migrate import upgrade
from api.launcher import Stack
from domain.agents import service as agents_service
from domain.claims import service as claims_service
from domain.config import ROOT
from domain.db import make_engine, session_scope

AGENT_EMAIL = "agent@quitt.test"
AGENT_PASSWORD = "correct-horse-battery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Gateway:
    """A debtor's and an agent's view of the running gateway."""

    base_url: str
    http: httpx.Client = field(init=False)
    _token: str | None = None

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.base_url, timeout=60.0)

    def say(self, sender: str, text: str, **metadata: Any) -> list[dict[str, Any]]:
        """Send a debtor message through the REST channel and return the bot turns."""
        response = self.http.post(
            "/webhooks/rest/webhook", json={"sender": sender, "message": text, "metadata": metadata}
        )
        assert response.status_code == 200, response.text
        return list(response.json())

    def texts(self, sender: str, text: str, **metadata: Any) -> str:
        """Send a message and return the bot's answer as one text."""
        return "\n".join(m.get("text", "") for m in self.say(sender, text, **metadata))

    @property
    def token(self) -> str:
        """Log in once as the test agent."""
        if self._token is None:
            response = self.http.post(
                "/api/auth/login", json={"email": AGENT_EMAIL, "password": AGENT_PASSWORD}
            )
            assert response.status_code == 200, response.text
            self._token = response.json()["access_token"]
        return self._token

    def claim(self, reference: str) -> dict[str, Any]:
        """Read a claim through the agent API."""
        response = self.http.get(
            f"/api/claims/{reference}", headers={"Authorization": f"Bearer {self.token}"}
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def handoffs(self, state: str) -> list[dict[str, Any]]:
        """List handoffs in a state through the agent API."""
        response = self.http.get(
            "/api/handoffs",
            params={"state": state},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert response.status_code == 200, response.text
        return list(response.json())


def seed_database(url: str) -> None:
    """Migrate a database and load the demo claims and a supervisor into it."""
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as db_session:
        claims_service.import_file(db_session=db_session, path=ROOT / "data" / "demo_claims.json")
        agents_service.create_agent(
            db_session=db_session, email=AGENT_EMAIL, password=AGENT_PASSWORD, role="supervisor"
        )
    engine.dispose()


def seeded_sqlite(workdir: Path) -> str:
    """Return the URL of a migrated SQLite database in `workdir` with the demo claims."""
    url = f"sqlite:///{workdir / 'quitt.db'}"
    seed_database(url)
    return url


def trained_model() -> Path:
    """Return the trained Rasa model; fail (never skip) without it."""
    model = ROOT / "models" / "quitt.tar.gz"
    if not model.exists():
        pytest.fail(f"no trained model at {model}: `make test` trains it first")
    return model


def print_log_tails(log_dir: Path, chars: int = 3000) -> None:
    """Print the end of every process's log, for a failure's post-mortem."""
    for log in sorted(log_dir.glob("*.log")):
        tail = log.read_text(errors="replace")[-chars:]
        print(f"\n--- {log.name} (tail) ---\n{tail}", file=sys.stderr)


@contextmanager
def running_stack(
    database_url: str,
    log_dir: Path,
    *,
    gateway_port: int | None = None,
    extra_env: Mapping[str, str] | None = None,
    more_gateways: Sequence[int] = (),
    log_tail: int = 3000,
    **options: Any,
) -> Iterator[Stack]:
    """Run the whole stack on free ports until it answers; stop it and show its logs after.

    `more_gateways` are the ports of further gateways, started before the wait;
    `options` go to `Stack` (replicas, ports, Redis, lock lifetime).
    """
    running = Stack(
        database_url=database_url,
        gateway_port=gateway_port or _free_port(),
        rasa_port=_free_port(),
        action_port=_free_port(),
        model=trained_model(),
        log_dir=log_dir,
        extra_env=dict(extra_env or {}),
        **options,
    )
    running.start()
    try:
        for port in more_gateways:
            running.add_gateway(port)
        running.wait_ready(timeout=300)
        yield running
    finally:
        running.stop()
        print_log_tails(log_dir, log_tail)


class TwilioAccount(Protocol):
    """What a Twilio stand-in tells the gateway about itself."""

    account_sid: str
    auth_token: str
    base_url: str


def twilio_env(standin: TwilioAccount, public_url: str) -> dict[str, str]:
    """Return the settings that point a gateway at a Twilio stand-in under its public URL."""
    return {
        "QUITT_PUBLIC_URL": public_url,
        "QUITT_TWILIO_ACCOUNT_SID": standin.account_sid,
        "QUITT_TWILIO_AUTH_TOKEN": standin.auth_token,
        "QUITT_TWILIO_API_BASE": standin.base_url,
    }


def wait_healthy(url: str, what: str, timeout: float = 120.0) -> None:
    """Wait until a gateway at `url` answers /health; fail the test if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{what} did not start")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Run the whole stack on free ports with a migrated, seeded SQLite database."""
    workdir = tmp_path_factory.mktemp("stack")
    port = _free_port()
    with running_stack(
        seeded_sqlite(workdir),
        workdir / "logs",
        gateway_port=port,
        log_tail=4000,
        # The gateway's own address is the stack's public URL: links the bot gives (the
        # QR code of a confirmation) must open on it.
        extra_env={
            "QUITT_ENVIRONMENT": "test",
            "QUITT_REST_TOKEN": "",
            "QUITT_PUBLIC_URL": f"http://127.0.0.1:{port}",
        },
    ) as running:
        yield running


@pytest.fixture(scope="session")
def gateway(stack: Stack) -> Gateway:
    """Return a client of the running gateway."""
    return Gateway(f"http://127.0.0.1:{stack.gateway_port}")


@pytest.fixture(scope="session")
def database_url(stack: Stack) -> str:
    """Return the stack's database URL."""
    return stack.database_url
