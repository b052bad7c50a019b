"""The gateway application: `create_app()` wires routers, errors, health and metrics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.agents.views import router as auth_router
from api.channels.rest import router as rest_router
from api.channels.socketio import mount_webchat
from api.channels.whatsapp import runtime as whatsapp_runtime
from api.channels.whatsapp.views import router as whatsapp_router
from api.claims.views import router as claims_router
from api.console.router import router as console_router
from api.db import SessionDep
from api.dialogue.service import Gateway
from api.errors import ERROR_RESPONSES, register_error_handlers
from api.events.bus import make_bus
from api.handoffs.views import router as handoffs_router
from api.kpis.views import router as kpis_router
from api.paydetails.views import router as paydetails_router
from api.payments.views import router as payments_router
from api.privacy.views import router as privacy_router
from api.rasa.client import RasaClient
from api.reminders import sweeper as reminders_sweeper
from api.reminders.views import router as reminders_router
from api.sentiment import build_detector
from api.web.views import router as web_router
from domain.config import get_settings
from voice.routes import router as voice_router
from voice.stt import build_engine

RasaCheck = Callable[[], Awaitable[bool]]


class MetricsMiddleware:
    """Count HTTP requests and time them, labelled by route template (pure ASGI)."""

    def __init__(self, app: ASGIApp, *, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            "quitt_http_requests_total",
            "HTTP requests handled by the gateway.",
            ("method", "route", "status"),
            registry=registry,
        )
        self.latency = Histogram(
            "quitt_http_request_duration_seconds",
            "Time to answer HTTP requests.",
            ("method", "route"),
            registry=registry,
        )

    @staticmethod
    def _route(scope: Scope) -> str:
        """Return the matched route's path template, never the raw path (bounded labels)."""
        # The router records the matched route in the scope it was handed.
        route = scope.get("route")
        template = getattr(route, "path_format", None) or getattr(route, "path", None)
        return str(template) if template else "unmatched"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, recording its status and duration."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = self._route(scope)
            method = str(scope.get("method", ""))
            self.requests.labels(method, route, str(status)).inc()
            self.latency.labels(method, route).observe(time.perf_counter() - started)


async def _rasa_ok() -> bool:
    """Report Rasa healthy when no real check has been installed."""
    return True


health_router = APIRouter(tags=["operations"])
Availability = Literal["ok", "unavailable"]


class HealthStatus(BaseModel):
    """What `/health` reports; `redis` only when Redis is configured."""

    status: Literal["ok", "degraded", "unavailable"]
    database: Availability
    rasa: Availability
    redis: Availability | None = None


@health_router.get(
    "/health",
    responses={
        200: {"model": HealthStatus, "description": "Serving (maybe degraded)."},
        503: {"model": HealthStatus, "description": "Cannot serve; names what fails."},
    },
)
async def health(request: Request, db_session: SessionDep) -> JSONResponse:
    """Report whether the database, Rasa and (if configured) Redis answer.

    503 names what fails when the gateway cannot serve (database or Rasa down).
    Redis down is 200 with `"status": "degraded"` and `"redis": "unavailable"`:
    the gateway serves on, its events staying in-process until Redis returns.
    """
    body = {"status": "ok", "database": "ok", "rasa": "ok"}
    try:
        db_session.execute(text("SELECT 1"))
    except Exception:
        db_session.rollback()
        body["database"] = "unavailable"
    check: RasaCheck = getattr(request.app.state, "rasa_check", None) or _rasa_ok
    try:
        rasa_ok = await check()
    except Exception:
        rasa_ok = False
    if not rasa_ok:
        body["rasa"] = "unavailable"
    redis_ok = await request.app.state.bus.healthy()
    if redis_ok is not None:
        body["redis"] = "ok" if redis_ok else "unavailable"
    healthy = body["database"] == "ok" and body["rasa"] == "ok"
    if not healthy:
        body["status"] = "unavailable"
    elif redis_ok is False:
        body["status"] = "degraded"
    return JSONResponse(body, status_code=200 if healthy else 503)


@health_router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Expose the gateway's metrics in Prometheus text format."""
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the Rasa client once per process and close it on shutdown."""
    settings = get_settings()
    # Database work and sentiment readings run in worker threads (`asyncio.to_thread`).
    # Python's default pool has cores + 4 threads: six here, so twenty debtors queue
    # behind six database round trips. The pool matches the engine's connections.
    workers = ThreadPoolExecutor(max_workers=settings.worker_threads, thread_name_prefix="quitt")
    asyncio.get_running_loop().set_default_executor(workers)
    token = settings.rasa_token.get_secret_value() if settings.rasa_token else None
    urls = settings.rasa_urls or settings.rasa_url
    rasa = RasaClient(urls, timeout=settings.rasa_timeout_seconds, token=token)
    app.state.rasa = rasa
    if settings.redis_url:
        # Across processes: every gateway sees every console event.
        app.state.bus = make_bus(settings.redis_url)
    if app.state.rasa_check is _rasa_ok:
        # A check set by the embedding code (tests) wins over the real one.
        app.state.rasa_check = rasa.healthy
    detector = None
    if settings.sentiment_backend != "off":
        detector = build_detector(settings)
        # Models load once, off the event loop.
        await asyncio.to_thread(detector.load)
    app.state.gateway = Gateway(rasa=rasa, bus=app.state.bus, sentiment=detector)
    # One speech engine for voice calls and WhatsApp voice notes, loaded off the loop.
    app.state.stt = build_engine(settings)
    if app.state.stt is not None:
        await asyncio.to_thread(app.state.stt.load)
    app.state.whatsapp = whatsapp_runtime.start(app)
    # Reminders: the outbox swept on a timer in every gateway process (off in tests).
    app.state.reminders = reminders_sweeper.start(settings)
    try:
        yield
    finally:
        if app.state.reminders is not None:
            await app.state.reminders.stop()
        await app.state.whatsapp.stop()
        webchat = getattr(app.state, "webchat", None)
        if webchat is not None:
            await webchat.close()
        voice = getattr(app.state, "voice", None)
        if voice is not None:
            # The voice line is built on the first call; close its Twilio client.
            await voice.close()
        await app.state.bus.close()
        await rasa.aclose()


def create_app() -> FastAPI:
    """Build the gateway app: channels, agent API, health and metrics.

    Refuses (SystemExit, one line) settings the gateway must not serve with.
    """
    problem = get_settings().rest_channel_problem()
    if problem is not None:
        # Before anything listens; uvicorn and `quitt run` stop with this line alone.
        raise SystemExit(f"quitt gateway: {problem}")
    app = FastAPI(
        title="Quitt gateway", version="0.1.0", lifespan=_lifespan, responses=ERROR_RESPONSES
    )
    # Each app has its own registry, so several apps (tests) never clash; other
    # modules register their metrics on `app.state.metrics_registry`.
    registry = CollectorRegistry()
    app.state.metrics_registry = registry
    app.state.rasa_check = _rasa_ok
    app.state.bus = make_bus(None)
    app.add_middleware(MetricsMiddleware, registry=registry)
    register_error_handlers(app)
    for router in (health_router, rest_router, auth_router, claims_router, handoffs_router):
        app.include_router(router)
    app.include_router(payments_router)
    app.include_router(kpis_router)
    app.include_router(paydetails_router)
    app.include_router(privacy_router)
    app.include_router(reminders_router)
    app.include_router(console_router)
    app.include_router(web_router)
    mount_webchat(app)
    app.include_router(whatsapp_router)
    app.include_router(voice_router)
    return app
