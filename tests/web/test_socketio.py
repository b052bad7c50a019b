"""Rasa's socket.io channel on the real stack: sessions, answers, buttons, reconnects, agents."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Gateway
from tests.web.conftest import WebDebtor

HEX_ID = re.compile(r"^[0-9a-f]{32}$")


def debtor(made: list[WebDebtor], base_url: str, language: str = "de") -> WebDebtor:
    """Make a socket.io debtor that the fixture disconnects afterwards."""
    made.append(WebDebtor(base_url, language=language))
    return made[-1]


def handoff_for(gateway: Gateway, sender: str) -> dict[str, Any]:
    """Return the sender's queued handoff."""
    found = [h for h in gateway.handoffs("queued") if h["sender"] == sender]
    assert found, f"no queued handoff for {sender}"
    return found[-1]


def agent_reply(gateway: Gateway, handoff_id: int, text: str) -> None:
    """Take a handoff and write to the debtor through the console API."""
    headers = {"Authorization": f"Bearer {gateway.token}"}
    taken = gateway.http.post(f"/api/console/handoffs/{handoff_id}/take", headers=headers)
    assert taken.status_code == 200, taken.text
    sent = gateway.http.post(
        f"/api/console/handoffs/{handoff_id}/reply", json={"text": text}, headers=headers
    )
    assert sent.status_code == 200, sent.text


async def test_session_request_is_confirmed_with_the_id_or_a_new_one(
    web_debtors: list[WebDebtor], base_url: str
) -> None:
    """A valid id comes back unchanged; none, a short or a strange one gets a fresh id."""
    fresh = await debtor(web_debtors, base_url).connect()
    assert HEX_ID.match(fresh)
    chosen = uuid.uuid4().hex
    assert await debtor(web_debtors, base_url).connect(chosen) == chosen
    for bad in ("abc", "../../etc/passwd-0000000000", "x" * 65, 12345):
        issued = await debtor(web_debtors, base_url).connect(bad)  # type: ignore[arg-type]
        assert issued != bad and HEX_ID.match(issued)


@pytest.mark.parametrize(
    ("language", "greeting", "disclosure", "ask"),
    [
        ("de", "Hallo", "automatisiert", "Aktenzeichen"),
        ("en", "Hello", "automated", "claim reference"),
    ],
)
async def test_first_answer_discloses_the_assistant_in_the_widget_language(
    web_debtors: list[WebDebtor],
    base_url: str,
    language: str,
    greeting: str,
    disclosure: str,
    ask: str,
) -> None:
    """The language in customData reaches the bot; typing brackets the answer."""
    web = debtor(web_debtors, base_url, language)
    await web.connect()
    turns = await web.say(greeting)
    text = "\n".join(t.get("text", "") for t in turns)
    assert disclosure in text and ask in text, text
    assert web.typing == [True, False]
    assert all(set(t) <= {"text", "quick_replies", "metadata"} for t in turns), turns


async def test_buttons_become_quick_replies_and_payloads_work(
    web_debtors: list[WebDebtor], base_url: str
) -> None:
    """Bot buttons arrive as Rasa's quick_replies; sending a payload answers them."""
    web = debtor(web_debtors, base_url)
    await web.connect()
    await web.say("Hallo")
    await web.say("260000117")
    details = await web.say("14.03.1987")
    offer = await web.say("Ich kann höchstens 50 im Monat zahlen")
    with_buttons = [t for t in details + offer if t.get("quick_replies")]
    assert with_buttons, details + offer
    replies = with_buttons[-1]["quick_replies"]
    assert all(r["content_type"] == "text" and r["title"] and r["payload"] for r in replies)
    # Exactly the shape rasa-webchat renders as buttons: text and quick_replies only.
    assert set(with_buttons[-1]) == {"text", "quick_replies"}
    affirm = next(r for r in replies if r["payload"] == "/affirm")
    done = await web.texts(affirm["payload"])
    assert "festgehalten" in done, done


