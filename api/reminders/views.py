"""`/reminders/unsubscribe/{token}`: the opt-out link of reminder e-mails.

GET shows a page with one button, because mail scanners open links on their own and
must not unsubscribe anybody; POST (the button, or a mail client's one-click
unsubscribe, RFC 8058) records the opt-out. A forged token gets 404, like any
unknown page. Both languages on one page: the link carries no language.
"""

from __future__ import annotations

import html
from typing import Final

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.db import SessionDep
from api.reminders import optout, outbox
from domain.config import get_settings
from domain.errors import NotFound

router = APIRouter(prefix="/reminders", tags=["reminders"], include_in_schema=False)

_HEADERS: Final = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
}
_PAGE: Final = """<!doctype html>
<html lang="de"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;
line-height:1.5}}button{{font-size:1rem;padding:.5rem 1rem}}</style></head>
<body>{body}</body></html>
"""


def _debtor_id(token: str) -> int:
    debtor_id = optout.read_token(get_settings(), token)
    if debtor_id is None:
        raise NotFound("no such link")
    return debtor_id


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(token: str) -> HTMLResponse:
    """Ask whether to stop reminders (nothing changes on GET)."""
    _debtor_id(token)
    action = html.escape(f"/reminders/unsubscribe/{token}")
    body = f"""<h1>Keine Zahlungserinnerungen mehr?</h1>
<p>Wir erinnern Sie vor jeder Fälligkeit an Ihre vereinbarten Zahlungen. Möchten Sie
keine Erinnerungen mehr erhalten, per E-Mail, SMS oder WhatsApp?</p>
<p lang="en">No more payment reminders? We remind you before each payment you agreed
is due. Would you rather receive none, by e-mail, text or WhatsApp?</p>
<form method="post" action="{action}">
<button type="submit">Abmelden / Unsubscribe</button></form>"""
    page = _PAGE.format(title="Zahlungserinnerungen / Payment reminders", body=body)
    return HTMLResponse(page, headers=_HEADERS)


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe(token: str, db_session: SessionDep) -> HTMLResponse:
    """Record the opt-out: no more reminders on any channel (audited)."""
    debtor_id = _debtor_id(token)
    outbox.opt_out(db_session=db_session, debtor_id=debtor_id, channel="email")
    body = """<h1>Sie sind abgemeldet.</h1>
<p>Sie erhalten keine Zahlungserinnerungen mehr. Ihre Vereinbarung gilt weiter; bei
Fragen schreiben Sie uns gern im Chat.</p>
<p lang="en">You are unsubscribed and will receive no more payment reminders. Your
agreement still stands; if you have questions, write to us in the chat.</p>"""
    page = _PAGE.format(title="Abgemeldet / Unsubscribed", body=body)
    return HTMLResponse(page, headers=_HEADERS)
