"""`quitt run` publishes only the gateway: Rasa and the action servers stay on loopback.

Rasa's own REST webhook has no QUITT_REST_TOKEN and the action webhook takes whatever
slots it is sent, so with QUITT_HOST=0.0.0.0 they must still listen on 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from api.launcher import Stack


def test_only_the_gateway_listens_on_a_public_host(tmp_path: Path) -> None:
    stack = Stack(
        database_url=f"sqlite:///{tmp_path / 'quitt.db'}",
        host="0.0.0.0",
        gateway_port=18000,
        rasa_port=18005,
        action_port=18055,
        root=tmp_path,
    )
    rasa = stack._rasa_argv(18005)
    assert rasa[rasa.index("--interface") + 1] == "127.0.0.1"
    assert stack.rasa_urls == ["http://127.0.0.1:18005"]
    endpoints = yaml.safe_load(stack._endpoints(18005).read_text())
    assert endpoints["action_endpoint"]["url"].startswith("http://127.0.0.1:")
    gateway = stack._gateway_argv(18000)
    assert gateway[gateway.index("--host") + 1] == "0.0.0.0"
