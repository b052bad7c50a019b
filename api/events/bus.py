"""Publish/subscribe for live updates (console, debtor channels).

State lives in the database; the bus only tells listeners that something
happened. With `QUITT_REDIS_URL` set, events cross gateway processes through
Redis pub/sub, so two gateways serve one console; otherwise they stay in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aioredis

logger = logging.getLogger(__name__)

Event = dict[str, Any]
CONSOLE = "console"


def conversation_topic(sender_id: str) -> str:
    """Return the topic a debtor's live channel listens on."""
    return f"conversation:{sender_id}"


class EventBus(ABC):
    """Topics carry JSON-serialisable dicts to every current subscriber."""

    @abstractmethod
    async def publish(self, topic: str, event: Event) -> None:
        """Send an event to the topic's subscribers."""

    @abstractmethod
    def subscribe(self, topic: str) -> contextlib.AbstractAsyncContextManager[AsyncIterator[Event]]:
        """Listen to a topic for as long as the context is open."""

    async def close(self) -> None:  # noqa: B027 - most buses hold nothing to release
        """Release connections."""


class LocalBus(EventBus):
    """In-process fan-out over asyncio queues."""

    def __init__(self, max_backlog: int = 1000) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Event]]] = {}
        self._max_backlog = max_backlog

    async def publish(self, topic: str, event: Event) -> None:
        """Put the event on every subscriber's queue (a full queue drops the oldest)."""
        for queue in list(self._subscribers.get(topic, ())):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(event)

    @contextlib.asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[Event]]:
        """Yield an iterator over the topic's events."""
        queue: asyncio.Queue[Event] = asyncio.Queue(self._max_backlog)
        self._subscribers.setdefault(topic, set()).add(queue)

        async def events() -> AsyncIterator[Event]:
            while True:
                yield await queue.get()

        try:
            yield events()
        finally:
            self._subscribers[topic].discard(queue)


class RedisBus(EventBus):
    """Fan-out across processes with Redis pub/sub."""

    def __init__(self, url: str) -> None:
        self._redis = aioredis.from_url(url, decode_responses=True)

    async def publish(self, topic: str, event: Event) -> None:
        """Publish the event as JSON on the Redis channel of the topic."""
        await self._redis.publish(f"quitt:{topic}", json.dumps(event, default=str))

    @contextlib.asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[Event]]:
        """Yield an iterator over the topic's events from Redis."""
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(f"quitt:{topic}")

        async def events() -> AsyncIterator[Event]:
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=30.0)
                if message is None or message.get("type") != "message":
                    continue
                try:
                    yield json.loads(message["data"])
                except (TypeError, ValueError):
                    logger.warning("dropped a malformed bus message on %s", topic)

        try:
            yield events()
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        """Close the Redis connection pool."""
        await self._redis.aclose()


def make_bus(redis_url: str | None) -> EventBus:
    """Return the Redis bus when a URL is configured, else the in-process bus."""
    return RedisBus(redis_url) if redis_url else LocalBus()
