"""The one handler that turns the domain's exceptions (`domain.errors`) into HTTP answers."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import exc as sa_exc

from domain.errors import QuittError, RateLimited, Unauthorized, ValidationFailed

logger = logging.getLogger(__name__)

# Seconds a client should wait before retrying while a dependency is down.
RETRY_AFTER_SECONDS = 5
# Errors that mean "the database cannot be reached or is busy", not "the request is wrong".
DATABASE_UNAVAILABLE = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
)


class ErrorBody(BaseModel):
    """The JSON body of every error answer the gateway gives on purpose."""

    detail: str
    errors: list[str] | None = None


# Documented for every operation (the app passes them to FastAPI), so clients and
# schema checks know the shape of each error answer; 422 stays FastAPI's own.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "The request was refused."},
    401: {"model": ErrorBody, "description": "Missing, wrong or expired credentials."},
    403: {"model": ErrorBody, "description": "Not allowed."},
    404: {"model": ErrorBody, "description": "No such object."},
    409: {"model": ErrorBody, "description": "Clashes with stored state."},
    429: {"model": ErrorBody, "description": "Too many attempts; see Retry-After."},
    503: {"model": ErrorBody, "description": "A dependency is down; see Retry-After."},
}


async def _handle_quitt_error(_request: Request, exc: Exception) -> JSONResponse:
    """Map a domain error to its status code and a JSON body."""
    assert isinstance(exc, QuittError)
    body: dict[str, object] = {"detail": exc.message}
    headers: dict[str, str] = {}
    if isinstance(exc, ValidationFailed):
        body["errors"] = exc.errors
    if isinstance(exc, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse(body, status_code=exc.status_code, headers=headers)


async def _handle_database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """Answer 503 while the database is unreachable; the unit of work was rolled back."""
    # The driver's own message (never the URL or a password), for operators.
    detail = str(getattr(exc, "orig", None) or type(exc).__name__).splitlines()[0][:200]
    logger.error(
        "database unavailable on %s %s: %s: %s",
        request.method,
        request.url.path,
        type(exc).__name__,
        detail,
    )
    return JSONResponse(
        {"detail": "the database is unavailable, please try again shortly"},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _handle_request_validation(_request: Request, exc: Exception) -> Response:
    """Answer 422 as FastAPI does, also when the refused input holds lone surrogates.

    FastAPI's own handler echoes the input as UTF-8, which a lone surrogate
    ("\\ud800" in the JSON) cannot be: that became a 500. ASCII-escaped JSON can.
    """
    assert isinstance(exc, RequestValidationError)
    body = json.dumps({"detail": jsonable_encoder(exc.errors())}, ensure_ascii=True)
    return Response(body, status_code=422, media_type="application/json")


async def _handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    """Answer 500 without leaking a stack trace; log it for operators."""
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "internal server error"}, status_code=500)


def register_error_handlers(app: FastAPI) -> None:
    """Install the domain error handler and the catch-all 500 handler."""
    app.add_exception_handler(QuittError, _handle_quitt_error)
    app.add_exception_handler(RequestValidationError, _handle_request_validation)
    for error in DATABASE_UNAVAILABLE:
        app.add_exception_handler(error, _handle_database_unavailable)
    app.add_exception_handler(Exception, _handle_unexpected)
