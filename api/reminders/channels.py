"""Where reminders go out: WhatsApp templates and SMS through Twilio, e-mail through SMTP.

Each send either returns the provider's message id or raises `SendError`, which says
whether trying again is safe. At most once (CONTRACT §4) decides the split: an error
that proves nothing went out (no connection, the provider refused before accepting,
a temporary 4xx of the mail server) may be retried; one after which the message may
have gone (a read timeout, a connection lost mid-delivery) is not retried but
recorded as failed. Errors carry codes, never the provider's message text, which
may quote the phone number or the address.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Final

import httpx

from api.channels.whatsapp.templates import Rendered
from api.twilio.client import TwilioClient, TwilioError
from domain.config import Settings

# Twilio: "Attempt to send to unsubscribed recipient" (the number sent STOP).
TWILIO_UNSUBSCRIBED: Final = 21610
# Nothing can have gone out when the connection was never made.
_NOT_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout)


class SendError(Exception):
    """A reminder did not go out (or may not have): a code, and whether a retry is safe."""

    def __init__(self, code: str, *, retry: bool, opted_out: bool = False) -> None:
        super().__init__(code)
        self.code = code
        self.retry = retry
        self.opted_out = opted_out


@dataclass(frozen=True)
class WhatsAppTemplate:
    """An approved template to one WhatsApp address, from the number the debtor wrote to."""

    from_: str
    to: str
    rendered: Rendered


@dataclass(frozen=True)
class Sms:
    """A text message to one phone number."""

    to: str
    body: str


@dataclass(frozen=True)
class Email:
    """A plain-text e-mail to one address, with its one-click unsubscribe link."""

    to: str
    subject: str
    body: str
    language: str
    unsubscribe_url: str | None = None


Outgoing = WhatsAppTemplate | Sms | Email


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the mail server."""

    host: str
    port: int
    security: str  # starttls, tls or none
    username: str | None
    password: str | None
    sender: str
    timeout: float


class Senders:
    """The reminder channels this process can use, and the one way to send on each."""

    def __init__(
        self,
        *,
        twilio: TwilioClient | None,
        sms_from: str | None,
        smtp: SmtpSettings | None,
    ) -> None:
        self.twilio = twilio
        self.sms_from = sms_from or None
        self.smtp = smtp

    @classmethod
    def from_settings(cls, settings: Settings) -> Senders:
        """Build the channels the settings configure (Twilio's API base included)."""
        token = (
            settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else None
        )
        twilio = TwilioClient(
            api_base=settings.twilio_api_base,
            account_sid=settings.twilio_account_sid,
            auth_token=token,
        )
        smtp = None
        if settings.smtp_host:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
            smtp = SmtpSettings(
                host=settings.smtp_host,
                port=settings.smtp_port,
                security=settings.smtp_security,
                username=settings.smtp_username or None,
                password=password,
                sender=settings.smtp_from,
                timeout=settings.smtp_timeout_seconds,
            )
        return cls(twilio=twilio, sms_from=settings.sms_from, smtp=smtp)

    @property
    def whatsapp_ready(self) -> bool:
        """Tell whether WhatsApp templates can go out (the Twilio account is set)."""
        return self.twilio is not None and self.twilio.configured

    @property
    def sms_ready(self) -> bool:
        """Tell whether SMS can go out (the Twilio account and our SMS sender are set)."""
        return self.whatsapp_ready and self.sms_from is not None

    @property
    def email_ready(self) -> bool:
        """Tell whether e-mail can go out (a mail server is set)."""
        return self.smtp is not None

    @property
    def any_ready(self) -> bool:
        """Tell whether any channel is configured."""
        return self.whatsapp_ready or self.sms_ready or self.email_ready

    async def send(self, message: Outgoing) -> str:
        """Send one reminder and return the provider's id of it, or raise SendError."""
        if isinstance(message, Email):
            if self.smtp is None:
                raise SendError("email_not_configured", retry=False)
            return await asyncio.to_thread(send_email, self.smtp, message)
        if self.twilio is None:
            raise SendError("twilio_not_configured", retry=False)
        try:
            if isinstance(message, WhatsAppTemplate):
                return await self.twilio.send_template(
                    from_=message.from_,
                    to=message.to,
                    content_sid=message.rendered.content_sid,
                    content_variables=message.rendered.content_variables,
                )
            if self.sms_from is None:
                raise SendError("sms_not_configured", retry=False)
            return await self.twilio.send_message(
                from_=self.sms_from, to=message.to, body=message.body
            )
        except TwilioError as exc:
            raise _twilio_error(exc) from None

    async def aclose(self) -> None:
        """Close the Twilio connection pool."""
        if self.twilio is not None:
            await self.twilio.aclose()


def _twilio_error(exc: TwilioError) -> SendError:
    """Sort a Twilio error into retry-safe or not, by its status and code."""
    if exc.status is None:
        # No answer: safe to retry only when the request never left.
        sent_maybe = not isinstance(exc.__cause__, _NOT_SENT)
        return SendError(
            "twilio_no_answer" if sent_maybe else "twilio_unreachable", retry=not sent_maybe
        )
    if exc.code == TWILIO_UNSUBSCRIBED:
        return SendError(f"twilio_{exc.code}", retry=False, opted_out=True)
    # Too many requests, or Twilio's own trouble: the message was not created.
    retry = exc.status == 429 or exc.status >= 500
    return SendError(f"twilio_{exc.code or exc.status}", retry=retry)


def email_message(smtp: SmtpSettings, message: Email) -> EmailMessage:
    """Build the e-mail: plain text, automatic, with a one-click unsubscribe (RFC 8058)."""
    mail = EmailMessage()
    mail["From"] = smtp.sender
    mail["To"] = message.to
    mail["Subject"] = message.subject
    mail["Date"] = formatdate(usegmt=True)
    domain = parseaddr(smtp.sender)[1].rpartition("@")[2] or None
    mail["Message-ID"] = make_msgid(domain=domain)
    mail["Auto-Submitted"] = "auto-generated"
    if message.unsubscribe_url:
        mail["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail.set_content(message.body)
    # After the body: set_content replaces every Content-* header.
    mail["Content-Language"] = message.language
    return mail


def send_email(smtp: SmtpSettings, message: Email) -> str:
    """Deliver an e-mail to the mail server (blocking: run it in a worker thread)."""
    mail = email_message(smtp, message)
    context = ssl.create_default_context()
    try:
        server: smtplib.SMTP = (
            smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
            if smtp.security == "tls"
            else smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        )
    except (OSError, smtplib.SMTPException):
        raise SendError("smtp_unreachable", retry=True) from None
    with server:
        try:
            if smtp.security == "starttls":
                server.starttls(context=context)
            if smtp.username and smtp.password:
                server.login(smtp.username, smtp.password)
        except smtplib.SMTPAuthenticationError:
            raise SendError("smtp_login_refused", retry=False) from None
        except (OSError, smtplib.SMTPException):
            # Before the message: nothing went out.
            raise SendError("smtp_session", retry=True) from None
        try:
            server.send_message(mail)
        except smtplib.SMTPRecipientsRefused:
            raise SendError("smtp_recipient_refused", retry=False) from None
        except smtplib.SMTPResponseException as exc:
            # The server answered no: 4xx for now (try again), 5xx for good.
            temporary = 400 <= exc.smtp_code < 500
            raise SendError(f"smtp_{exc.smtp_code}", retry=temporary) from None
        except (OSError, smtplib.SMTPException):
            # Lost mid-delivery: it may have been accepted, so it is not sent again.
            raise SendError("smtp_no_answer", retry=False) from None
    return str(mail["Message-ID"])