async def test_reconnect_with_the_same_session_continues_without_duplicates(
    web_debtors: list[WebDebtor], base_url: str, gateway: Gateway
) -> None:
    """A reload keeps the conversation; nothing is replayed unless history is asked for."""
    first = debtor(web_debtors, base_url)
    session_id = await first.connect()
    await first.say("Hallo")
    asked = await first.texts("260000117")
    assert "Geburtsdatum" in asked, asked
    await first.close()

    again = debtor(web_debtors, base_url)
    assert await again.connect(session_id) == session_id
    await asyncio.sleep(0.5)
    assert again.drain() == []  # the widget shows its own stored history
    details = (await again.texts("14.03.1987")).replace("\u00a0", " ")
    assert "475,68 €" in details, details  # the identity check went on where it was

    reader = debtor(web_debtors, base_url)
    await reader.connect(session_id, history=True)
    await asyncio.sleep(0.5)
    history = reader.drain()
    assert history and all(t["metadata"]["history"] is True for t in history)
    assert any("Geburtsdatum" in t.get("text", "") for t in history)
    assert any("475,68" in t.get("text", "").replace("\u00a0", " ") for t in history)


async def test_agent_reply_arrives_live_once_and_offline_replies_on_reconnect(
    web_debtors: list[WebDebtor], base_url: str, gateway: Gateway
) -> None:
    """Console replies reach an open socket at once and are never sent twice."""
    web = debtor(web_debtors, base_url)
    session_id = await web.connect()
    sender = f"web:{session_id}"
    await web.say("Ich möchte bitte mit einem Mitarbeiter sprechen")
    handoff = handoff_for(gateway, sender)

    await asyncio.to_thread(
        agent_reply, gateway, handoff["id"], "Guten Tag, hier ist Frau Schmidt."
    )
    live = await web.next_turn(timeout=15)
    assert live["text"] == "Guten Tag, hier ist Frau Schmidt."
    assert live["metadata"]["custom"] == {"author": "agent"}

    # Delivered: the debtor's next message does not bring it again (the agent holds it).
    assert await web.say("Danke, ich bin da.") == []

    # Written while the page is closed: it waits and comes with the reconnect.
    await web.close()
    headers = {"Authorization": f"Bearer {gateway.token}"}
    sent = await asyncio.to_thread(
        gateway.http.post,
        f"/api/console/handoffs/{handoff['id']}/reply",
        json={"text": "Sind Sie noch da?"},
        headers=headers,
    )
    assert sent.status_code == 200, sent.text
    back = debtor(web_debtors, base_url)
    await back.connect(session_id)
    missed = await back.next_turn(timeout=15)
    assert missed["text"] == "Sind Sie noch da?"
    await asyncio.sleep(0.5)
    assert back.drain() == []


async def test_garbage_frames_are_ignored_and_the_socket_keeps_working(
    web_debtors: list[WebDebtor], base_url: str
) -> None:
    """Frames of the wrong shape or size change nothing; the next real message is answered."""
    web = debtor(web_debtors, base_url)
    await web.connect()
    for frame in (None, "Hallo", ["Hallo"], 42, {}, {"message": 42}, {"message": "  \x00\x07 "}):
        await web.client.emit("user_uttered", frame)
    await web.client.emit("user_uttered", {"message": "x" * 4001})
    await web.client.emit("session_request", "not a dict")
    await web.client.emit("no_such_event", {"message": "Hallo"})
    await asyncio.sleep(1.0)
    assert web.drain() == [] and web.typing == []
    assert web.client.connected
    assert "Aktenzeichen" in await web.texts("Hallo")


async def test_other_origins_are_refused(base_url: str) -> None:
    """A page on another origin cannot open the gateway's socket (no cross-site chat)."""
    async with httpx.AsyncClient(base_url=base_url) as http:
        foreign = await http.get(
            "/socket.io/",
            params={"EIO": "4", "transport": "polling"},
            headers={"Origin": "https://evil.example"},
        )
        own = await http.get(
            "/socket.io/",
            params={"EIO": "4", "transport": "polling"},
            headers={"Origin": base_url},
        )
    assert foreign.status_code == 400
    assert own.status_code == 200 and own.text.startswith("0{")
