"""The printable agreement of a promise: an HTML page and the same as a PDF.

One document model (`build`) feeds both renderings, so the page and the PDF never
disagree. It holds the claims with principal, interest and fees apart, what was
agreed, the schedule (with each payee's part when the money goes to several
accounts), the payment details with the EPC QR code, and nothing about the
debtor beyond the references: the link may travel through a messaging service.

The PDF is drawn with fpdf2: pure Python (Pillow for the QR image), no system
libraries, unlike HTML-to-PDF engines (WeasyPrint needs Pango and Cairo, a
browser is far too heavy for a page a debtor may print). Its built-in Helvetica
covers Windows-1252 (German letters, the euro sign); a character beyond that
(a creditor named "Yılmaz Ltd") is written without its accent.
"""

from __future__ import annotations

import base64
import html
import io
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Final

from babel.dates import format_date
from babel.numbers import format_currency
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from domain import catalogue
from domain.paydetails.details import PaymentDetails
from domain.paydetails.epc import NoQrCode, qr_png
from policy.bankdetails import grouped

TEXTS_FILE: Final = Path(__file__).with_name("texts.yml")
_LOCALES: Final = {"de": "de_DE", "en": "en_GB"}


def text(key: str, language: str, **values: str) -> str:
    """Return one of the agreement's texts in the language (German when unknown)."""
    return catalogue.text(catalogue.load(TEXTS_FILE), key, language, **values)


def money(amount: Decimal, language: str, currency: str = "EUR") -> str:
    """Format an amount in the debtor's locale (1.234,56 €)."""
    return format_currency(amount, currency, locale=_LOCALES.get(language, "de_DE"))


def day(value: date, language: str) -> str:
    """Format a date as the chat does (06.12.2026, 6 December 2026)."""
    if language == "en":
        return format_date(value, "d MMMM y", locale="en_GB")
    return value.strftime("%d.%m.%Y")


@dataclass(frozen=True)
class Payee:
    """One payment block as printed: labelled lines and its QR code."""

    lines: tuple[tuple[str, str], ...]
    qr: bytes | None
    note: str | None = None


@dataclass(frozen=True)
class Table:
    """A table: header row, body rows, an optional sum row."""

    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    foot: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Document:
    """Everything the agreement says, in one language."""

    language: str
    title: str
    intro: str
    claims_title: str
    claims: Table
    agreement_title: str
    agreement: str
    schedule_title: str
    schedule: Table | None
    payment_title: str
    payees: tuple[Payee, ...]
    missing: str | None
    notes_title: str
    notes: tuple[str, ...]
    valid_until: str
    labels: dict[str, str] = field(default_factory=dict)


def _claims_table(details: PaymentDetails, language: str) -> Table:
    currency = details.currency

    def t(key: str) -> str:
        return text(key, language)

    def total(attribute: str) -> Decimal:
        values = (Decimal(getattr(claim, attribute)) for claim in details.claims)
        return sum(values, Decimal("0.00"))

    rows = tuple(
        (
            claim.reference,
            f"{claim.creditor}, {claim.creditor_address}",
            claim.subject,
            money(claim.principal, language, claim.currency),
            money(claim.interest, language, claim.currency),
            money(claim.fees, language, claim.currency),
            money(claim.total, language, claim.currency),
        )
        for claim in details.claims
    )
    foot = None
    if len(details.claims) > 1:
        foot = (
            t("sum"),
            "",
            "",
            *(money(total(a), language, currency) for a in ("principal", "interest", "fees")),
            money(total("total"), language, currency),
        )
    head = ("reference", "creditor", "subject", "principal", "interest", "fees", "total")
    return Table(head=tuple(t(key) for key in head), rows=rows, foot=foot)


def _agreement_text(details: PaymentDetails, language: str) -> str:
    values = {
        "amount": money(details.amount, language, details.currency),
        "due_date": day(details.due_date, language),
        "discount": money(details.discount, language, details.currency),
        "count": str(len(details.schedule)),
        "last_date": day(details.schedule[-1].due_date, language) if details.schedule else "",
    }
    return text(f"kind_{details.kind}", language, **values)


def _schedule(details: PaymentDetails, language: str) -> Table | None:
    if not details.schedule:
        return None
    head = [text("number", language), text("due", language), text("amount", language)]
    several = len(details.blocks) > 1
    if several:
        head += [block.account.holder for block in details.blocks]
    rows = []
    for k, payment in enumerate(details.schedule):
        row = [str(payment.number), day(payment.due_date, language)]
        row.append(money(payment.amount, language, details.currency))
        if several:
            row += [money(b.instalments[k], language, b.currency) for b in details.blocks]
        rows.append(tuple(row))
    return Table(head=tuple(head), rows=tuple(rows))


