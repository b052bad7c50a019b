"""The verification rate limit across conversations: failed identity checks per client.

The per-conversation lockout (policy.identity: 3 failures, then a lock) stops a
guesser inside one conversation; a guesser who opens a new conversation per
try is stopped here. Every failed check counts against the client it came
from: the IP address the gateway saw (REST, web chat) and the phone number
(WhatsApp, `whatsapp:+49…` senders). A client with `MAX_FAILURES` failures in
the last `WINDOW` may not try again until the oldest of them leaves the window.

Clients are named by keyed hashes (`ip:…`, `phone:…`, HMAC-SHA256 with the
secret key), so neither an IP address nor a phone number reaches Rasa's
tracker, the audit log or a log line. Loopback addresses are not counted
(see `ip_key`): behind a proxy, configure it to forward the client's address.

Where the counter lives: with `QUITT_REDIS_URL`, a sorted set per client in
Redis (one sliding window shared by every process); every failure is also
written to the audit log (`verification_failed_client`), which is the counter
without Redis and the fallback while Redis is down. Both are shared by all
gateway and action-server processes.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import logging
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy import func, select

from domain.audit import service as audit_service
from domain.audit.models import AuditEvent
from domain.config import get_settings
from domain.db import session_scope
from policy.identity import CLIENT_MAX_FAILURES, CLIENT_WINDOW, client_rate_limited

logger = logging.getLogger(__name__)

# Failed identity checks one client may make in WINDOW, over all its conversations.
MAX_FAILURES: Final = CLIENT_MAX_FAILURES
WINDOW: Final = CLIENT_WINDOW
AUDIT_KIND: Final = "verification_failed_client"
# Metadata key under which the gateway passes the client's hashed IP to the dialogue.
METADATA_KEY: Final = "client_key"
_KEY: Final = re.compile(r"^(ip|phone):[0-9a-f]{32}$")
_PHONE: Final = re.compile(r"^\+?\d{6,16}$")
_REDIS_TIMEOUT: Final = 1.0


def client_key(kind: str, value: str) -> str:
    """Return the keyed hash that names a client (`ip:…` or `phone:…`) without revealing it."""
    secret = get_settings().secret_key.get_secret_value().encode()
    digest = hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return f"{kind}:{digest[:32]}"


def ip_key(host: str | None) -> str | None:
    """Return the key of a client IP address; None for loopback or an unreadable address.

    Loopback is what the gateway sees behind a local proxy that does not forward the
    client's address (uvicorn trusts `X-Forwarded-For` from 127.0.0.1): counting it
    would make one limit for everybody, so it is not counted.
    """
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return None
    if address.is_loopback or address.is_unspecified:
        return None
    return client_key("ip", address.compressed)


def client_keys(*, sender_id: str, metadata: Mapping[str, Any]) -> list[str]:
    """Return the clients a message came from: the gateway's IP key and a WhatsApp phone."""
    keys = []
    given = metadata.get(METADATA_KEY)
    if isinstance(given, str) and _KEY.match(given):
        keys.append(given)
    # The channel the gateway names, not the sender id's prefix, which a REST client picks.
    prefix, _, address = sender_id.partition(":")
    if metadata.get("channel") == prefix == "whatsapp" and _PHONE.match(address):
        keys.append(client_key("phone", address))
    return keys


class VerificationLimiter:
    """Counts failed identity checks per client in a sliding window (Redis or the audit log)."""

    def __init__(self, redis_url: str | None = None) -> None:
        self._redis = (
            aioredis.from_url(
                redis_url,
                socket_connect_timeout=_REDIS_TIMEOUT,
                socket_timeout=_REDIS_TIMEOUT,
            )
            if redis_url
            else None
        )

    async def blocked(self, keys: Iterable[str], *, now: datetime) -> bool:
        """Tell whether any of the clients used up its failed checks in the window."""
        keys = list(keys)
        if not keys:
            return False
        counts = await self._redis_counts(keys, now)
        if counts is None:
            counts = await asyncio.to_thread(_audit_counts, keys, now)
        return any(client_rate_limited(n) for n in counts)

    async def record_failure(self, keys: Iterable[str], *, sender_id: str, now: datetime) -> None:
        """Count one failed check against every client it came from."""
        keys = list(keys)
        if not keys:
            return
        await asyncio.to_thread(_audit_failure, keys, sender_id)
        if self._redis is None:
            return
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                for key in keys:
                    name = _redis_name(key)
                    pipe.zadd(name, {uuid.uuid4().hex: now.timestamp()})
                    pipe.expire(name, int(WINDOW.total_seconds()) + 60)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            logger.warning("verification limiter: Redis unavailable (%s)", type(exc).__name__)

    async def _redis_counts(self, keys: list[str], now: datetime) -> list[int] | None:
        """Return the clients' failures in the window from Redis, or None without Redis."""
        if self._redis is None:
            return None
        since = (now - WINDOW).timestamp()
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                for key in keys:
                    pipe.zremrangebyscore(_redis_name(key), 0, since)
                    pipe.zcard(_redis_name(key))
                answers = await pipe.execute()
        except (RedisError, OSError) as exc:
            logger.warning("verification limiter: Redis unavailable (%s)", type(exc).__name__)
            return None
        return [int(n) for n in answers[1::2]]

    async def close(self) -> None:
        """Close the Redis connection pool."""
        if self._redis is not None:
            await self._redis.aclose()


def _redis_name(key: str) -> str:
    return f"quitt:verification-failures:{key}"


def _audit_failure(keys: list[str], sender_id: str) -> None:
    """Write one audit event per client of a failed check (blocking)."""
    with session_scope() as db_session:
        for key in keys:
            audit_service.record(
                db_session=db_session,
                kind=AUDIT_KIND,
                conversation_id=sender_id,
                reasons=("verification_failed",),
                data={"client": key},
            )


def _audit_counts(keys: list[str], now: datetime) -> list[int]:
    """Count the clients' failures in the window in the audit log (blocking)."""
    with session_scope() as db_session:
        return [
            int(
                db_session.scalar(
                    select(func.count())
                    .select_from(AuditEvent)
                    .where(
                        AuditEvent.kind == AUDIT_KIND,
                        AuditEvent.created_at >= now - WINDOW,
                        AuditEvent.data["client"].as_string() == key,
                    )
                )
                or 0
            )
            for key in keys
        ]
