"""What a reminder says, in German or English: by SMS, by e-mail and as a WhatsApp template.

One `Content` (amount, due date, payees, references, links) feeds every channel, so
they never disagree. Money and dates are written in the debtor's locale (50,00 €,
21.12.2026; €50.00, 21 December 2026). The wording lives in `texts.yml` (SMS and
e-mail) and in the approved templates (`templates.yml`, WhatsApp).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Final

import yaml

from api.channels.whatsapp import templates as whatsapp_templates
from domain import catalogue as text_catalogue
from domain.paydetails.agreement import day, money
from policy.bankdetails import grouped
from policy.reminders import AFTER_MISS, BEFORE_DUE

TEXTS_FILE: Final = Path(__file__).with_name("texts.yml")
LANGUAGES: Final = ("de", "en")
# What the reminders' WhatsApp templates may fill their placeholders from.
TEMPLATE_SOURCES: Final = ("sender_name", "amount", "due_date", "payee", "reference")
_PLACEHOLDER: Final = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def text(key: str, language: str, **values: str) -> str:
    """Return one text in the language (German when unknown), its placeholders filled."""
    # An SMS or an e-mail paragraph is one line: the file's line breaks fold away.
    texts = text_catalogue.load(TEXTS_FILE, fold_spaces=True)
    return text_catalogue.text(texts, key, language, **values)


@dataclass(frozen=True)
class Payee:
    """One account to pay to, with this payment's part and the remittance text."""

    holder: str
    iban: str
    bic: str | None
    amount: Decimal
    reference: str


@dataclass(frozen=True)
class Content:
    """Everything one reminder says, in one language."""

    kind: str
    language: str
    instalment: int | None  # the instalment's number; None for a one-off promise
    amount: Decimal
    currency: str
    due_date: date
    payees: tuple[Payee, ...]
    references: tuple[str, ...]
    sender: str
    chat_url: str
    agreement_url: str | None = None
    unsubscribe_url: str | None = None


def ordinal(number: int) -> str:
    """Return an English ordinal: 1st, 2nd, 3rd, 4th, 11th, 12th, 21st."""
    if 10 <= number % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _what(content: Content) -> str:
    if content.instalment is None:
        return text("payment", content.language)
    return text(
        "instalment",
        content.language,
        number=str(content.instalment),
        ordinal=ordinal(content.instalment),
    )


def _money(content: Content, amount: Decimal) -> str:
    return money(amount, content.language, content.currency)


def payee_line(content: Content) -> str:
    """Return whom to pay in one line; several payees each with their part."""
    language = content.language
    if not content.payees:
        return text("no_account", language)
    if len(content.payees) == 1:
        payee = content.payees[0]
        return text("payee", language, holder=payee.holder, iban=grouped(payee.iban))
    return "; ".join(
        text(
            "payee_part",
            language,
            holder=payee.holder,
            iban=grouped(payee.iban),
            amount=_money(content, payee.amount),
        )
        for payee in content.payees
    )


def values(content: Content) -> dict[str, str]:
    """Return the filled-in parts every channel's text is made of."""
    return {
        "sender": content.sender,
        "sender_name": content.sender,
        "what": _what(content),
        "amount": _money(content, content.amount),
        "due_date": day(content.due_date, content.language),
        "payee": payee_line(content),
        "reference": ", ".join(content.references),
        "chat_url": content.chat_url,
    }


def sms(content: Content) -> str:
    """Return the SMS text."""
    key = "sms_before_due" if content.kind == BEFORE_DUE else "sms_after_miss"
    return text(key, content.language, **values(content))


def email(content: Content) -> tuple[str, str]:
    """Return the e-mail's subject and plain-text body."""
    language, parts = content.language, values(content)
    subject = text(f"email_subject_{content.kind}", language, **parts)
    lines = [text("email_greeting", language), ""]
    lines.append(text(f"email_{content.kind}", language, **parts))
    lines.append("")
    if content.kind == AFTER_MISS:
        lines += [text("email_new_plan", language, **parts), ""]
    lines.append(text("email_how_to_pay", language))
    for payee in content.payees:
        lines.append("")
        lines.append(f"{text('label_payee', language)}: {payee.holder}")
        lines.append(f"{text('label_iban', language)}: {grouped(payee.iban)}")
        if payee.bic:
            lines.append(f"{text('label_bic', language)}: {payee.bic}")
        lines.append(f"{text('label_amount', language)}: {_money(content, payee.amount)}")
        lines.append(f"{text('label_reference', language)}: {payee.reference}")
    if not content.payees:
        lines.append(payee_line(content))
    if content.agreement_url:
        lines += ["", text("email_agreement", language, url=content.agreement_url)]
    if content.kind == BEFORE_DUE:
        lines += ["", text("email_questions", language, **parts)]
    lines += ["", text("email_closing", language), content.sender, ""]
    lines.append(f"-- \n{text('email_automatic', language)}")
    if content.unsubscribe_url:
        lines.append(text("email_unsubscribe", language, url=content.unsubscribe_url))
    return subject, "\n".join(lines) + "\n"


# --- WhatsApp templates -------------------------------------------------------------------


@lru_cache(maxsize=4)
def _catalogue(path: Path) -> whatsapp_templates.Catalogue:
    """Read and check the reminders' templates file once per path."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise whatsapp_templates.TemplateConfigError(
            path, "(file)", f"cannot be read: {exc.strerror}"
        ) from exc
    catalogue = whatsapp_templates.parse(data, path, sources=TEMPLATE_SOURCES)
    for kind in (BEFORE_DUE, AFTER_MISS):
        if kind not in catalogue.templates:
            raise whatsapp_templates.TemplateConfigError(path, f"templates.{kind}", "missing")
    return catalogue


def catalogue(path: Path) -> whatsapp_templates.Catalogue:
    """Return the reminders' approved WhatsApp templates."""
    return _catalogue(Path(path))


def whatsapp(
    catalogue: whatsapp_templates.Catalogue, content: Content, *, creditor_id: str | None
) -> whatsapp_templates.Rendered:
    """Fill the reminder's approved template (the creditor's own copy if it has one)."""
    template = catalogue.templates[content.kind]
    language = content.language if content.language in LANGUAGES else LANGUAGES[0]
    own = catalogue.creditor_copies.get(creditor_id or "", {}).get(content.kind, {})
    copy = own.get(language) or template.copies[language]
    parts: Mapping[str, str] = values(content)
    variables = {placeholder: parts[source] for placeholder, source in template.variables.items()}
    return whatsapp_templates.Rendered(
        name=content.kind,
        language=language,
        title=template.titles[language],
        content_sid=copy.content_sid,
        variables=variables,
        text=_PLACEHOLDER.sub(lambda m: variables[m.group(1)], copy.text),
    )
