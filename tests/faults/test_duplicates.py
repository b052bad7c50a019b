"""Duplicate deliveries on every channel are processed once: asserted in the database.

On the session stack (real Rasa, actions, gateway): REST double clicks and named
retries, socket.io frames delivered twice, and Twilio's WhatsApp retries with the
same MessageSid (through one more gateway with WhatsApp on, Twilio played by the
stand-in).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from api.launcher import Stack
from domain.conversations.models import Message
from domain.db import make_engine, session_scope
from domain.handoffs.models import Handoff
from domain.promises.models import Promise
from tests.badinput.processes import GatewayProcess, post_whatsapp
from tests.support.stack import Gateway
from tests.support.twilio_standin import TwilioStandIn, webhook_form
from tests.web.conftest import WebDebtor
from tests.whatsapp.helpers import bodies

pytestmark = pytest.mark.integration


def _count(database_url: str, model: Any, **where: Any) -> int:
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as db_session:
            stmt = select(func.count()).select_from(model)
            for column, value in where.items():
                stmt = stmt.where(getattr(model, column) == value)
            return int(db_session.scalar(stmt) or 0)
    finally:
        engine.dispose()


def _debtor_said(database_url: str, sender: str, text: str) -> int:
    return _count(database_url, Message, conversation_id=sender, author="debtor", text=text)


def _at_once(count: int, send: Any) -> list[Any]:
    """Run `send()` in `count` threads released together; return their results in order."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        results[index] = send()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _rest(base_url: str, sender: str, text: str, **extra: Any) -> httpx.Response:
    with httpx.Client(base_url=base_url, timeout=60) as http:
        return http.post(
            "/webhooks/rest/webhook", json={"sender": sender, "message": text, **extra}
        )


def _texts(turns: list[dict[str, Any]]) -> str:
    return "\n".join(t.get("text", "") for t in turns).replace("\u00a0", " ")


def test_a_double_clicked_yes_on_rest_records_one_promise(
    gateway: Gateway, database_url: str
) -> None:
    who = f"dup-rest-{uuid.uuid4().hex[:8]}"
    for text in ("Hallo", "260000125", "28203"):
        gateway.texts(who, text)
    offer = _texts(gateway.say(who, "ich zahle alles sofort"))
    assert "54,92 €" in offer, offer

    first, second = _at_once(2, lambda: _rest(gateway.base_url, who, "ja"))
    assert first.status_code == second.status_code == 200
    answers = sorted((first.json(), second.json()), key=len)
    assert answers[0] == []  # the double click: no second answer
    assert "Zusage" in _texts(answers[1]), answers[1]
    assert _count(database_url, Promise, conversation_id=who) == 1
    assert _debtor_said(database_url, who, "ja") == 1
    # Once answered, the same text is a new message again (a later "ja" is heard).
    gateway.say(who, "ja")
    assert _debtor_said(database_url, who, "ja") == 2
    assert _count(database_url, Promise, conversation_id=who) == 1


def test_a_double_clicked_human_request_opens_one_handoff(
    gateway: Gateway, database_url: str
) -> None:
    who = f"dup-human-{uuid.uuid4().hex[:8]}"
    text = "Ich möchte bitte mit einem Mitarbeiter sprechen"
    responses = _at_once(3, lambda: _rest(gateway.base_url, who, text))
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert sum(1 for r in responses if r.json()) == 1
    assert _count(database_url, Handoff, conversation_id=who) == 1
    assert _debtor_said(database_url, who, text) == 1


