"""Twilio's side of a phone call, played locally: the Calls REST endpoint and the phone.

`running_voice_standin()` serves `POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json`
(form-encoded `Twiml`, basic auth) and records every call update Quitt sends.
`PhoneCall` does what Twilio does on a call (Media Streams protocol: `connected`,
`start`, `media`, `dtmf`, `stop`), as Twilio's Media Streams documentation says:

- it posts the signed incoming-call webhook and opens every stream the TwiML names,
  the `<Start><Stream>` fork (unidirectional) and the `<Connect><Stream>` (bidirectional)
  at once, each on its own WebSocket;
- the caller's audio reaches every open stream (both carry the inbound track);
- keypad presses (`dtmf`) reach only the bidirectional stream: unidirectional streams
  get no DTMF;
- a call update ends the `<Connect><Stream>` (`stop`, then the new TwiML runs: the
  `<Say>` text, then a new `<Connect><Stream>`), but not a `<Start><Stream>` fork,
  which runs until the call ends or a `<Stop><Stream>` names it;
- a hang-up sends `stop` on every open stream.
"""

from __future__ import annotations

import asyncio
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
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs
from xml.etree import ElementTree

import httpx
import websockets

from tests.support.phone_audio import frames, payload
from tests.support.twilio_standin import ACCOUNT_SID, AUTH_TOKEN, serving, sign

_CALLS = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Calls/(CA[0-9a-f]{32})\.json$")


def call_sid() -> str:
    """Return a fresh CallSid."""
    return "CA" + uuid.uuid4().hex


@dataclass(frozen=True)
class CallUpdate:
    """One call update Quitt sent: the call and its new TwiML."""

    call_sid: str
    twiml: str
    authorized: bool
    at: float


@dataclass
class VoiceStandIn:
    """The running Calls endpoint and what it received."""

    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    updates: list[CallUpdate] = field(default_factory=list)
    base_url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def updates_of(self, sid: str) -> list[CallUpdate]:
        """Return the authorised updates of one call, in order."""
        with self._lock:
            return [u for u in self.updates if u.call_sid == sid and u.authorized]

    def wait_update_sync(self, sid: str, count: int, timeout: float = 30.0) -> CallUpdate:
        """Wait (blocking) until a call has had `count` updates; return the last one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.updates_of(sid)
            if len(found) >= count:
                return found[count - 1]
            time.sleep(0.05)
        raise AssertionError(f"no call update #{count} for {sid} within {timeout:.0f}s")

    async def wait_update(self, sid: str, count: int, timeout: float = 60.0) -> CallUpdate:
        """Wait until a call has had `count` updates; return the last one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.updates_of(sid)
            if len(found) >= count:
                return found[count - 1]
            await asyncio.sleep(0.05)
        raise AssertionError(f"no call update #{count} for {sid} within {timeout:.0f}s")


def _handler(standin: VoiceStandIn) -> type[BaseHTTPRequestHandler]:
    """Build the request handler bound to one stand-in."""

    class Handler(BaseHTTPRequestHandler):
        """Twilio's Calls resource: POST updates a live call."""

        def log_message(self, format: str, *args: Any) -> None:
            """Stay quiet."""

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorized(self, account: str) -> bool:
            header = self.headers.get("Authorization", "")
            if not header.startswith("Basic ") or account != standin.account_sid:
                return False
            expected = f"{standin.account_sid}:{standin.auth_token}".encode()
            return base64.b64decode(header[6:]) == expected

        def do_POST(self) -> None:
            """Update a call's TwiML."""
            length = int(self.headers.get("Content-Length") or 0)
            form = {
                k: v[0]
                for k, v in parse_qs(
                    self.rfile.read(length).decode(), keep_blank_values=True
                ).items()
            }
            match = _CALLS.match(self.path)
            if not match:
                self._json(404, {"code": 20404, "message": "not found", "status": 404})
                return
            authorized = self._authorized(match.group(1))
            with standin._lock:
                standin.updates.append(
                    CallUpdate(match.group(2), form.get("Twiml", ""), authorized, time.monotonic())
                )
            if not authorized:
                self._json(401, {"code": 20003, "message": "Authenticate", "status": 401})
                return
            if not form.get("Twiml") and not form.get("Url") and not form.get("Status"):
                self._json(400, {"code": 21218, "message": "Invalid ApplicationSid", "status": 400})
                return
            now = formatdate(usegmt=True)
            self._json(
                200,
                {
                    "sid": match.group(2),
                    "account_sid": standin.account_sid,
                    "status": "in-progress",
                    "direction": "inbound",
                    "api_version": "2010-04-01",
                    "date_updated": now,
                    "uri": self.path,
                },
            )

    return Handler


