"""Publish/subscribe for live updates (console, debtor channels).

State lives in the database; the bus only tells listeners that something
happened. With `QUITT_REDIS_URL` set, events cross gateway processes through
Redis pub/sub, so two gateways serve one console; otherwise they stay in-process.

Redis is never a single point of failure. While it is down, `RedisBus` delivers
events in-process (the gateway keeps serving as one process: its own sockets
and console clients still get everything, other gateway processes miss what
they would have heard through Redis and catch up from the database), reports
itself unavailable to `/health`, and goes back to Redis on its own once a ping
or publish succeeds again: no restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from typing import Any, Final

import redis.asyncio as aioredis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

Event = dict[str, Any]
CONSOLE = "console"
# A Redis that does not answer within these bounds counts as down (never a long hang).
REDIS_CONNECT_TIMEOUT: Final = 1.0
REDIS_COMMAND_TIMEOUT: Final = 2.0
# After a failure, publishing goes in-process for this long before Redis is tried again.
REDIS_RETRY_SECONDS: Final = 2.0
# A subscriber that lost Redis tries to subscribe again this often.
RESUBSCRIBE_SECONDS: Final = 1.0


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

    async def healthy(self) -> bool | None:
        """Return whether the bus's backing service answers (None: it has none)."""
        return None

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
            _put(queue, event)

    @contextlib.asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[Event]]:
        """Yield an iterator over the topic's events."""
        async with self.queue(topic) as queue:
            yield _drain(queue)

    @contextlib.asynccontextmanager
    async def queue(self, topic: str) -> AsyncIterator[asyncio.Queue[Event]]:
        """Yield the queue the topic's events arrive on (for buses that add sources)."""
        queue: asyncio.Queue[Event] = asyncio.Queue(self._max_backlog)
        self._subscribers.setdefault(topic, set()).add(queue)
        try:
            yield queue
        finally:
            self._subscribers[topic].discard(queue)


def _put(queue: asyncio.Queue[Event], event: Event) -> None:
    """Queue an event, dropping the oldest when the subscriber lags far behind."""
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(event)


async def _drain(queue: asyncio.Queue[Event]) -> AsyncIterator[Event]:
    """Yield a queue's events forever."""
    while True:
        yield await queue.get()


class RedisBus(EventBus):
    """Fan-out across processes with Redis pub/sub, in-process while Redis is down."""

    def __init__(self, url: str) -> None:
        self._redis = aioredis.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=REDIS_CONNECT_TIMEOUT,
            socket_timeout=REDIS_COMMAND_TIMEOUT,
        )
        self._local = LocalBus()
        self._down_until = 0.0

    @property
    def degraded(self) -> bool:
        """Tell whether the last Redis call failed (events stay in this process)."""
        return self._down_until > 0.0

    def _mark_down(self, exc: BaseException) -> None:
        if not self.degraded:
            logger.warning(
                "Redis unavailable (%s): events stay in this process", type(exc).__name__
            )
        self._down_until = time.monotonic() + REDIS_RETRY_SECONDS

    def _mark_up(self) -> None:
        if self.degraded:
            logger.info("Redis is back: events cross gateway processes again")
        self._down_until = 0.0

    async def publish(self, topic: str, event: Event) -> None:
        """Publish the event on the topic's Redis channel; in-process while Redis is down."""
        if time.monotonic() >= self._down_until:
            try:
                await self._redis.publish(f"quitt:{topic}", json.dumps(event, default=str))
            except (RedisError, OSError) as exc:
                self._mark_down(exc)
            else:
                self._mark_up()
                return
        # JSON round trip: local subscribers see what Redis subscribers would.
        await self._local.publish(topic, json.loads(json.dumps(event, default=str)))

    @contextlib.asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[Event]]:
        """Yield an iterator over the topic's events, from Redis and from this process.

        A lost Redis connection is opened again in the background; the iterator
        itself never fails because of Redis.
        """
        async with self._local.queue(topic) as queue:
            reader = asyncio.create_task(self._read(topic, queue), name=f"bus-read-{topic}")
            try:
                yield _drain(queue)
            finally:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader

    async def _read(self, topic: str, queue: asyncio.Queue[Event]) -> None:
        """Copy the topic's Redis messages to the queue, subscribing again after failures."""
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(f"quitt:{topic}")
                self._mark_up()
                while True:
                    message = await pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=REDIS_COMMAND_TIMEOUT / 2
                    )
                    if message is None or message.get("type") != "message":
                        continue
                    try:
                        _put(queue, json.loads(message["data"]))
                    except (TypeError, ValueError):
                        logger.warning("dropped a malformed bus message on %s", topic)
            except (RedisError, OSError) as exc:
                self._mark_down(exc)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()
            await asyncio.sleep(RESUBSCRIBE_SECONDS)

    async def healthy(self) -> bool:
        """Ping Redis; a success ends the in-process fallback at once."""
        try:
            await self._redis.ping()
        except (RedisError, OSError) as exc:
            self._mark_down(exc)
            return False
        self._mark_up()
        return True

    async def close(self) -> None:
        """Close the Redis connection pool."""
        await self._redis.aclose()


def make_bus(redis_url: str | None) -> EventBus:
    """Return the Redis bus when a URL is configured, else the in-process bus."""
    return RedisBus(redis_url) if redis_url else LocalBus()