def test_a_named_rest_message_is_processed_once_and_its_retry_gets_the_same_answer(
    gateway: Gateway, database_url: str
) -> None:
    who = f"dup-named-{uuid.uuid4().hex[:8]}"
    first = _rest(gateway.base_url, who, "Hallo", metadata={"message_id": "m-1"})
    assert first.status_code == 200 and first.json()
    retry = _rest(gateway.base_url, who, "Hallo", metadata={"message_id": "m-1"})
    assert retry.status_code == 200
    assert retry.json() == first.json()
    assert _debtor_said(database_url, who, "Hallo") == 1
    # The same id in the header names the same message; a new id is a new message.
    with httpx.Client(base_url=gateway.base_url, timeout=60) as http:
        header = http.post(
            "/webhooks/rest/webhook",
            json={"sender": who, "message": "Hallo"},
            headers={"Idempotency-Key": "m-1"},
        )
    assert header.json() == first.json()
    assert _rest(gateway.base_url, who, "Hallo", metadata={"message_id": "m-2"}).json()
    assert _debtor_said(database_url, who, "Hallo") == 2


def test_a_named_rest_message_sent_twice_at_once_is_answered_once(
    gateway: Gateway, database_url: str
) -> None:
    who = f"dup-race-{uuid.uuid4().hex[:8]}"
    responses = _at_once(
        2, lambda: _rest(gateway.base_url, who, "Hallo", metadata={"message_id": "x"})
    )
    statuses = sorted(r.status_code for r in responses)
    # The loser either waited for the answer (200, the same turns) or was told to retry (409).
    assert statuses in ([200, 200], [200, 409])
    if statuses == [200, 409]:
        conflict = next(r for r in responses if r.status_code == 409)
        assert "still being answered" in conflict.json()["detail"]
    assert _debtor_said(database_url, who, "Hallo") == 1


async def test_a_socketio_frame_delivered_twice_is_answered_once(
    stack: Stack, database_url: str
) -> None:
    debtor = WebDebtor(f"http://127.0.0.1:{stack.gateway_port}")
    try:
        session_id = await debtor.connect()
        who = f"web:{session_id}"
        frame = {"message": "Hallo", "session_id": session_id, "customData": {"language": "de"}}
        debtor.idle.clear()
        await debtor.client.emit("user_uttered", frame)
        await debtor.client.emit("user_uttered", frame)
        await asyncio.wait_for(debtor.idle.wait(), 60)
        await asyncio.sleep(1.0)  # a second answer would come now
        assert debtor.typing.count(True) == 1
        assert debtor.drain()
        assert await asyncio.to_thread(_debtor_said, database_url, who, "Hallo") == 1

        # A named frame (message_id) delivered again later is not answered again either.
        named = {**frame, "message": "Ich möchte zahlen", "customData": {"message_id": "w-1"}}
        debtor.idle.clear()
        await debtor.client.emit("user_uttered", named)
        await asyncio.wait_for(debtor.idle.wait(), 60)
        assert debtor.drain()
        await debtor.client.emit("user_uttered", named)
        await asyncio.sleep(1.5)
        assert debtor.drain() == []
        assert debtor.typing.count(True) == 2
        said = await asyncio.to_thread(_debtor_said, database_url, who, "Ich möchte zahlen")
        assert said == 1
    finally:
        await debtor.close()


def test_twilio_retries_of_one_message_sid_are_processed_once(
    whatsapp: tuple[GatewayProcess, TwilioStandIn], database_url: str
) -> None:
    gateway, _ = whatsapp
    address = f"whatsapp:+49170{uuid.uuid4().int % 10**7:07d}"
    text = "Ich möchte bitte mit einem Mitarbeiter sprechen"
    form = webhook_form(address=address, body=text)

    def post() -> httpx.Response:
        with httpx.Client(timeout=60) as http:
            return post_whatsapp(http, gateway, form)

    # Twilio retries while the first delivery is still running, and once more later.
    together = _at_once(2, post)
    later = post()
    assert [r.status_code for r in [*together, later]] == [200, 200, 200]
    answered = [bodies(r.text) for r in [*together, later] if bodies(r.text)]
    assert answered and all(a == answered[0] for a in answered)  # one answer, repeated
    assert _count(database_url, Handoff, conversation_id=address) == 1
    assert _debtor_said(database_url, address, text) == 1