@contextmanager
def running_voice_standin(port: int = 0) -> Iterator[VoiceStandIn]:
    """Run the Calls endpoint on 127.0.0.1 (a free port unless given) for the block's duration."""
    standin = VoiceStandIn()
    with serving(_handler(standin), "twilio-voice", port) as standin.base_url:
        yield standin


@dataclass(frozen=True)
class StreamSpec:
    """A `<Stream>` of a TwiML document: where it connects, its parameters, its name."""

    url: str
    params: dict[str, str]
    name: str = ""


@dataclass(frozen=True)
class Document:
    """What a TwiML document tells Twilio to do, as far as the tests look."""

    says: list[str]
    listen: StreamSpec | None
    turn: StreamSpec | None
    enqueue: str | None
    dial: str | None
    hangup: bool
    stops: list[str] = field(default_factory=list)  # names of streams <Stop> ends

    @classmethod
    def parse(cls, twiml: str) -> Document:
        """Read a TwiML document."""
        root = ElementTree.fromstring(twiml)

        def stream(parent: str) -> StreamSpec | None:
            for element in root.iter(parent):
                found = element.find("Stream")
                if found is not None:
                    params = {
                        p.get("name", ""): p.get("value", "") for p in found.iter("Parameter")
                    }
                    return StreamSpec(found.get("url", ""), params, found.get("name", ""))
            return None

        enqueue = root.find("Enqueue")
        dial = root.find("Dial")
        return cls(
            says=[s.text or "" for s in root.iter("Say")],
            listen=stream("Start"),
            turn=stream("Connect"),
            enqueue=enqueue.text if enqueue is not None else None,
            dial=dial.text if dial is not None else None,
            hangup=root.find("Hangup") is not None,
            stops=[s.get("name", "") for stop in root.iter("Stop") for s in stop.iter("Stream")],
        )


@dataclass
class MediaStream:
    """One open Media Streams WebSocket: the fork (`listen`) or the bidirectional `turn`."""

    role: str
    name: str
    socket: Any
    sid: str = field(default_factory=lambda: "MZ" + uuid.uuid4().hex)
    sequence: int = 0
    chunk: int = 0

    async def send(self, message: dict[str, Any]) -> None:
        """Send one message with its sequence number and the stream's sid."""
        self.sequence += 1
        await self.socket.send(
            json.dumps({"sequenceNumber": str(self.sequence), "streamSid": self.sid, **message})
        )


