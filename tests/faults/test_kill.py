"""Kill -9 a Rasa replica, the action server or a gateway in the middle of a conversation.

One scaled stack serves the module (tests/faults/conftest.py): two Rasa replicas
on one PostgreSQL tracker store and a Redis lock store, one supervised action
server behind the balancer, two gateways. After each kill the debtor's next
message is answered (by the other replica or gateway, or after the supervisor
restarted the process), the conversation goes on where it was, and the
database holds each promise, dispute and handoff exactly once.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actions.dialogue import ActionHandoff
from api.launcher import Stack
from api.rasa.client import rendezvous_order
from domain.db import make_engine
from domain.disputes.models import Dispute
from domain.handoffs.models import Handoff
from domain.promises.models import Promise
from tests.actions.conftest import (  # noqa: F401  (database, template_db: fixtures)
    database,
    load_domain,
    make_tracker,
    rows,
    run,
    template_db,
    verified_slots,
)
from tests.support.stack import Gateway

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gateways(scaled_stack: Stack) -> dict[str, Gateway]:
    """Return a client per gateway process."""
    return {
        name: Gateway(f"http://127.0.0.1:{port}")
        for name, port in scaled_stack.gateway_ports.items()
    }


@pytest.fixture(scope="module")
def db(scaled_stack: Stack) -> Iterator[Session]:
    """Return a session on the stack's database, for counting what was recorded."""
    engine = make_engine(scaled_stack.database_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def count(db: Session, model: Any, conversation: str) -> int:
    """Count a conversation's rows of a model, reading fresh from the database."""
    db.rollback()
    stmt = select(func.count()).select_from(model).where(model.conversation_id == conversation)
    return int(db.scalar(stmt) or 0)


def plain(text: str) -> str:
    """Normalise the non-breaking spaces Babel puts into money."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def owner(stack: Stack, sender: str) -> str:
    """Return the name of the Rasa replica the gateway sends a conversation to first."""
    url = rendezvous_order(stack.rasa_urls, sender)[0]
    return Stack._numbered("rasa", stack.rasa_urls.index(url))


def verify(gateway: Gateway, who: str, reference: str, proof: str, hello: str = "Hallo") -> str:
    """Greet, give the claim reference and the proof; return the bot's last answer."""
    gateway.texts(who, hello)
    gateway.texts(who, reference)
    return gateway.texts(who, proof)


def test_a_killed_rasa_replica_between_turns(
    scaled_stack: Stack, gateways: dict[str, Gateway], db: Session
) -> None:
    gateway = gateways["gateway"]
    who = f"kill-rasa-{uuid.uuid4().hex[:8]}"
    verify(gateway, who, "260000125", "28203")
    offer = plain(gateway.texts(who, "ich zahle alles sofort"))
    assert "54,92 €" in offer, offer
    replica = owner(scaled_stack, who)
    scaled_stack.kill(replica)
    # The other replica answers at once and finds the pending offer in the tracker store.
    done = gateway.texts(who, "ja")
    assert "Zusage" in done and "260000125" in done, done
    assert count(db, Promise, who) == 1
    promises = gateway.claim("260000125")["promises"]
    assert [(p["kind"], p["amount"]) for p in promises] == [("full", "54.92")]
    # The supervisor starts the killed replica again (it is back a while later;
    # the mid-turn test below waits for it).
    deadline = time.monotonic() + 10
    while scaled_stack.restarts(replica) < 1:
        assert time.monotonic() < deadline, f"{replica} was not restarted"
        time.sleep(0.2)


def test_a_killed_action_server_is_restarted_and_the_turn_waits_for_it(
    scaled_stack: Stack, gateways: dict[str, Gateway], db: Session
) -> None:
    gateway = gateways["gateway"]
    who = f"kill-actions-{uuid.uuid4().hex[:8]}"
    verify(gateway, who, "260000141", "my postcode is 10115", "hello")
    before = scaled_stack.restarts("actions")
    scaled_stack.kill("actions")
    # The balancer holds the action call until the supervisor has restarted the server.
    offer = plain(gateway.texts(who, "I can pay 50 a month"))
    assert "monthly instalments" in offer and "€295.84" in offer, offer
    assert scaled_stack.restarts("actions") == before + 1
    done = gateway.texts(who, "yes")
    assert "promise" in done.lower(), done
    assert count(db, Promise, who) == 1
    promises = gateway.claim("260000141")["promises"]
    assert [p["kind"] for p in promises] == ["instalment_plan"]


def test_a_killed_gateway_another_takes_over_and_it_comes_back(
    scaled_stack: Stack, gateways: dict[str, Gateway], db: Session
) -> None:
    first, second = gateways["gateway"], gateways["gateway-2"]
    who = f"kill-gateway-{uuid.uuid4().hex[:8]}"
    verify(first, who, "260000174", "09/04/1984", "hello")
    scaled_stack.kill("gateway")
    # The debtor's next message reaches the other gateway process.
    held = second.texts(who, "I never signed this contract, this is not my debt")
    assert held.strip(), "the dispute was not answered"
    assert count(db, Dispute, who) == 1
    assert count(db, Handoff, who) == 1
    # The supervisor restarts the killed gateway; the conversation is still with a human.
    scaled_stack.wait_ready(timeout=120, names=["gateway"])
    assert scaled_stack.restarts("gateway") >= 1
    assert first.say(who, "hello? is anyone there?") == []
    assert count(db, Dispute, who) == 1
    assert count(db, Handoff, who) == 1
    [handoff] = [h for h in first.handoffs("queued") if h["sender"] == who]
    assert (handoff["reason"], handoff["claim_reference"]) == ("dispute", "260000174")


def test_a_rasa_replica_killed_during_the_yes(
    scaled_stack: Stack, gateways: dict[str, Gateway], db: Session
) -> None:
    # Both replicas up again (the first test killed one).
    scaled_stack.wait_ready(timeout=180)
    gateway = gateways["gateway"]
    who = f"kill-mid-{uuid.uuid4().hex[:8]}"
    verify(gateway, who, "260000117", "14.03.1987")
    offer = plain(gateway.texts(who, "ich kann höchstens 50 im Monat"))
    assert "Monatsraten" in offer and "475,68 €" in offer, offer
    replica = owner(scaled_stack, who)
    answer: dict[str, str] = {}
    sending = threading.Thread(target=lambda: answer.update(text=gateway.texts(who, "ja")))
    sending.start()
    time.sleep(0.3)  # the message is on its way or being processed by the replica
    scaled_stack.kill(replica)
    sending.join(timeout=90)
    assert not sending.is_alive(), "the yes was never answered"
    # Either the replica finished the turn before it died (the gateway reads the
    # answer back from the tracker) or the other replica ran it: one promise.
    assert "Zusage" in answer["text"], answer
    assert count(db, Promise, who) == 1
    # The conversation goes on where it was.
    after = gateway.texts(who, "danke")
    assert after.strip(), "no answer after the kill"
    assert count(db, Promise, who) == 1


# --- a turn run twice: the action ran, then its replica died before saving the tracker ---


@pytest.mark.usefixtures("database")
async def test_a_replayed_dispute_turn_records_one_dispute_and_one_handoff() -> None:
    domain = load_domain()
    words = "Die Rechnung stimmt nicht, ich habe den Strom nie bezogen."
    slots = {"disclosed": True, **verified_slots("260000117")}
    tracker = make_tracker(text=words, intent="dispute", slots=slots)
    first = await run(ActionHandoff(), tracker, domain)
    again = await run(ActionHandoff(), tracker, domain)
    assert again.texts == first.texts
    assert len(rows(Dispute, conversation_id=tracker.sender_id)) == 1
    assert len(rows(Handoff, conversation_id=tracker.sender_id)) == 1


@pytest.mark.parametrize(
    ("restarts", "delay"), [(1, 1.0), (2, 2.0), (3, 4.0), (5, 16.0), (6, 30.0), (40, 30.0)]
)
def test_the_supervisor_backs_off_up_to_half_a_minute(restarts: int, delay: float) -> None:
    assert Stack.backoff(restarts) == delay