def _payees(details: PaymentDetails, language: str) -> tuple[Payee, ...]:
    plan = details.kind == "instalment_plan"
    payees = []
    for block in details.blocks:
        amount = text(
            "first_amount_plan" if plan else "first_amount_once",
            language,
            amount=money(block.first_amount, language, block.currency),
            due_date=day(block.first_due, language),
        )
        lines = [
            (text("payee", language), block.account.holder),
            (text("iban", language), grouped(block.account.iban)),
        ]
        if block.account.bic:
            lines.append((text("bic", language), block.account.bic))
        lines += [
            (text("amount", language), amount),
            (text("remittance", language), block.remittance),
        ]
        try:
            qr: bytes | None = qr_png(block)
        except NoQrCode:
            qr = None
        note = None
        if plan and len(details.blocks) > 1:
            note = text("part_of", language, payee=block.account.holder)
        payees.append(Payee(lines=tuple(lines), qr=qr, note=note))
    return tuple(payees)


def build(
    details: PaymentDetails, *, language: str, agency: str, valid_until: datetime
) -> Document:
    """Assemble the agreement of a promise in the debtor's language."""
    plan = details.kind == "instalment_plan"
    missing = None
    if details.without_account:
        missing = text("no_account", language, references=", ".join(details.without_account))
    return Document(
        language=language,
        title=text("title_plan" if plan else "title_other", language),
        intro=text(
            "agreed", language, date=day(details.created_at.date(), language), agency=agency
        ),
        claims_title=text("claims", language),
        claims=_claims_table(details, language),
        agreement_title=text("agreement", language),
        agreement=_agreement_text(details, language),
        schedule_title=text("schedule", language),
        schedule=_schedule(details, language),
        payment_title=text("payment", language),
        payees=_payees(details, language),
        missing=missing,
        notes_title=text("notes", language),
        notes=(text("note_reference", language), text("note_order", language)),
        valid_until=text("valid_until", language, date=day(valid_until.date(), language)),
        labels={"pdf": text("pdf", language)},
    )


# -- HTML ---------------------------------------------------------------------------------

