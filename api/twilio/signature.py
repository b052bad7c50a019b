"""Is a webhook really from Twilio? `X-Twilio-Signature` against our public URL."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.datastructures import URL
from twilio.request_validator import RequestValidator

from domain.config import Settings
from domain.errors import Forbidden

logger = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Twilio-Signature"


class TwilioNotConfigured(Forbidden):
    """No auth token: no webhook can be proved to come from Twilio, so none is taken."""


def public_url(settings: Settings, url: URL) -> str:
    """Return the URL Twilio signed: our public base, the request's path and query."""
    query = f"?{url.query}" if url.query else ""
    return f"{settings.public_url.rstrip('/')}{url.path}{query}"


def verify(
    *, settings: Settings, url: str, params: Mapping[str, str], signature: str | None
) -> None:
    """Raise unless the signature matches; without a token nothing can match (403)."""
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
    if not token:
        # Even in development: an unverifiable webhook is treated as forged (CONTRACT §3).
        logger.error("QUITT_TWILIO_AUTH_TOKEN is not set: refusing Twilio webhooks")
        raise TwilioNotConfigured("Twilio webhooks are not configured (no auth token)")
    if not signature or not RequestValidator(token).validate(url, dict(params), signature):
        logger.warning("Twilio webhook with a missing or wrong signature refused")
        raise Forbidden("invalid Twilio signature")
