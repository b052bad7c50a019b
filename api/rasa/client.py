"""Talk to the Rasa replicas over their REST channel; Rasa stays behind the gateway.

Several Rasa processes share one tracker store and one Redis lock store, so any
replica can answer any conversation. The client still sends a conversation to
the same replica while it is healthy (rendezvous hashing on the sender), which
spreads conversations evenly and moves only the conversations of a failed
replica when one goes away.

A turn that fails half-way is the delicate case: after a timeout or a dropped
connection the gateway cannot tell whether Rasa processed the message. Every
message therefore carries a turn id in its metadata, which Rasa stores with the
user event. Before sending the message again, the client asks the tracker (the
source of truth) whether that turn already happened; if it did, the bot's
answer is read back from the tracker instead of running the turn twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from collections.abc import Sequence
from typing import Any

import httpx

from domain.errors import QuittError

logger = logging.getLogger(__name__)

# Metadata key of the turn id; a channel may set it (a stable id of its own event).
TURN_ID = "turn_id"
# Keys of a Rasa bot event's `data` that the REST channel passes on.
_BOT_DATA = ("buttons", "custom", "image", "attachment", "quick_replies", "elements")


class RasaUnavailable(QuittError):
    """Rasa did not answer in time or answered with an error."""

    status_code = 503


class _Ambiguous(Exception):
    """The request may have reached Rasa, but no answer came back."""


class _Unreachable(Exception):
    """The request never reached Rasa (connection refused, connect timeout)."""


def parse_urls(value: str | Sequence[str]) -> list[str]:
    """Return the replica URLs from a comma-separated string or a list, without duplicates."""
    items = value.split(",") if isinstance(value, str) else list(value)
    urls = [item.strip().rstrip("/") for item in items if item.strip()]
    if not urls:
        raise ValueError("at least one Rasa URL is needed")
    return list(dict.fromkeys(urls))


def rendezvous_order(urls: Sequence[str], key: str) -> list[str]:
    """Order the replicas for a conversation: highest hash of (replica, key) first."""

    def weight(url: str) -> bytes:
        return hashlib.sha256(f"{url}\x00{key}".encode()).digest()

    return sorted(urls, key=weight, reverse=True)


def turn_answer(
    events: list[dict[str, Any]], turn_id: str, sender: str
) -> list[dict[str, Any]] | None:
    """Rebuild the REST answer of a finished turn from tracker events, or None if not there.

    The turn is the user event whose metadata carries `turn_id`; its answer is
    every bot event until the next user event. A turn counts as finished when
    the bot went back to listening after it (Rasa saves a turn's events at once).
    """
    start = None
    for index, event in enumerate(events):
        if event.get("event") == "user" and (event.get("metadata") or {}).get(TURN_ID) == turn_id:
            start = index
    if start is None:
        return None
    answer: list[dict[str, Any]] = []
    finished = False
    for event in events[start + 1 :]:
        kind = event.get("event")
        if kind == "user":
            finished = True
            break
        if kind == "bot":
            message: dict[str, Any] = {"recipient_id": sender}
            if event.get("text"):
                message["text"] = event["text"]
            data = event.get("data") or {}
            message.update({k: data[k] for k in _BOT_DATA if data.get(k)})
            answer.append(message)
        elif kind == "action" and event.get("name") == "action_listen":
            finished = True
    return answer if finished else None


class RasaClient:
    """A pooled HTTP client for one or more Rasa replicas, with failover."""

    def __init__(
        self,
        urls: str | Sequence[str],
        *,
        timeout: float = 30.0,
        token: str | None = None,
        connect_timeout: float = 3.0,
        down_seconds: float = 5.0,
        settle_seconds: float = 1.5,
    ) -> None:
        self.urls = parse_urls(urls)
        self._settle_seconds = settle_seconds
        self._token = token
        self._down_seconds = down_seconds
        # Replica -> monotonic time until which it is tried last.
        self._down_until: dict[str, float] = {}
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=connect_timeout))

    @property
    def base_url(self) -> str:
        """Return the first replica's URL."""
        return self.urls[0]

    def replicas_for(self, sender: str) -> list[str]:
        """Return the replicas to try for a conversation: its own first, known-down ones last."""
        now = time.monotonic()
        ordered = rendezvous_order(self.urls, sender)
        return sorted(ordered, key=lambda url: self._down_until.get(url, 0.0) > now)

    def _mark(self, url: str, *, down: bool) -> None:
        if down:
            self._down_until[url] = time.monotonic() + self._down_seconds
        else:
            self._down_until.pop(url, None)

    def _params(self) -> dict[str, str] | None:
        return {"token": self._token} if self._token else None

    async def _call(
        self, url: str, method: str, path: str, *, body: Any = None, api: bool = False
    ) -> Any:
        """One request to one replica; sort failures into unreachable, ambiguous or final."""
        try:
            response = await self._http.request(
                method, url + path, json=body, params=self._params() if api else None
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise _Unreachable(type(exc).__name__) from exc
        except httpx.HTTPError as exc:
            # Read timeouts, dropped connections: the replica may have done the work.
            raise _Ambiguous(type(exc).__name__) from exc
        if response.status_code in (502, 503, 504):
            raise _Unreachable(f"HTTP {response.status_code}")
        if response.status_code != 200:
            raise RasaUnavailable(f"the dialogue engine answered HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError as exc:
            raise RasaUnavailable("the dialogue engine answered something unexpected") from exc

    async def _request(
        self, sender: str, method: str, path: str, *, body: Any = None, api: bool = False
    ) -> Any:
        """Send to the conversation's replica, failing over to the others."""
        problem = "no replica"
        for url in self.replicas_for(sender):
            try:
                answer = await self._call(url, method, path, body=body, api=api)
            except (_Unreachable, _Ambiguous) as exc:
                problem = str(exc)
                logger.warning("Rasa replica %s failed (%s); trying the next one", url, exc)
                self._mark(url, down=True)
                continue
            self._mark(url, down=False)
            return answer
        raise RasaUnavailable(f"the dialogue engine is unreachable ({problem})")

    async def _processed(self, url: str, sender: str, turn_id: str) -> list[dict[str, Any]] | None:
        """Ask a replica's tracker whether the turn already happened; return its answer."""
        tracker = await self._call(url, "GET", f"/conversations/{sender}/tracker", api=True)
        events = tracker.get("events") if isinstance(tracker, dict) else None
        return turn_answer(events or [], turn_id, sender)

    async def send(
        self, *, sender: str, text: str, metadata: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Send one debtor message and return Rasa's bot messages (each turn runs once)."""
        turn_id = str(metadata.get(TURN_ID) or uuid.uuid4().hex)
        payload = {"sender": sender, "message": text, "metadata": {**metadata, TURN_ID: turn_id}}
        uncertain = False
        problem = "no replica"
        for url in self.replicas_for(sender):
            try:
                if uncertain:
                    done = await self._processed(url, sender, turn_id)
                    if done is not None:
                        logger.info("turn %s was processed before the failure; not resent", turn_id)
                        self._mark(url, down=False)
                        return done
                body = await self._call(url, "POST", "/webhooks/rest/webhook", body=payload)
            except _Unreachable as exc:
                problem = str(exc)
                logger.warning("Rasa replica %s unreachable (%s); trying the next one", url, exc)
                self._mark(url, down=True)
                continue
            except _Ambiguous as exc:
                problem = str(exc)
                logger.warning(
                    "Rasa replica %s failed mid-turn (%s); checking the tracker", url, exc
                )
                self._mark(url, down=True)
                uncertain = True
                # Rasa's Redis ticket lock: the failed replica's ticket must expire before
                # ours. Both live as long; ours is served only if a once-a-second check
                # falls between the two expiries, so ours is taken well after the other.
                await asyncio.sleep(self._settle_seconds)
                continue
            self._mark(url, down=False)
            if not isinstance(body, list):
                raise RasaUnavailable("the dialogue engine answered something unexpected")
            return [m for m in body if isinstance(m, dict)]
        raise RasaUnavailable(f"the dialogue engine is unreachable ({problem})")

    async def append_events(self, *, sender: str, events: list[dict[str, Any]]) -> None:
        """Append events to a conversation's tracker (Rasa's HTTP API)."""
        path = f"/conversations/{sender}/tracker/events"
        await self._request(sender, "POST", path, body=events, api=True)

    async def trigger_intent(
        self, *, sender: str, intent: str, metadata: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Make the bot act on an intent the gateway decided on; return its messages."""
        body = {"name": intent, "entities": {}, "metadata": metadata or {}}
        path = f"/conversations/{sender}/trigger_intent"
        answer = await self._request(sender, "POST", path, body=body, api=True)
        messages = answer.get("messages") if isinstance(answer, dict) else None
        return [m for m in messages or [] if isinstance(m, dict)]

    async def replica_health(self) -> dict[str, bool]:
        """Return, per replica, whether it is up with a model loaded."""

        async def one(url: str) -> bool:
            try:
                response = await self._http.get(url + "/status", params=self._params(), timeout=5.0)
                return response.status_code == 200 and bool(response.json().get("model_file"))
            except (httpx.HTTPError, ValueError):
                return False

        results = await asyncio.gather(*(one(url) for url in self.urls))
        return dict(zip(self.urls, results, strict=True))

    async def healthy(self) -> bool:
        """Return whether at least one replica is up with a model loaded."""
        return any((await self.replica_health()).values())

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()
