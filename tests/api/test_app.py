"""Health, metrics, docs and error answers of the gateway app."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.db import get_session
from domain.db import make_engine
from domain.errors import Conflict


def test_health_ok(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "rasa": "ok"}


def test_health_defaults_to_rasa_ok_without_a_hook(client: TestClient, app: FastAPI) -> None:
    app.state.rasa_check = None
    assert client.get("/health").status_code == 200


def test_health_503_when_rasa_is_down(client: TestClient, app: FastAPI) -> None:
    async def rasa_down() -> bool:
        return False

    app.state.rasa_check = rasa_down
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "rasa": "unavailable"}


def test_health_503_when_the_rasa_check_raises(client: TestClient, app: FastAPI) -> None:
    async def rasa_broken() -> bool:
        raise ConnectionError("refused")

    app.state.rasa_check = rasa_broken
    assert client.get("/health").status_code == 503


def test_health_503_when_the_database_is_down(client: TestClient, app: FastAPI) -> None:
    dead = make_engine(
        "postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 1}
    )

    def dead_session() -> Iterator[Session]:
        session = Session(bind=dead)
        try:
            yield session
        finally:
            session.close()

    app.dependency_overrides[get_session] = dead_session
    response = client.get("/health")
    dead.dispose()
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"
    assert response.json()["rasa"] == "ok"


def test_metrics_count_requests_by_route(client: TestClient) -> None:
    client.get("/health")
    client.get("/api/claims/123")
    text = client.get("/metrics").text
    assert 'quitt_http_requests_total{method="GET",route="/health",status="200"} 1.0' in text
    assert 'route="/api/claims/{reference}",status="401"' in text
    assert "quitt_http_request_duration_seconds_bucket" in text


def test_docs_stay_on(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    assert "/api/claims/{reference}" in client.get("/openapi.json").json()["paths"]


def test_domain_errors_and_crashes_become_json(app: FastAPI, client: TestClient) -> None:
    router = APIRouter()

    @router.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    @router.get("/clash")
    def clash() -> None:
        raise Conflict("already there")

    app.include_router(router)
    crash = client.get("/boom")
    assert crash.status_code == 500
    assert crash.json() == {"detail": "internal server error"}
    assert "secret internals" not in crash.text and "Traceback" not in crash.text
    assert client.get("/clash").status_code == 409
    assert client.get("/clash").json() == {"detail": "already there"}
