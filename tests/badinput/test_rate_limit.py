"""The verification rate limit across conversations, per client IP and phone number.

On the real stack: one client (an IP address, as a proxy forwards it) fails
verification in two conversations, then is refused in a third even with the
right date of birth, while another client passes. Below it, the limiter's
counter in the audit log and in a real Redis, and the client keys.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from domain.audit.models import AuditEvent
from domain.config import get_settings
from domain.conversations.models import Conversation
from domain.db import make_engine, session_scope
from domain.db.columns import utcnow
from domain.db.core import get_engine
from domain.ratelimit import METADATA_KEY, VerificationLimiter, client_keys, ip_key
from policy.errors import InvalidRequest
from policy.identity import CLIENT_MAX_FAILURES, client_rate_limited
from tests.badinput.processes import RedisServer
from tests.support.stack import Gateway

REFERENCE, BIRTH_DATE = "260000117", "14.03.1987"


def _say(gateway: Gateway, who: str, text: str, ip: str) -> str:
    response = gateway.http.post(
        "/webhooks/rest/webhook",
        json={"sender": who, "message": text},
        headers={"X-Forwarded-For": ip},  # uvicorn trusts it from 127.0.0.1, as from a proxy
    )
    assert response.status_code == 200, response.text
    return "\n".join(t.get("text", "") for t in response.json()).replace("\u00a0", " ")


def _fail(gateway: Gateway, who: str, ip: str, times: int) -> str:
    answer = _say(gateway, who, "Hallo", ip)
    for attempt in range(times):
        _say(gateway, who, REFERENCE, ip)
        answer = _say(gateway, who, f"0{attempt + 1}.01.1970", ip)
    return answer


@pytest.mark.integration
def test_a_client_over_the_limit_is_refused_in_every_conversation(
    gateway: Gateway, database_url: str
) -> None:
    guesser = f"203.0.113.{uuid.uuid4().int % 200 + 10}"
    tag = uuid.uuid4().hex[:8]
    locked = _fail(gateway, f"rl-a-{tag}", guesser, 3)  # the conversation locks at 3
    assert "gesperrt" in locked, locked
    _fail(gateway, f"rl-b-{tag}", guesser, CLIENT_MAX_FAILURES - 3)  # a fresh conversation

    third = f"rl-c-{tag}"
    _say(gateway, third, "Hallo", guesser)
    refused = _say(gateway, third, REFERENCE, guesser)  # refused before any proof is asked
    assert "gesperrt" in refused, refused
    # Held for a person now: even the right date of birth gets no answer from the bot.
    assert _say(gateway, third, BIRTH_DATE, guesser) == ""
    for secret in ("412", "475", "Stadtwerke", "Becker"):
        assert secret not in refused

    honest = f"rl-d-{tag}"
    other = f"198.51.100.{uuid.uuid4().int % 200 + 10}"
    _say(gateway, honest, "Hallo", other)
    _say(gateway, honest, REFERENCE, other)
    assert "475,68 €" in _say(gateway, honest, BIRTH_DATE, other)

    engine = make_engine(database_url)
    try:
        with session_scope(engine) as db_session:
            verified = dict(
                db_session.execute(
                    select(Conversation.sender_id, Conversation.verified_claim_reference).where(
                        Conversation.sender_id.in_([third, honest])
                    )
                ).all()
            )
            limited = db_session.scalars(
                select(AuditEvent.conversation_id).where(
                    AuditEvent.kind == "verification_rate_limited"
                )
            ).all()
            counted = db_session.scalars(
                select(AuditEvent.data).where(
                    AuditEvent.kind == "verification_failed_client",
                    AuditEvent.conversation_id.like(f"rl-%-{tag}"),
                )
            ).all()
    finally:
        engine.dispose()
    assert verified == {third: None, honest: REFERENCE}
    assert third in limited
    assert len(counted) == CLIENT_MAX_FAILURES
    assert all(guesser not in str(data) for data in counted)  # only the keyed hash is kept


@pytest.mark.parametrize(
    ("failures", "limited"),
    [(0, False), (CLIENT_MAX_FAILURES - 1, False), (CLIENT_MAX_FAILURES, True)],
)
def test_policy_limit(failures: int, limited: bool) -> None:
    assert client_rate_limited(failures) is limited


def test_policy_refuses_negative_counts() -> None:
    with pytest.raises(InvalidRequest):
        client_rate_limited(-1)


@pytest.mark.parametrize(
    ("host", "counted"),
    [
        ("203.0.113.5", True),
        ("2001:db8::1", True),
        ("127.0.0.1", False),
        ("::1", False),
        ("x", False),
        (None, False),
    ],
)
def test_ip_keys_hide_the_address_and_skip_loopback(host: str | None, counted: bool) -> None:
    key = ip_key(host)
    assert (key is not None) is counted
    if key:
        assert key.startswith("ip:") and str(host) not in key and len(key) == 35


def test_client_keys_trust_only_what_the_gateway_set() -> None:
    ip = ip_key("203.0.113.5")
    assert client_keys(sender_id="rest-1", metadata={METADATA_KEY: ip}) == [ip]
    assert client_keys(sender_id="rest-1", metadata={METADATA_KEY: "ip:forged"}) == []
    whatsapp = client_keys(sender_id="whatsapp:+4915112345678", metadata={"channel": "whatsapp"})
    assert len(whatsapp) == 1 and whatsapp[0].startswith("phone:")
    assert "4915112345678" not in whatsapp[0]
    # A REST client naming itself like a WhatsApp sender cannot charge someone's number.
    assert client_keys(sender_id="whatsapp:+4915112345678", metadata={"channel": "rest"}) == []


@pytest.fixture
def limiter_db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point the limiter's audit-log counter at the migrated SQLite database."""
    monkeypatch.setenv("QUITT_DATABASE_URL", sqlite_url)
    for cache in (get_engine, get_settings):
        cache.cache_clear()
    yield
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    for cache in (get_engine, get_settings):
        cache.cache_clear()


