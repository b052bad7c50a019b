"""A local stand-in for Twilio's REST API: real paths, form encoding and basic auth.

It records every request Quitt makes (messages sent, media fetched) and serves
media files the way Twilio does: the media URL answers with a redirect to a
"CDN" path that needs no credentials. Tests also sign webhooks with the real
`RequestValidator` algorithm through `signed_webhook`.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "standin-auth-token-0123456789abcdef"
_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages\.json$")
_MEDIA = re.compile(
    r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages/(MM[0-9a-f]{32})/Media/(ME[0-9a-f]{32})$"
)
_CDN = re.compile(r"^/cdn/(ME[0-9a-f]{32})$")


def sid(prefix: str) -> str:
    """Return a fresh Twilio-shaped sid ("SM" + 32 hex digits)."""
    return prefix + uuid.uuid4().hex


@dataclass(frozen=True)
class Recorded:
    """One request Quitt made to the stand-in."""

    method: str
    path: str
    form: dict[str, str]
    authorized: bool


@dataclass
class TwilioStandIn:
    """The running stand-in: its base URL, what it received and the media it serves."""

    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    requests: list[Recorded] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    # A status to answer message creation with instead of 201 (e.g. 400 for a refused send),
    # and Twilio's error code in the answer (21610: the number has sent STOP).
    fail_messages_with: int | None = None
    fail_code: int = 63016
    base_url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def messages(self) -> list[dict[str, str]]:
        """Return the form of every authorised message creation, in order."""
        with self._lock:
            return [
                r.form
                for r in self.requests
                if r.method == "POST" and _MESSAGES.match(r.path) and r.authorized
            ]

    def messages_to(self, to: str) -> list[dict[str, str]]:
        """Return the messages sent to one address."""
        return [m for m in self.messages if m.get("To") == to]

    def wait_for_messages(self, to: str, count: int, timeout: float = 10.0) -> list[dict[str, str]]:
        """Wait until `count` messages went to an address; return them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.messages_to(to)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        return self.messages_to(to)

    def add_media(self, content: bytes, content_type: str) -> tuple[str, str]:
        """Serve a media file; return its Twilio URL and the MessageSid it belongs to."""
        message_sid, media_sid = sid("MM"), sid("ME")
        self.media[media_sid] = (content, content_type)
        url = (
            f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}"
            f"/Messages/{message_sid}/Media/{media_sid}"
        )
        return url, message_sid

    def media_fetches(self) -> list[Recorded]:
        """Return the media requests (credentials checked) Quitt made."""
        with self._lock:
            return [r for r in self.requests if r.method == "GET" and _MEDIA.match(r.path)]


def _messages_path(account_sid: str) -> str:
    """Return the path of an account's Messages resource (without the extension)."""
    return f"/2010-04-01/Accounts/{account_sid}/Messages"


