"""The EPC QR code (GiroCode, EPC069-12) that segno draws, read back with zxing-cpp."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.paydetails.accounts import Account
from domain.paydetails.details import ClaimShare, PaymentBlock
from domain.paydetails.epc import NoQrCode, qr_png
from tests.paydetails.qr import epc_fields


def claim(reference: str, amount: str, currency: str = "EUR") -> ClaimShare:
    return ClaimShare(
        reference=reference,
        creditor="Stadtwerke Musterstadt GmbH",
        creditor_address="Hafenstraße 12, 20457 Hamburg",
        subject="Strom",
        currency=currency,
        principal=Decimal(amount),
        interest=Decimal("0.00"),
        fees=Decimal("0.00"),
        amount=Decimal(amount),
        discount=Decimal("0.00"),
        instalments=(),
    )


def block(
    *claims: ClaimShare,
    first: str = "475.68",
    holder: str = "Stadtwerke Musterstadt GmbH",
    bic: str | None = "BYLADEM1001",
) -> PaymentBlock:
    return PaymentBlock(
        account=Account(holder=holder, iban="DE02120300000000202051", bic=bic),
        currency=claims[0].currency,
        claims=claims,
        instalments=(),
        first_amount=Decimal(first),
        first_due=date(2026, 12, 21),
    )


def test_the_code_holds_every_field_of_the_standard() -> None:
    fields = epc_fields(qr_png(block(claim("260000117", "475.68"))))
    assert fields[:11] == [
        "BCD",  # service tag
        "002",  # version
        "1",  # character set: UTF-8
        "SCT",  # SEPA credit transfer
        "BYLADEM1001",
        "Stadtwerke Musterstadt GmbH",
        "DE02120300000000202051",
        "EUR475.68",
        "",  # purpose
        "",  # structured reference (none: the claim reference is unstructured text)
        "260000117",
    ]


def test_umlauts_and_several_references_survive() -> None:
    fields = epc_fields(
        qr_png(
            block(
                claim("260000158", "79.17"),
                claim("260000166", "20.83"),
                first="100.00",
                holder="Müller & Söhne Inkasso GmbH",
                bic=None,
            )
        )
    )
    assert fields[4] == ""  # no BIC: allowed within the EEA (version 002)
    assert fields[5] == "Müller & Söhne Inkasso GmbH"
    assert fields[7] == "EUR100"
    assert fields[10] == "260000158 260000166"


def test_no_code_for_another_currency_or_nothing_to_pay() -> None:
    with pytest.raises(NoQrCode):
        qr_png(block(claim("900000001", "10.00", currency="CHF"), first="10.00"))
    with pytest.raises(NoQrCode):
        qr_png(block(claim("900000002", "0.00"), first="0.00"))