async def test_the_audit_log_counts_without_redis(limiter_db: None) -> None:
    limiter, now = VerificationLimiter(None), utcnow()
    key, other = f"ip:{uuid.uuid4().hex}", f"ip:{uuid.uuid4().hex}"
    for _ in range(CLIENT_MAX_FAILURES - 1):
        await limiter.record_failure([key], sender_id="c1", now=now)
    assert not await limiter.blocked([key], now=now)
    await limiter.record_failure([key], sender_id="c2", now=now)
    assert await limiter.blocked([key], now=now)
    assert await limiter.blocked([other, key], now=now)  # any of the message's clients
    assert not await limiter.blocked([other], now=now)
    assert not await limiter.blocked([key], now=now + timedelta(hours=2))  # the window slid on


async def test_redis_counts_in_a_sliding_window_and_the_audit_log_stands_in(
    limiter_db: None,
) -> None:
    redis = RedisServer()
    redis.start()
    limiter, now = VerificationLimiter(redis.url), utcnow()
    key = f"phone:{uuid.uuid4().hex}"
    try:
        await limiter.record_failure([key], sender_id="c1", now=now - timedelta(hours=2))
        for _ in range(CLIENT_MAX_FAILURES - 1):
            await limiter.record_failure([key], sender_id="c1", now=now)
        assert not await limiter.blocked([key], now=now)  # the old one left the window
        await limiter.record_failure([key], sender_id="c1", now=now)
        assert await limiter.blocked([key], now=now)
        redis.stop()
        # Redis down: the audit log (every failure is there too) still says blocked.
        assert await limiter.blocked([key], now=utcnow())
        await limiter.record_failure([key], sender_id="c1", now=now)  # no error either
    finally:
        await limiter.close()
        redis.stop()