def _handler(standin: TwilioStandIn) -> type[BaseHTTPRequestHandler]:
    """Build the request handler class bound to one stand-in."""

    class Handler(BaseHTTPRequestHandler):
        """Twilio's paths: Messages.json (POST) and media (GET, redirecting to the CDN)."""

        def log_message(self, format: str, *args: Any) -> None:
            """Stay quiet."""

        def _authorized(self, account: str) -> bool:
            """Check basic auth against the account's sid and token."""
            header = self.headers.get("Authorization", "")
            if not header.startswith("Basic ") or account != standin.account_sid:
                return False
            expected = f"{standin.account_sid}:{standin.auth_token}".encode()
            return base64.b64decode(header[6:]) == expected

        def _json(self, status: int, body: dict[str, Any]) -> None:
            """Answer with JSON."""
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _unauthorized(self) -> None:
            """Answer as Twilio does to wrong credentials."""
            self._json(
                401,
                {"code": 20003, "message": "Authenticate", "more_info": "", "status": 401},
            )

        def do_POST(self) -> None:
            """Create a message."""
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
            match = _MESSAGES.match(self.path)
            authorized = bool(match) and self._authorized(match.group(1) if match else "")
            with standin._lock:
                standin.requests.append(Recorded("POST", self.path, form, authorized))
            if not match:
                self._json(404, {"code": 20404, "message": "not found", "status": 404})
                return
            if not authorized:
                self._unauthorized()
                return
            if not form.get("To") or not (form.get("Body") or form.get("ContentSid")):
                self._json(
                    400, {"code": 21602, "message": "Message body is required.", "status": 400}
                )
                return
            if standin.fail_messages_with:
                status = standin.fail_messages_with
                self._json(
                    status,
                    {
                        "code": standin.fail_code,
                        "message": "Outside the allowed window",
                        "status": status,
                    },
                )
                return
            message_sid = sid("SM")
            now = formatdate(usegmt=True)
            self._json(
                201,
                {
                    "sid": message_sid,
                    "account_sid": standin.account_sid,
                    "from": form.get("From"),
                    "to": form["To"],
                    "body": form.get("Body"),
                    "status": "queued",
                    "direction": "outbound-api",
                    "num_media": "0",
                    "num_segments": "1",
                    "api_version": "2010-04-01",
                    "date_created": now,
                    "date_updated": now,
                    "date_sent": None,
                    "error_code": None,
                    "error_message": None,
                    "uri": f"{_messages_path(standin.account_sid)}/{message_sid}.json",
                },
            )

        def do_GET(self) -> None:
            """Serve media: the API URL redirects (with credentials) to the CDN URL."""
            match = _MEDIA.match(self.path)
            if match:
                authorized = self._authorized(match.group(1))
                with standin._lock:
                    standin.requests.append(Recorded("GET", self.path, {}, authorized))
                if not authorized:
                    self._unauthorized()
                    return
                if match.group(3) not in standin.media:
                    self._json(404, {"code": 20404, "message": "not found", "status": 404})
                    return
                self.send_response(307)
                self.send_header("Location", f"{standin.base_url}/cdn/{match.group(3)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            cdn = _CDN.match(self.path)
            if cdn and cdn.group(1) in standin.media:
                content, content_type = standin.media[cdn.group(1)]
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
                return
            self._json(404, {"code": 20404, "message": "not found", "status": 404})

    return Handler


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler], name: str, port: int = 0) -> Iterator[str]:
    """Serve a handler on 127.0.0.1 (a free port unless given) in a thread; yield its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def running_standin(port: int = 0) -> Iterator[TwilioStandIn]:
    """Run a stand-in on 127.0.0.1 (a free port unless given) for the block's duration."""
    standin = TwilioStandIn()
    with serving(_handler(standin), "twilio-standin", port) as standin.base_url:
        yield standin


def sign(url: str, form: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """Sign a webhook as Twilio does (HMAC-SHA1 over URL and sorted fields)."""
    return str(RequestValidator(token).compute_signature(url, form))


def webhook_form(
    *,
    address: str,
    body: str = "",
    our_address: str = "whatsapp:+4930123456789",
    message_sid: str | None = None,
    media: list[tuple[str, str]] | None = None,
    profile_name: str = "Test Debtor",
) -> dict[str, str]:
    """Return the fields of Twilio's WhatsApp webhook for one inbound message."""
    media = media or []
    message_sid = message_sid or sid("SM" if not media else "MM")
    form = {
        "SmsMessageSid": message_sid,
        "MessageSid": message_sid,
        "SmsSid": message_sid,
        "AccountSid": ACCOUNT_SID,
        "MessagingServiceSid": "",
        "From": address,
        "To": our_address,
        "Body": body,
        "NumMedia": str(len(media)),
        "NumSegments": "1",
        "ProfileName": profile_name,
        "WaId": address.removeprefix("whatsapp:+"),
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
        "MessageType": "text" if not media else "image",
    }
    for i, (url, content_type) in enumerate(media):
        form[f"MediaUrl{i}"] = url
        form[f"MediaContentType{i}"] = content_type
    return form
