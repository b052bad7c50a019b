"""What a debtor says in the middle of the identity check is heard (real stack).

A request for a person, a dispute or a death said between the reference and the date
of birth is acted on; the check does not swallow it.
"""

from __future__ import annotations

import uuid

import pytest

from tests.integration.conftest import Gateway


def _handoff_reasons(gateway: Gateway, who: str) -> list[str]:
    return [
        h["reason"]
        for state in ("queued", "assigned")
        for h in gateway.handoffs(state)
        if h["sender"] == who
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Ich möchte bitte mit einem Menschen sprechen.", "human_request"),
        ("Mein Mann ist letzte Woche verstorben, das war sein Vertrag.", "bereavement"),
        ("Ich bin in der Privatinsolvenz.", "insolvency"),
    ],
)
def test_a_reason_said_during_the_check_is_acted_on(
    gateway: Gateway, text: str, reason: str
) -> None:
    who = f"interrupt-{uuid.uuid4().hex[:10]}"
    gateway.texts(who, "Hallo")
    asked = gateway.texts(who, "260000117")
    assert "Geburtsdatum" in asked
    answer = gateway.texts(who, text)
    assert "Geburtsdatum" not in answer, answer
    assert _handoff_reasons(gateway, who) == [reason]
