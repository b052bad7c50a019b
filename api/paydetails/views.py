"""`/pay/…`: a promise's EPC QR code and printable agreement, behind signed expiring links.

Links, not an API (like the web page, left out of the OpenAPI document): the
debtor's chat shows them, a banking app or a printer opens them. A token that is
forged, altered, expired, made for another purpose, or whose promise is gone or
cancelled gets the same 404, so an answer never tells one case from another.
Answers are not cached or indexed and send no referrer on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from api.db import SessionDep
from domain.config import get_settings
from domain.errors import NotFound
from domain.paydetails import agreement, links
from domain.paydetails.accounts import agency_account
from domain.paydetails.details import PaymentDetails, for_promise
from domain.paydetails.epc import NoQrCode, qr_png

router = APIRouter(prefix="/pay", tags=["pay"], include_in_schema=False)

_PRIVATE: Final = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
}
# The agreement page: inline styles and its QR code as a data: URL, nothing else.
_PAGE_POLICY: Final = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _gone() -> NotFound:
    return NotFound("no such link")


def _open(
    db_session: SessionDep, token: str, purpose: links.Purpose
) -> tuple[links.Link, PaymentDetails]:
    """Return what a token grants and its promise's details, or raise 404."""
    settings = get_settings()
    link = links.read_token(links.link_key(settings), token, purpose=purpose, now=datetime.now(UTC))
    if link is None:
        raise _gone()
    details = for_promise(
        db_session=db_session, promise_id=link.promise_id, agency=agency_account(settings)
    )
    if details is None or details.status == "cancelled":
        raise _gone()
    return link, details


@router.get("/qr/{token}.png", response_class=Response)
def qr_code(token: str, db_session: SessionDep) -> Response:
    """Serve the EPC QR code (GiroCode) of one payee of a promise as a PNG."""
    link, details = _open(db_session, token, "qr")
    if link.block >= len(details.blocks):
        raise _gone()
    try:
        image = qr_png(details.blocks[link.block])
    except NoQrCode:
        raise _gone() from None
    return Response(image, media_type="image/png", headers=_PRIVATE)


def _document(db_session: SessionDep, token: str) -> tuple[agreement.Document, int]:
    """Return the agreement a token opens, in the chat's language, and its promise id."""
    link, details = _open(db_session, token, "agreement")
    document = agreement.build(
        details,
        language=link.language,
        agency=get_settings().data_controller,
        valid_until=link.expires,
    )
    return document, details.promise_id


@router.get("/agreement/{token}.html", response_class=HTMLResponse)
def agreement_page(token: str, db_session: SessionDep) -> HTMLResponse:
    """Serve the printable agreement of a promise as a page."""
    document, _ = _document(db_session, token)
    pdf_url = links.agreement_url(get_settings(), token, "pdf")
    page = agreement.to_html(document, pdf_url=pdf_url)
    return HTMLResponse(page, headers={**_PRIVATE, "Content-Security-Policy": _PAGE_POLICY})


@router.get("/agreement/{token}.pdf", response_class=Response)
def agreement_pdf(token: str, db_session: SessionDep) -> Response:
    """Serve the printable agreement of a promise as a PDF."""
    document, promise_id = _document(db_session, token)
    name = "vereinbarung" if document.language == "de" else "agreement"
    headers = {**_PRIVATE, "Content-Disposition": f'inline; filename="{name}-{promise_id}.pdf"'}
    return Response(agreement.to_pdf(document), media_type="application/pdf", headers=headers)
