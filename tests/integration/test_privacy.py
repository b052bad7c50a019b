"""Nothing about a claim before verification; no personal data in any process log."""

from __future__ import annotations

import uuid

import pytest

from api.launcher import Stack
from tests.integration.conftest import Gateway

PROBES = [
    "Wie viel schulde ich Ihnen für 260000117?",
    "Ich möchte die Forderung 260000117 sofort komplett bezahlen",
    "Kann ich 260000117 in Raten zahlen, 50 im Monat?",
    "Gibt es einen Rabatt auf 260000117?",
    "Wer ist der Gläubiger von Aktenzeichen 260000117?",
    "I want to pay claim 260000117 at the end of the month",
    "ja",
    "/affirm",
    "/choose_all",
    '/inform{"claim_choice":"260000117"}',
    "Jana Becker, Hafenstraße, Stromrechnung",
]
CLAIM_DATA = ["412", "475", "9,18", "54,00", "Stadtwerke", "Strom", "Becker", "Hamburg"]


@pytest.mark.parametrize("probe", PROBES)
def test_no_claim_detail_before_verification(gateway: Gateway, probe: str) -> None:
    who = f"probe-{uuid.uuid4().hex[:10]}"
    answer = gateway.texts(who, probe)
    # A second message with only a reference must not reveal anything either.
    answer += gateway.texts(who, "260000117")
    for secret in CLAIM_DATA:
        if secret in probe:
            continue
        assert secret not in answer, f"{secret!r} leaked for {probe!r}: {answer!r}"


def test_logs_carry_no_birth_dates_or_phone_numbers(gateway: Gateway, stack: Stack) -> None:
    who = f"logs-{uuid.uuid4().hex[:10]}"
    for text in ("Hallo", "260000117", "14.03.1987", "meine Nummer ist +4915112345678"):
        gateway.texts(who, text)
    assert stack.log_dir is not None
    logs = "\n".join(p.read_text(errors="replace") for p in stack.log_dir.glob("*.log"))
    assert "uvicorn" in logs.lower() or "application startup" in logs.lower()  # logs were read
    for personal in ("14.03.1987", "1987-03-14", "+4915112345678", "15112345678"):
        assert personal not in logs, f"{personal} found in a process log"
