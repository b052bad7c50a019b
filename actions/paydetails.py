"""The payment details of a confirmation: payee, IBAN, BIC, amount, reference, QR code links.

The data come from the stored promise (api.paydetails.details, one block per
payee account); the texts from the domain (bot/domain/responses_payment.yml);
the links to the EPC QR code and the printable agreement are signed here
(api.paydetails.links) and served by the gateway, which alone draws them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from actions.context import Turn
from actions.formatting import day, money
from actions.texts import text
from domain.config import Settings
from domain.paydetails import links
from domain.paydetails.details import PaymentBlock, PaymentDetails
from policy.bankdetails import grouped


@dataclass(frozen=True)
class Confirmation:
    """What the bot adds to a recorded promise: text, QR code images, the agreement link."""

    text: str
    images: tuple[str, ...]
    agreement: str | None


def _amount(turn: Turn, details: PaymentDetails, block: PaymentBlock) -> str:
    plan = details.kind == "instalment_plan"
    return text(
        turn.domain,
        "utter_payment_amount_plan" if plan else "utter_payment_amount_once",
        turn.language,
        amount=money(block.first_amount, turn.language, block.currency),
        due_date=day(block.first_due, turn.language),
    )


def _block(turn: Turn, details: PaymentDetails, block: PaymentBlock) -> str:
    account = block.account
    return text(
        turn.domain,
        "utter_payment_block" if account.bic else "utter_payment_block_no_bic",
        turn.language,
        payee=account.holder,
        iban=grouped(account.iban),
        bic=account.bic or "",
        amount=_amount(turn, details, block),
        remittance=block.remittance,
    )


def payment_text(turn: Turn, details: PaymentDetails) -> str:
    """Return the payment details of every payee block, in the debtor's language."""
    domain, lang = turn.domain, turn.language
    blocks = details.blocks
    parts = []
    if len(blocks) == 1:
        parts.append(text(domain, "utter_payment_intro", lang))
        parts.append(_block(turn, details, blocks[0]))
        parts.append(
            text(domain, "utter_payment_reference_hint", lang, reference=blocks[0].remittance)
        )
    elif blocks:
        parts.append(text(domain, "utter_payment_intro_several", lang, count=len(blocks)))
        for number, block in enumerate(blocks, start=1):
            heading = text(domain, "utter_payment_block_heading", lang, number=number)
            parts.append(f"{heading}\n{_block(turn, details, block)}")
        parts.append(text(domain, "utter_payment_reference_hint_several", lang))
    if any(block.has_qr for block in blocks) and turn.channel != "voice":
        parts.append(text(domain, "utter_payment_qr_hint", lang))
    if details.without_account:
        references = ", ".join(details.without_account)
        parts.append(text(domain, "utter_payment_in_writing", lang, references=references))
    return "\n".join(parts)


def confirmation(
    turn: Turn, details: PaymentDetails, *, settings: Settings, now: datetime | None = None
) -> Confirmation:
    """Return the payment details, the QR code URLs and (for a plan) the agreement link."""
    now = now or datetime.now(UTC)
    key, until = links.link_key(settings), links.expiry(settings, now)
    # A picture or a link read out on a phone line helps nobody: callers hear the details.
    on_screen = turn.channel != "voice"
    images = tuple(
        links.qr_url(
            settings,
            links.make_token(
                key,
                links.Link(
                    purpose="qr",
                    promise_id=details.promise_id,
                    language=turn.language,
                    block=index,
                    expires=until,
                ),
            ),
        )
        for index, block in enumerate(details.blocks)
        if block.has_qr and on_screen
    )
    agreement = None
    if details.kind == "instalment_plan" and details.blocks and on_screen:
        token = links.make_token(
            key,
            links.Link(
                purpose="agreement",
                promise_id=details.promise_id,
                language=turn.language,
                block=0,
                expires=until,
            ),
        )
        agreement = text(
            turn.domain,
            "utter_agreement_link",
            turn.language,
            url=links.agreement_url(settings, token, "html"),
            pdf_url=links.agreement_url(settings, token, "pdf"),
            valid_until=day(until.date(), turn.language),
        )
    return Confirmation(text=payment_text(turn, details), images=images, agreement=agreement)
