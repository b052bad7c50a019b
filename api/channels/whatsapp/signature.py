"""Is a webhook really from Twilio? `X-Twilio-Signature` against our public URL."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from starlette.datastructures import URL
from twilio.request_validator import RequestValidator

from api.config import Settings
from api.errors import Forbidden, QuittError

logger = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Twilio-Signature"


class TwilioNotConfigured(QuittError):
    """No auth token: Twilio's webhooks cannot be checked, so none is taken."""

    status_code = 503


def public_url(settings: Settings, url: URL) -> str:
    """Return the URL Twilio signed: our public base, the request's path and query."""
    query = f"?{url.query}" if url.query else ""
    return f"{settings.public_url.rstrip('/')}{url.path}{query}"


def verify(
    *, settings: Settings, url: str, params: Mapping[str, str], signature: str | None
) -> None:
    """Raise unless the signature matches; without a token only development is let through."""
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
    if not token:
        if settings.environment == "development":
            logger.warning("QUITT_TWILIO_AUTH_TOKEN unset: Twilio webhook taken UNVERIFIED (dev)")
            return
        logger.error("QUITT_TWILIO_AUTH_TOKEN is not set: refusing Twilio webhooks")
        raise TwilioNotConfigured("Twilio webhooks are not configured")
    if not signature or not RequestValidator(token).validate(url, dict(params), signature):
        logger.warning("Twilio webhook with a missing or wrong signature refused")
        raise Forbidden("invalid Twilio signature")
