"""Schemathesis against the running gateway's OpenAPI: no 5xx, answers as documented.

Generated from `/openapi.json` of the session stack's gateway (real Rasa, actions
and database behind it). Each operation gets a bounded number of examples, so
the run stays within about a minute; an agent's bearer token rides along, so
the console endpoints are exercised past their authentication too.
"""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from api.launcher import Stack
from tests.support.stack import AGENT_EMAIL, AGENT_PASSWORD

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 8
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def gateway_url(stack: Stack) -> str:
    """Return the session stack's gateway URL."""
    return f"http://127.0.0.1:{stack.gateway_port}"


def bearer(base_url: str) -> dict[str, str]:
    """Log in as the seeded agent and return the authorization header."""
    login = httpx.post(
        f"{base_url}/api/auth/login",
        json={"email": AGENT_EMAIL, "password": AGENT_PASSWORD},
        timeout=30,
    )
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def fuzz(base_url: str, max_examples: int = MAX_EXAMPLES) -> list[str]:
    """Run every operation's generated cases; return the failures found, one line each."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    headers = bearer(base_url)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=max_examples,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
            report_multiple_bugs=False,
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=CHECKS, headers=headers, timeout=60)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # one line per failing operation
            failures.append(f"{operation.label}: {str(exc).strip()[:600]}")
    return failures


def test_the_gateway_answers_every_generated_request_as_documented(stack: Stack) -> None:
    assert fuzz(gateway_url(stack)) == []
