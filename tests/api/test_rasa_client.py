"""The gateway's Rasa client: sticky replicas, failover, and turns that run once.

The replicas here are local stand-ins that speak the part of Rasa's protocol the
client uses (the REST webhook and the tracker endpoint) and share one list of
processed turns, as real replicas share one tracker store. The real Rasa
replicas are killed in tests/faults/test_kill.py.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from api.rasa.client import (
    TURN_ID,
    RasaClient,
    RasaUnavailable,
    parse_urls,
    rendezvous_order,
    turn_answer,
)


@dataclass
class TrackerStore:
    """What the stand-in replicas share: the events of every conversation."""

    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def turns(self, sender: str) -> list[str]:
        """Return the texts of the user turns processed for a conversation."""
        return [e["text"] for e in self.events.get(sender, []) if e["event"] == "user"]


@dataclass
class Replica:
    """A stand-in Rasa replica; `mode` decides how it treats the next webhook call."""

    store: TrackerStore
    mode: str = "ok"  # ok | answer-late (works, answers too late) | hang (works not)
    calls: int = 0
    url: str = ""

    async def webhook(self, request: Request) -> JSONResponse:
        self.calls += 1
        body = await request.json()
        sender, text = body["sender"], body["message"]
        if self.mode == "hang":
            await asyncio.sleep(1.2)
            return JSONResponse([])
        answer = [{"recipient_id": sender, "text": f"echo {text}", "buttons": [{"title": "ja"}]}]
        self.store.events.setdefault(sender, []).extend(
            [
                {"event": "user", "text": text, "metadata": body.get("metadata") or {}},
                {"event": "action", "name": "action_echo"},
                {"event": "bot", "text": f"echo {text}", "data": {"buttons": [{"title": "ja"}]}},
                {"event": "action", "name": "action_listen"},
            ]
        )
        if self.mode == "answer-late":
            await asyncio.sleep(1.2)
        return JSONResponse(answer)

    async def tracker(self, request: Request) -> JSONResponse:
        sender = request.path_params["sender"]
        return JSONResponse({"sender_id": sender, "events": self.store.events.get(sender, [])})

    async def status(self, request: Request) -> JSONResponse:
        return JSONResponse({"model_file": "quitt.tar.gz"})

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/webhooks/rest/webhook", self.webhook, methods=["POST"]),
                Route("/conversations/{sender}/tracker", self.tracker),
                Route("/status", self.status),
            ]
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def store() -> TrackerStore:
    return TrackerStore()


@pytest.fixture
def replicas(store: TrackerStore) -> Iterator[list[Replica]]:
    """Run two stand-in replicas on free ports."""
    servers, running = [], []
    for _ in range(2):
        replica = Replica(store)
        port = _free_port()
        replica.url = f"http://127.0.0.1:{port}"
        server = uvicorn.Server(
            uvicorn.Config(replica.app(), host="127.0.0.1", port=port, log_level="error")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        running.append(replica)
    deadline = time.monotonic() + 10
    while not all(server.started for server, _ in servers):
        assert time.monotonic() < deadline, "stand-in replicas did not start"
        time.sleep(0.05)
    yield running
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=5)


def _dead_url() -> str:
    return f"http://127.0.0.1:{_free_port()}"


def _sender_owned_by(urls: list[str], url: str) -> str:
    """Return a conversation id whose first-choice replica is `url`."""
    return next(
        sender
        for sender in (f"debtor-{i}" for i in range(1000))
        if rendezvous_order(urls, sender)[0] == url
    )


# --- routing ------------------------------------------------------------------------


def test_parse_urls_accepts_a_comma_list_and_drops_duplicates() -> None:
    assert parse_urls(" http://a:1/, http://b:2 ,http://a:1") == ["http://a:1", "http://b:2"]
    assert parse_urls(["http://a:1"]) == ["http://a:1"]
    with pytest.raises(ValueError):
        parse_urls(" , ")


def test_conversations_stick_to_a_replica_and_spread_evenly() -> None:
    urls = ["http://r1:5005", "http://r2:5006", "http://r3:5007"]
    senders = [f"debtor-{i}" for i in range(3000)]
    first = {s: rendezvous_order(urls, s)[0] for s in senders}
    assert first == {s: rendezvous_order(list(reversed(urls)), s)[0] for s in senders}
    shares = [sum(1 for u in first.values() if u == url) / len(senders) for url in urls]
    assert all(0.28 < share < 0.39 for share in shares), shares
    # Losing a replica moves only its own conversations.
    without = {s: rendezvous_order(urls[:2], s)[0] for s in senders}
    moved = {s for s in senders if without[s] != first[s]}
    assert moved == {s for s in senders if first[s] == urls[2]}


# --- reading a turn back from the tracker ---------------------------------------------


def _turn(text: str, turn_id: str, *, finished: bool = True) -> list[dict[str, Any]]:
    events = [
        {"event": "user", "text": text, "metadata": {TURN_ID: turn_id}},
        {"event": "action", "name": "action_offer"},
        {"event": "bot", "text": f"Angebot zu {text}", "data": {"buttons": [{"title": "Ja"}]}},
        {"event": "bot", "text": "Passt das?", "data": {"buttons": None}},
    ]
    return events + ([{"event": "action", "name": "action_listen"}] if finished else [])


def test_turn_answer_rebuilds_the_rest_answer_of_a_finished_turn() -> None:
    events = _turn("Hallo", "t1") + _turn("50 im Monat", "t2")
    assert turn_answer(events, "t2", "jana") == [
        {"recipient_id": "jana", "text": "Angebot zu 50 im Monat", "buttons": [{"title": "Ja"}]},
        {"recipient_id": "jana", "text": "Passt das?"},
    ]
    assert turn_answer(events, "t1", "jana") is not None


def test_turn_answer_is_none_for_an_unknown_or_unfinished_turn() -> None:
    assert turn_answer(_turn("Hallo", "t1"), "t9", "jana") is None
    assert turn_answer(_turn("Hallo", "t1", finished=False), "t1", "jana") is None


# --- against stand-in replicas ----------------------------------------------------------


async def test_a_conversation_stays_on_its_replica(
    replicas: list[Replica], store: TrackerStore
) -> None:
    urls = [r.url for r in replicas]
    client = RasaClient(urls, timeout=2.0)
    sender = _sender_owned_by(urls, urls[1])
    for text in ("Hallo", "260000117", "ja"):
        await client.send(sender=sender, text=text, metadata={})
    await client.aclose()
    assert (replicas[0].calls, replicas[1].calls) == (0, 3)
    assert store.turns(sender) == ["Hallo", "260000117", "ja"]


async def test_a_refused_connection_fails_over_to_another_replica(
    replicas: list[Replica], store: TrackerStore
) -> None:
    dead = _dead_url()
    urls = [dead, replicas[0].url]
    client = RasaClient(urls, timeout=2.0)
    sender = _sender_owned_by(urls, dead)
    answer = await client.send(sender=sender, text="ja", metadata={"channel": "rest"})
    assert answer == [{"recipient_id": sender, "text": "echo ja", "buttons": [{"title": "ja"}]}]
    assert store.turns(sender) == ["ja"]
    # The dead replica is tried last for a while, so the next turn goes straight on.
    assert client.replicas_for(sender)[0] == replicas[0].url
    await client.aclose()


async def test_a_turn_done_before_a_timeout_is_read_back_not_run_again(
    replicas: list[Replica], store: TrackerStore
) -> None:
    slow, other = replicas
    slow.mode = "answer-late"
    urls = [slow.url, other.url]
    client = RasaClient(urls, timeout=0.5)
    sender = _sender_owned_by(urls, slow.url)
    answer = await client.send(sender=sender, text="ja", metadata={})
    await client.aclose()
    assert answer == [{"recipient_id": sender, "text": "echo ja", "buttons": [{"title": "ja"}]}]
    assert store.turns(sender) == ["ja"], "the timed-out turn ran twice"
    assert other.calls == 0


async def test_a_turn_lost_in_a_timeout_is_sent_again(
    replicas: list[Replica], store: TrackerStore
) -> None:
    hung, other = replicas
    hung.mode = "hang"
    urls = [hung.url, other.url]
    client = RasaClient(urls, timeout=0.5)
    sender = _sender_owned_by(urls, hung.url)
    answer = await client.send(sender=sender, text="ja", metadata={TURN_ID: "event-42"})
    await client.aclose()
    assert [m["text"] for m in answer] == ["echo ja"]
    assert store.turns(sender) == ["ja"]
    assert store.events[sender][0]["metadata"][TURN_ID] == "event-42"
    assert other.calls == 1


async def test_no_replica_left_is_a_clear_503() -> None:
    client = RasaClient([_dead_url(), _dead_url()], timeout=1.0)
    with pytest.raises(RasaUnavailable) as raised:
        await client.send(sender="jana", text="Hallo", metadata={})
    assert raised.value.status_code == 503
    assert "unreachable" in raised.value.message
    assert await client.healthy() is False
    await client.aclose()


async def test_health_is_reported_per_replica(replicas: list[Replica]) -> None:
    dead = _dead_url()
    client = RasaClient([replicas[0].url, dead], timeout=1.0)
    assert await client.replica_health() == {replicas[0].url: True, dead: False}
    assert await client.healthy() is True
    await client.aclose()