_STYLE: Final = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1d2733;
max-width:52rem;margin:2rem auto;padding:0 1rem;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.25rem}h2{font-size:1.15rem;margin-top:1.8rem;
border-bottom:1px solid #c9d1da;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e8ee;vertical-align:top}
td.n,th.n{text-align:right;white-space:nowrap}tfoot td{font-weight:600}
.payee{display:flex;gap:1.5rem;align-items:flex-start;margin:1rem 0;flex-wrap:wrap}
.payee dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}
.payee dt{font-weight:600}.payee img{width:180px;height:180px;image-rendering:pixelated}
.mono{font-family:ui-monospace,Menlo,Consolas,monospace}.muted{color:#5b6673;font-size:.9rem}
.actions{margin:1rem 0}.actions a,.actions button{margin-right:.8rem;font:inherit}
@media print{.actions{display:none}body{margin:0}}
"""


def _table_html(table: Table, numeric_from: int) -> str:
    def cells(row: tuple[str, ...], tag: str) -> str:
        return "".join(
            f"<{tag}{' class=n' if i >= numeric_from else ''}>{html.escape(v)}</{tag}>"
            for i, v in enumerate(row)
        )

    body = "".join(f"<tr>{cells(row, 'td')}</tr>" for row in table.rows)
    foot = f"<tfoot><tr>{cells(table.foot, 'td')}</tr></tfoot>" if table.foot else ""
    head = f"<thead><tr>{cells(table.head, 'th')}</tr></thead>"
    return f"<table>{head}<tbody>{body}</tbody>{foot}</table>"


def _payee_html(payee: Payee, language: str) -> str:
    lines = "".join(
        f"<dt>{html.escape(label)}</dt>"
        f"<dd{' class=mono' if label in ('IBAN', 'BIC') else ''}>{html.escape(value)}</dd>"
        for label, value in payee.lines
    )
    image = ""
    if payee.qr:
        data = base64.b64encode(payee.qr).decode()
        alt = html.escape(text("qr_hint", language))
        image = (
            f'<figure><img src="data:image/png;base64,{data}" alt="{alt}">'
            f"<figcaption class=muted>{alt}</figcaption></figure>"
        )
    note = f"<p class=muted>{html.escape(payee.note)}</p>" if payee.note else ""
    return f"<div class=payee><div><dl>{lines}</dl>{note}</div>{image}</div>"


def to_html(document: Document, *, pdf_url: str) -> str:
    """Render the agreement as a self-contained page (the QR code inline, no scripts)."""
    language = document.language
    schedule = ""
    if document.schedule is not None:
        schedule = f"<h2>{html.escape(document.schedule_title)}</h2>" + _table_html(
            document.schedule, 2
        )
    missing = f"<p>{html.escape(document.missing)}</p>" if document.missing else ""
    notes = "".join(f"<li>{html.escape(note)}</li>" for note in document.notes)
    payees = "".join(_payee_html(p, language) for p in document.payees)
    return (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{html.escape(document.title)}</title><style>{_STYLE}</style></head><body>"
        f'<p class=actions><a href="{html.escape(pdf_url)}">'
        f"{html.escape(document.labels['pdf'])}</a></p>"
        f"<h1>{html.escape(document.title)}</h1><p class=muted>{html.escape(document.intro)}</p>"
        f"<h2>{html.escape(document.claims_title)}</h2>{_table_html(document.claims, 3)}"
        f"<h2>{html.escape(document.agreement_title)}</h2><p>{html.escape(document.agreement)}</p>"
        f"{schedule}<h2>{html.escape(document.payment_title)}</h2>{payees}{missing}"
        f"<h2>{html.escape(document.notes_title)}</h2><ul>{notes}</ul>"
        f"<p class=muted>{html.escape(document.valid_until)}</p></body></html>"
    )


# -- PDF ----------------------------------------------------------------------------------


def _latin(value: str) -> str:
    """Keep what Windows-1252 can write; drop the accents of anything else."""
    try:
        value.encode("cp1252")
        return value
    except UnicodeEncodeError:
        pass
    out = []
    for ch in value:
        try:
            ch.encode("cp1252")
            out.append(ch)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            out.append(base or "?")
    return "".join(out).replace("\u202f", " ")


def _pdf_table(pdf: FPDF, table: Table, widths: tuple[int, ...], numeric_from: int) -> None:
    align = tuple("RIGHT" if i >= numeric_from else "LEFT" for i in range(len(table.head)))
    pdf.set_font("Helvetica", size=8)
    with pdf.table(col_widths=widths, text_align=align, line_height=4.5) as grid:
        for row in (table.head, *table.rows, *((table.foot,) if table.foot else ())):
            cells = grid.row()
            for value in row:
                cells.cell(_latin(value))
    pdf.set_font("Helvetica", size=10)


def to_pdf(document: Document) -> bytes:
    """Render the agreement as an A4 PDF."""
    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_title(_latin(document.title))
    pdf.set_creator("Quitt")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    width = pdf.epw

    def heading(value: str, size: int = 12) -> None:
        pdf.ln(3)
        pdf.set_font("Helvetica", style="B", size=size)
        pdf.multi_cell(width, 7, _latin(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("Helvetica", size=10)

    def paragraph(value: str) -> None:
        pdf.multi_cell(width, 5, _latin(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    heading(document.title, 16)
    paragraph(document.intro)
    heading(document.claims_title)
    _pdf_table(pdf, document.claims, (20, 44, 30, 22, 18, 18, 22), 3)
    heading(document.agreement_title)
    paragraph(document.agreement)
    if document.schedule is not None:
        heading(document.schedule_title)
        columns = len(document.schedule.head)
        widths = (14, 30, *([26] * (columns - 2)))
        _pdf_table(pdf, document.schedule, widths, 2)
    heading(document.payment_title)
    for payee in document.payees:
        top = pdf.get_y()
        if top > pdf.h - 70:
            pdf.add_page()
            top = pdf.get_y()
        for label, value in payee.lines:
            pdf.set_font("Helvetica", style="B", size=10)
            pdf.cell(36, 6, _latin(label))
            pdf.set_font("Helvetica", size=10)
            pdf.multi_cell(width - 36 - 52, 6, _latin(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if payee.note:
            paragraph(payee.note)
        if payee.qr:
            pdf.image(io.BytesIO(payee.qr), x=pdf.l_margin + width - 45, y=top, w=45, h=45)
            pdf.set_y(max(pdf.get_y(), top + 47))
        pdf.ln(2)
    if document.missing:
        paragraph(document.missing)
    heading(document.notes_title)
    for note in document.notes:
        paragraph(f"- {note}")
    pdf.ln(2)
    pdf.set_font("Helvetica", style="I", size=8)
    paragraph(document.valid_until)
    return bytes(pdf.output())
