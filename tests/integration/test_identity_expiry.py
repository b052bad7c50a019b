"""A verified identity holds for one conversation (CONTRACT §4), on the real stack.

A new session, or 30 minutes without a message, needs a new identity check: whoever
later holds the same phone or knows the sender id gets nothing about the claim.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

from sqlalchemy.engine import make_url

from api.launcher import Stack
from tests.integration.conftest import Gateway

REFERENCE = "260000117"
TOTAL = "475,68"
SECRETS = (TOTAL, "412,50", "Stadtwerke", "Strom")


def _verify(gateway: Gateway, who: str) -> None:
    gateway.texts(who, "Hallo")
    gateway.texts(who, REFERENCE)
    answer = gateway.texts(who, "14.03.1987")
    assert TOTAL in answer, answer


def _assert_checked_again(answer: str) -> None:
    assert "noch einmal" in answer, answer
    assert "Aktenzeichen" in answer, answer
    for secret in SECRETS:
        assert secret not in answer, f"{secret!r} shown without a new check: {answer!r}"


def test_a_new_session_needs_a_new_identity_check(gateway: Gateway) -> None:
    who = f"expiry-{uuid.uuid4().hex[:10]}"
    _verify(gateway, who)
    gateway.texts(who, "/session_start")
    _assert_checked_again(gateway.texts(who, "Wie hoch ist meine Forderung?"))
    # The new check works as the first did, and the language carried over.
    gateway.texts(who, REFERENCE)
    assert TOTAL in gateway.texts(who, "14.03.1987")


def _age_tracker(stack: Stack, who: str, minutes: float) -> int:
    """Move every tracker event of the sender `minutes` into the past; return how many."""
    tracker_db = Path(str(make_url(stack.database_url).database)).with_name("rasa-tracker.db")
    shift = minutes * 60
    with sqlite3.connect(tracker_db) as db:
        rows = db.execute(
            "SELECT id, timestamp, data FROM events WHERE sender_id LIKE ?", (f"%{who}%",)
        ).fetchall()
        for row_id, stamp, data in rows:
            event = json.loads(data)
            if isinstance(event.get("timestamp"), int | float):
                event["timestamp"] -= shift
            db.execute(
                "UPDATE events SET timestamp = ?, data = ? WHERE id = ?",
                (float(stamp) - shift, json.dumps(event), row_id),
            )
    return len(rows)


def test_thirty_minutes_of_silence_need_a_new_identity_check(
    gateway: Gateway, stack: Stack
) -> None:
    who = f"silence-{uuid.uuid4().hex[:10]}"
    _verify(gateway, who)
    assert _age_tracker(stack, who, minutes=31) > 0
    _assert_checked_again(gateway.texts(who, "Wie hoch ist meine Forderung?"))


def test_a_short_pause_keeps_the_identity(gateway: Gateway, stack: Stack) -> None:
    who = f"pause-{uuid.uuid4().hex[:10]}"
    _verify(gateway, who)
    assert _age_tracker(stack, who, minutes=20) > 0
    assert TOTAL in gateway.texts(who, "Wie hoch ist meine Forderung?")


def test_after_a_new_session_a_handoff_names_no_earlier_claim(gateway: Gateway) -> None:
    # Whoever writes next from the same sender is nobody verified: a handoff, the console
    # and a privacy request must not inherit the earlier person's claim.
    who = f"shared-{uuid.uuid4().hex[:10]}"
    _verify(gateway, who)
    gateway.texts(who, "/session_start")
    gateway.texts(who, "Ich möchte mit einem Menschen sprechen")
    [handoff] = [h for h in gateway.handoffs("queued") if h["sender"] == who]
    assert handoff["claim_reference"] is None
