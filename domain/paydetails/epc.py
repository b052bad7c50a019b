"""The EPC QR code (GiroCode, EPC069-12) of a payment block, drawn by segno.

Version 002, character set 1 (UTF-8), SEPA credit transfer (SCT), the payee's BIC,
name and IBAN, the amount in euro and the claim references as unstructured
remittance text. segno's helper builds the payload and keeps the standard's limits
(error correction M, at most QR version 13, 331 bytes). Gateway only: the action
server never draws.
"""

from __future__ import annotations

import io
from typing import Final

import segno
from segno import helpers

from domain.paydetails.details import PaymentBlock

# Pixels per module and quiet zone (4 modules, as the QR standard asks): about 300 px.
SCALE: Final = 6
BORDER: Final = 4


class NoQrCode(ValueError):
    """The block cannot be paid by an EPC QR code (not euro, nothing to pay)."""


def make_qr(block: PaymentBlock) -> segno.QRCode:
    """Return the EPC QR code of a block's first (or only) transfer."""
    if not block.has_qr:
        raise NoQrCode(f"no EPC QR code for {block.first_amount} {block.currency}")
    return helpers.make_epc_qr(
        name=block.account.holder,
        iban=block.account.iban,
        amount=block.first_amount,
        text=block.remittance,
        bic=block.account.bic,
        encoding="utf-8",
    )


def qr_png(block: PaymentBlock) -> bytes:
    """Return the block's EPC QR code as a PNG."""
    buffer = io.BytesIO()
    make_qr(block).save(buffer, kind="png", scale=SCALE, border=BORDER)
    return buffer.getvalue()
