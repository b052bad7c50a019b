"""The REST channel for trusted callers: a bearer token when one is set, and never open by
accident in production."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api import cli
from api.main import create_app
from domain.config import get_settings

TOKEN = "rest-token-0123456789abcdef-ZYX"
WEBHOOK = "/webhooks/rest/webhook"
# An empty message is answered `[]` without Rasa: what is tested here is who gets that far.
EMPTY = {"sender": "website-backend", "message": ""}


@pytest.fixture
def settings_from(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Let a test set QUITT_ variables, read afresh; the environment is restored after."""
    for name in ("QUITT_REST_TOKEN", "QUITT_REST_PUBLIC", "QUITT_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _client(monkeypatch: pytest.MonkeyPatch, **env: str) -> TestClient:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    # Not entered as a context manager: the lifespan would connect to Rasa.
    return TestClient(create_app(), raise_server_exceptions=False)


def test_without_a_token_the_channel_is_open(settings_from: pytest.MonkeyPatch) -> None:
    client = _client(settings_from)

    answer = client.post(WEBHOOK, json=EMPTY)

    assert (answer.status_code, answer.json()) == (200, [])


def test_an_empty_token_setting_is_no_token(settings_from: pytest.MonkeyPatch) -> None:
    client = _client(settings_from, QUITT_REST_TOKEN="  ")

    assert client.post(WEBHOOK, json=EMPTY).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-the-token"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"Authorization": "Bearer"},
    ],
    ids=["none", "wrong", "prefix", "longer", "basic", "bare", "empty"],
)
def test_with_a_token_set_calls_without_it_are_refused(
    settings_from: pytest.MonkeyPatch, headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    client = _client(settings_from, QUITT_REST_TOKEN=TOKEN)

    with caplog.at_level(logging.DEBUG):
        answer = client.post(WEBHOOK, json=EMPTY, headers=headers)

    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["www-authenticate"] == "Bearer"
    assert "REST channel" in answer.json()["detail"]
    assert TOKEN[:12] not in answer.text  # never echoed, not even in part
    assert TOKEN[:12] not in caplog.text


def test_with_the_token_a_call_goes_through(
    settings_from: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    client = _client(settings_from, QUITT_REST_TOKEN=TOKEN)

    with caplog.at_level(logging.DEBUG):
        answer = client.post(WEBHOOK, json=EMPTY, headers={"Authorization": f"Bearer {TOKEN}"})

    assert (answer.status_code, answer.json()) == (200, [])
    assert TOKEN[:12] not in caplog.text


def test_the_token_is_checked_before_the_message(settings_from: pytest.MonkeyPatch) -> None:
    """A caller without the token learns nothing about what a valid message looks like."""
    client = _client(settings_from, QUITT_REST_TOKEN=TOKEN)

    answer = client.post(WEBHOOK, json={"sender": "no spaces allowed", "message": "x" * 10**5})

    assert answer.status_code == 401


def test_the_token_is_documented_as_its_own_scheme(settings_from: pytest.MonkeyPatch) -> None:
    schema = _client(settings_from).get("/openapi.json").json()

    assert schema["paths"][WEBHOOK]["post"]["security"] == [{"RestToken": []}]
    assert schema["components"]["securitySchemes"]["RestToken"]["scheme"] == "bearer"


# --- production mode -------------------------------------------------------------------------

PRODUCTION = {"QUITT_ENVIRONMENT": "production", "QUITT_SECRET_KEY": "p" * 40}


def test_production_refuses_to_start_with_an_open_rest_channel(
    settings_from: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(SystemExit) as refused:
        _client(settings_from, **PRODUCTION)

    message = str(refused.value.code)
    assert "\n" not in message
    assert "QUITT_REST_TOKEN" in message and "QUITT_REST_PUBLIC=true" in message


def test_quitt_run_refuses_before_starting_anything(
    settings_from: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in PRODUCTION.items():
        settings_from.setenv(name, value)
    get_settings.cache_clear()

    assert cli.main(["run"]) == 2

    err = capsys.readouterr().err
    assert err.startswith("quitt: QUITT_REST_TOKEN is not set") and err.count("\n") == 1


@pytest.mark.parametrize(
    "env",
    [
        {**PRODUCTION, "QUITT_REST_TOKEN": TOKEN},
        {**PRODUCTION, "QUITT_REST_PUBLIC": "true"},
        {"QUITT_ENVIRONMENT": "development"},
        {"QUITT_ENVIRONMENT": "test"},
    ],
    ids=["production-with-token", "production-public-on-purpose", "development", "test"],
)
def test_the_gateway_starts_otherwise(
    settings_from: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    client = _client(settings_from, **env)

    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert client.post(WEBHOOK, json=EMPTY, headers=headers).status_code == 200


def test_public_on_purpose_does_not_open_a_channel_with_a_token(
    settings_from: pytest.MonkeyPatch,
) -> None:
    client = _client(settings_from, QUITT_REST_TOKEN=TOKEN, QUITT_REST_PUBLIC="true")

    assert client.post(WEBHOOK, json=EMPTY).status_code == 401
