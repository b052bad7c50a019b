"""Pay now on the real stack: the confirmation carries the payment details and a QR code."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

from tests.integration.conftest import Gateway
from tests.paydetails.qr import epc_fields


def plain(text: str) -> str:
    """Normalise the non-breaking spaces of locale formatting."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def agree(gateway: Gateway, *steps: str) -> list[dict[str, object]]:
    """Verify Jana Becker (260000117), take the steps, and return the last answer's turns."""
    who = f"it-pay-{uuid.uuid4().hex[:10]}"
    gateway.texts(who, "Hallo")
    gateway.texts(who, "260000117")
    assert "475,68" in plain(gateway.texts(who, "14.03.1987"))
    for step in steps[:-1]:
        gateway.texts(who, step)
    return gateway.say(who, steps[-1])


def fetch_qr(gateway: Gateway, url: str) -> list[str]:
    """Fetch a QR code by its URL (the stack's public URL is its gateway)."""
    assert url.startswith(gateway.base_url + "/pay/qr/"), url
    response = gateway.http.get(url)
    assert response.status_code == 200, url
    assert response.headers["content-type"] == "image/png"
    return epc_fields(response.content)


def test_paying_in_full_gives_payment_details_and_a_qr_code(gateway: Gateway) -> None:
    turns = agree(gateway, "/pay_full", "ja")
    text = plain("\n".join(str(t.get("text") or "") for t in turns))
    assert "festgehalten" in text, text
    for expected in (
        "Empfänger: Quitt Inkasso GmbH (Testkonto)",
        "IBAN: DE89 3704 0044 0532 0130 00",
        "BIC: COBADEFFXXX",
        "Betrag: 475,68 €",
        "Verwendungszweck: 260000117",
    ):
        assert expected in text, text
    [image] = [str(t["image"]) for t in turns if t.get("image")]
    assert re.fullmatch(r"https?://[^/]+/pay/qr/[a-z2-7]{58}\.png", image), image
    fields = fetch_qr(gateway, image)
    assert fields[:8] == [
        "BCD",
        "002",
        "1",
        "SCT",
        "COBADEFFXXX",
        "Quitt Inkasso GmbH (Testkonto)",
        "DE89370400440532013000",
        "EUR475.68",
    ]
    assert fields[10] == "260000117"
    # Another token, one character changed: nothing. (A middle one: the last base32
    # character may carry only padding bits, and changing those changes nothing.)
    path = urlsplit(image).path
    stem = path[: -len(".png")]
    head, token = stem.rsplit("/", 1)
    middle = len(token) // 2
    changed = "a" if token[middle] != "a" else "b"
    forged = f"{head}/{token[:middle]}{changed}{token[middle + 1 :]}.png"
    assert gateway.http.get(forged).status_code == 404


def test_a_german_plan_gives_the_first_instalment_its_qr_code_and_the_agreement(
    gateway: Gateway,
) -> None:
    turns = agree(gateway, "Ich kann höchstens 50 im Monat zahlen", "ja, passt")
    text = plain("\n".join(str(t.get("text") or "") for t in turns))
    assert "Betrag: 50,00 € als 1. Rate" in text, text
    [image] = [str(t["image"]) for t in turns if t.get("image")]
    fields = fetch_qr(gateway, image)
    assert (fields[6], fields[7], fields[10]) == ("DE89370400440532013000", "EUR50", "260000117")
    agreement = re.search(r"https?://\S+/pay/agreement/\S+\.html", text)
    assert agreement, text
    page = gateway.http.get(urlsplit(agreement.group(0)).path)
    assert page.status_code == 200
    body = plain(page.text)
    assert "Ratenzahlungsvereinbarung" in body and "412,50 €" in body and "25,68 €" in body
    assert "Becker" not in body and "1987" not in body
    pdf = gateway.http.get(urlsplit(agreement.group(0)).path.removesuffix(".html") + ".pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