@dataclass
class PhoneCall:
    """A caller on the line, with Twilio in between (the real protocol, locally)."""

    standin: VoiceStandIn
    gateway_url: str
    public_url: str
    caller: str
    sid: str = field(default_factory=call_sid)
    documents: list[Document] = field(default_factory=list)
    streams: dict[str, MediaStream] = field(default_factory=dict)  # "listen", "turn"

    def _signed(self, path: str, form: dict[str, str]) -> dict[str, str]:
        return {"X-Twilio-Signature": sign(f"{self.public_url}{path}", form)}

    def webhook_form(self, **extra: str) -> dict[str, str]:
        """Return the fields of Twilio's incoming-call webhook."""
        return {
            "AccountSid": self.standin.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": self.sid,
            "CallStatus": "ringing",
            "Called": "+4930123456789",
            "Caller": self.caller,
            "Direction": "inbound",
            "From": self.caller,
            "To": "+4930123456789",
            **extra,
        }

    async def post(self, path: str, form: dict[str, str], *, signed: bool = True) -> httpx.Response:
        """Post a webhook as Twilio does (signed over the public URL unless told not to)."""
        headers = self._signed(path, form) if signed else {}
        async with httpx.AsyncClient(base_url=self.gateway_url, timeout=30.0) as http:
            return await http.post(path, data=form, headers=headers)

    async def dial(self) -> Document:
        """Place the call: the webhook answers with TwiML; its streams open, fork first."""
        response = await self.post("/twilio/voice", self.webhook_form())
        assert response.status_code == 200, response.text
        document = Document.parse(response.text)
        self.documents.append(document)
        assert document.turn is not None, response.text
        await self._run(document)
        return document

    async def _run(self, document: Document) -> None:
        """Carry out a document's streams: <Stop> named forks, <Start> a fork, <Connect>."""
        for name in document.stops:
            fork = self.streams.get("listen")
            if fork is not None and fork.name == name:
                await self._end("listen")
        if document.listen is not None and "listen" not in self.streams:
            await self._open("listen", document.listen)
        if document.turn is not None:
            await self._open("turn", document.turn)

    async def _open(self, role: str, spec: StreamSpec) -> None:
        """Open a media stream as Twilio does: `connected`, then `start`."""
        stream = MediaStream(role, spec.name, await websockets.connect(spec.url))
        self.streams[role] = stream
        await stream.socket.send(
            json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        )
        await stream.send(
            {
                "event": "start",
                "start": {
                    "accountSid": self.standin.account_sid,
                    "streamSid": stream.sid,
                    "callSid": self.sid,
                    "tracks": ["inbound"],
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                    "customParameters": spec.params,
                },
            }
        )

    async def _end(self, role: str) -> None:
        """End one stream: `stop`, then the socket closes."""
        stream = self.streams.pop(role, None)
        if stream is None:
            return
        await stream.send(
            {"event": "stop", "stop": {"accountSid": self.standin.account_sid, "callSid": self.sid}}
        )
        await stream.socket.close()

    async def stream(self, audio: bytes, *, realtime: bool = False) -> None:
        """Send the caller's audio as 20 ms `media` messages on every open stream."""
        for frame in frames(audio):
            encoded = payload(frame)
            for stream in list(self.streams.values()):
                stream.chunk += 1
                await stream.send(
                    {
                        "event": "media",
                        "media": {
                            "track": "inbound",
                            "chunk": str(stream.chunk),
                            "timestamp": str(stream.chunk * 20),
                            "payload": encoded,
                        },
                    }
                )
            await asyncio.sleep(0.02 if realtime else 0)

    async def press(self, keys: str) -> None:
        """Press keypad keys: `dtmf` messages, on the bidirectional stream only."""
        turn = self.streams.get("turn")
        if turn is None:
            return  # no bidirectional stream open: Twilio delivers the keys nowhere
        for key in keys:
            await turn.send({"event": "dtmf", "dtmf": {"track": "inbound_track", "digit": key}})

    async def hang_up(self) -> None:
        """Hang up: `stop` on every open stream, then the sockets close."""
        for role in list(self.streams):
            await self._end(role)

    async def stop(self) -> None:
        """Hang up (the name the tests have used)."""
        await self.hang_up()

    async def answer(self, timeout: float = 60.0) -> Document:
        """Wait for Quitt's next call update and carry it out as Twilio does.

        The update ends the `<Connect><Stream>`; the fork keeps running unless the new
        TwiML stops it; the text is "said"; a new `<Connect><Stream>` opens.
        """
        update = await self.standin.wait_update(self.sid, len(self.documents), timeout)
        document = Document.parse(update.twiml)
        self.documents.append(document)
        await self._end("turn")
        await self._run(document)
        return document

    async def status(self, status: str = "completed", *, signed: bool = True) -> httpx.Response:
        """Send the status callback of the call."""
        return await self.post(
            "/twilio/voice/status",
            self.webhook_form(CallStatus=status, CallDuration="42"),
            signed=signed,
        )
