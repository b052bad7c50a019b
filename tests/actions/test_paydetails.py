"""Pay now in the confirmation: payee, IBAN, BIC, amount, reference, QR code and agreement links."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from actions.dialogue import ActionAffirm, ActionOffer
from domain.config import get_settings
from domain.db import session_scope
from domain.paydetails import links
from domain.promises.models import Promise
from tests.actions.conftest import Result, amount, make_tracker, rows, run, verified_slots

pytestmark = pytest.mark.usefixtures("database")

EXAMPLE_IBAN = "DE89 3704 0044 0532 0130 00"
CREDITOR_IBAN = "DE02 1203 0000 0000 2020 51"  # a valid test IBAN (Deutsche Kreditbank)


async def agree(
    domain: dict[str, Any],
    intent: str,
    *,
    reference: str = "260000117",
    language: str = "de",
    entities: list[dict[str, Any]] | None = None,
    selected: list[str] | None = None,
    channel: str = "rest",
) -> Result:
    """Make an offer and say yes to it; return the yes turn."""
    slots: dict[str, Any] = {"language": language}
    if selected:
        slots["selected_claims"] = selected
    made = await run(
        ActionOffer(),
        make_tracker(
            text=intent,
            intent=intent,
            entities=entities or [],
            slots=verified_slots(reference, **slots),
        ),
        domain,
    )
    pending = made.slots["pending_offer"]
    yes = make_tracker(
        text="ja" if language == "de" else "yes",
        intent="affirm",
        slots=verified_slots(reference, pending_offer=pending, awaiting="confirm_offer", **slots),
        sender_id=made.tracker.sender_id,
        metadata={"channel": channel},
    )
    return await run(ActionAffirm(), yes, domain)


def images(result: Result) -> list[str]:
    return [m["image"] for m in result.messages if m.get("image")]


def token_of(url: str) -> str:
    match = re.search(r"/pay/(?:qr|agreement)/([A-Za-z0-9_-]+)\.(?:png|html|pdf)$", url)
    assert match, url
    return match.group(1)


async def test_a_full_payment_in_german_carries_the_payment_details(domain: dict[str, Any]) -> None:
    result = await agree(domain, "pay_full")
    text = result.text
    assert "Zusage festgehalten" in text
    for expected in (
        "Empfänger: Quitt Inkasso GmbH (Testkonto)",
        f"IBAN: {EXAMPLE_IBAN}",
        "BIC: COBADEFFXXX",
        "Betrag: 475,68 € bis zum",
        "Verwendungszweck: 260000117",
        "nur das Aktenzeichen 260000117",
        "GiroCode",
    ):
        assert expected in text, text
    assert "schriftlich" not in text
    [image] = images(result)
    assert image.startswith(get_settings().public_url + "/pay/qr/")
    # The link names the promise and nothing about the person.
    link = links.read_token(
        links.link_key(get_settings()), token_of(image), purpose="qr", now=datetime.now(UTC)
    )
    [promise] = rows(Promise, conversation_id=result.tracker.sender_id)
    assert link is not None and link.promise_id == promise.id and link.block == 0
    assert link.expires > datetime.now(UTC) + timedelta(days=29)
    assert "agreement" not in text  # a one-off payment has no instalment agreement


async def test_a_plan_in_english_carries_the_first_instalment_and_the_agreement(
    domain: dict[str, Any],
) -> None:
    result = await agree(
        domain,
        "ask_instalments",
        reference="260000141",
        language="en",
        entities=[amount("50")],
    )
    text = result.text
    for expected in (
        "I've recorded your promise",
        "Payee: Quitt Inkasso GmbH (Testkonto)",
        f"IBAN: {EXAMPLE_IBAN}",
        "BIC: COBADEFFXXX",
        "Amount: €50.00 as the first instalment by",
        "then monthly as agreed",
        "Payment reference: 260000141",
        "only the reference 260000141",
        "Your instalment agreement to print: ",
    ):
        assert expected in text, text
    [image] = images(result)
    assert "/pay/qr/" in image
    agreement = re.search(r"(http\S+/pay/agreement/\S+\.html)", text)
    assert agreement, text
    link = links.read_token(
        links.link_key(get_settings()),
        token_of(agreement.group(1)),
        purpose="agreement",
        now=datetime.now(UTC),
    )
    assert link is not None and link.language == "en"
    # The QR code's token does not open the agreement, nor the other way round.
    key, now = links.link_key(get_settings()), datetime.now(UTC)
    assert links.read_token(key, token_of(image), purpose="agreement", now=now) is None
    assert (
        links.read_token(key, link_token := token_of(agreement.group(1)), purpose="qr", now=now)
        is None
    )
    assert link_token


async def test_a_creditors_own_account_is_used_when_the_claims_file_gives_one(
    domain: dict[str, Any],
) -> None:
    with session_scope() as db_session:
        from domain.claims.models import Creditor

        creditor = db_session.get(Creditor, "stadtwerke-musterstadt")
        assert creditor is not None
        creditor.iban, creditor.bic = CREDITOR_IBAN.replace(" ", ""), "BYLADEM1001"
    result = await agree(domain, "pay_full")
    assert "Empfänger: Stadtwerke Musterstadt GmbH" in result.text
    assert f"IBAN: {CREDITOR_IBAN}" in result.text
    assert "BIC: BYLADEM1001" in result.text
    assert EXAMPLE_IBAN not in result.text


async def test_a_plan_over_claims_of_two_payees_has_a_block_each(domain: dict[str, Any]) -> None:
    # Sabine Krüger's two claims are both Stadtwerke's; give the older one's creditor an
    # account of its own by moving the other claim to a creditor without one.
    with session_scope() as db_session:
        from domain.claims.models import Claim, Creditor

        creditor = db_session.get(Creditor, "stadtwerke-musterstadt")
        assert creditor is not None
        creditor.iban, creditor.account_holder = CREDITOR_IBAN.replace(" ", ""), "Stadtwerke"
        claim = db_session.get(Claim, "260000166")
        assert claim is not None
        claim.creditor_id = "modehaus-nord"
    both = ["260000158", "260000166"]
    result = await agree(
        domain, "ask_instalments", reference="260000158", entities=[amount("100")], selected=both
    )
    text = result.text
    assert "je eine Überweisung an diese 2 Empfänger" in text, text
    assert "Überweisung 1:\nEmpfänger: Stadtwerke\nIBAN: " + CREDITOR_IBAN in text
    assert "Überweisung 2:\nEmpfänger: Quitt Inkasso GmbH (Testkonto)" in text
    # 100.00 a month split pro rata: 1,304.27 and 343.25 of 1,647.52.
    assert "Betrag: 79,17 € als 1. Rate" in text or "Betrag: 79,16 € als 1. Rate" in text, text
    assert "Verwendungszweck: 260000158\n" in text and "Verwendungszweck: 260000166\n" in text
    assert len(images(result)) == 2


async def test_a_caller_hears_the_bank_details_without_pictures_or_links(
    domain: dict[str, Any],
) -> None:
    result = await agree(domain, "ask_instalments", entities=[amount("50")], channel="voice")
    assert f"IBAN: {EXAMPLE_IBAN}" in result.text and "Betrag: 50,00 €" in result.text
    assert images(result) == []
    assert "http" not in result.text and "QR" not in result.text


async def test_without_any_account_the_details_come_in_writing(
    domain: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Production has no example account: a creditor without its own, and no agency
    # account set, leaves nothing to pay to in the chat.
    monkeypatch.setenv("QUITT_ENVIRONMENT", "production")
    monkeypatch.setenv("QUITT_SECRET_KEY", "a-production-secret-0123456789abcdef")
    monkeypatch.setenv("QUITT_REST_PUBLIC", "true")
    monkeypatch.delenv("QUITT_AGENCY_IBAN", raising=False)
    get_settings.cache_clear()
    try:
        result = await agree(domain, "pay_full")
    finally:
        get_settings.cache_clear()
    assert "Zusage festgehalten" in result.text
    assert "Die Zahlungsdaten zu 260000117 erhalten Sie schriftlich." in result.text
    assert "IBAN" not in result.text and images(result) == []
