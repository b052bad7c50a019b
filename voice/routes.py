"""The voice line's Twilio endpoints: the incoming-call webhook, the status callback, the stream.

- `POST /twilio/voice` answers a call with TwiML (signed like every Twilio path;
  each CallSid is taken once, and a retry gets the very same answer).
- `POST /twilio/voice/status` ends the call's conversation when Twilio reports it over.
- `WS /twilio/voice/stream` speaks Twilio's Media Streams protocol (`connected`,
  `start`, `media`, `dtmf`, `mark`, `stop`). A stream is taken only when its
  parameters carry the call's token, which only the TwiML we gave Twilio holds.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import re
from typing import Any, Final

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import Response

from api.twilio import signature
from domain.config import get_settings
from domain.db import session_scope
from domain.errors import ValidationFailed
from policy.masking import mask_phone
from voice import service as voice_service
from voice import speech_text
from voice.line import get_line
from voice.session import CallSession
from voice.twiml import LISTEN, STREAM_PATH, TURN

logger = logging.getLogger(__name__)
router = APIRouter(tags=["channels"])

_CALL_SID: Final = re.compile(r"^CA[0-9a-fA-F]{32}$")
_PHONE: Final = re.compile(r"^\+\d{6,15}$")
MAX_FRAME_BYTES: Final = 64 * 1024
# Close codes: policy violation (not our call), unsupported data (bad frames).
POLICY_VIOLATION: Final = 1008
UNSUPPORTED: Final = 1003


def _xml(content: str) -> Response:
    """Return TwiML with the content type Twilio expects."""
    return Response(content, media_type="application/xml")


async def _verified_form(request: Request) -> dict[str, str]:
    """Read a Twilio webhook's fields and refuse it (403) unless Twilio signed it."""
    settings = get_settings()
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    signature.verify(
        settings=settings,
        url=signature.public_url(settings, request.url),
        params=form,
        signature=request.headers.get(signature.SIGNATURE_HEADER),
    )
    call_sid = form.get("CallSid", "")
    if not _CALL_SID.match(call_sid):
        raise ValidationFailed("CallSid: missing or malformed")
    return form


@router.post("/twilio/voice", response_class=Response)
async def incoming_call(request: Request) -> Response:
    """Answer an incoming call: AI disclosure, transcription notice, language switch, stream."""
    form = await _verified_form(request)
    call_sid = form["CallSid"]
    caller = form.get("From", "")
    caller = caller if _PHONE.match(caller) else ""
    line = get_line(request.app)

    def take() -> tuple[bool, str]:
        with session_scope() as db_session:
            language = voice_service.likely_language(db_session=db_session, caller=caller)
            taken = voice_service.take_call(
                db_session=db_session, call_sid=call_sid, caller=caller, language=language
            )
            if not taken.new:
                return False, taken.answer
            opening = " ".join(
                (
                    speech_text.text(
                        "greeting", language, controller=line.settings.data_controller
                    ),
                    speech_text.text("keypad_hint", language),
                    speech_text.text("switch_language", language),
                )
            )
            answer = line.voice.answer(call_sid=call_sid, language=language, text=opening)
            voice_service.store_answer(db_session=db_session, call_sid=call_sid, answer=answer)
            voice_service.record_line(
                db_session=db_session, call_sid=call_sid, author="bot", text=opening
            )
            return True, answer

    new, answer = await asyncio.to_thread(take)
    logger.info(
        "voice call %s from %s %s",
        call_sid,
        mask_phone(caller) if caller else "an unknown number",
        "answered" if new else "answered again (Twilio retry)",
    )
    return _xml(answer)


@router.post("/twilio/voice/status", response_class=Response)
async def call_status(request: Request) -> Response:
    """End the call's conversation when Twilio reports the call over."""
    form = await _verified_form(request)
    status = form.get("CallStatus", "")
    if status in voice_service.ENDED_STATUSES:
        await get_line(request.app).end(form["CallSid"], status)
    return _xml('<?xml version="1.0" encoding="UTF-8"?><Response />')


def _start(message: dict[str, Any], line_token_ok: Any) -> tuple[str, str] | None:
    """Return (CallSid, role) of a valid `start` message, None when it is not ours."""
    start = message.get("start")
    if not isinstance(start, dict):
        return None
    call_sid = str(start.get("callSid") or "")
    params = start.get("customParameters") or {}
    media = start.get("mediaFormat") or {}
    if not isinstance(params, dict) or not _CALL_SID.match(call_sid):
        return None
    if params.get("callSid") != call_sid or not line_token_ok(call_sid, str(params.get("token"))):
        return None
    if media and (
        media.get("encoding") != "audio/x-mulaw" or int(media.get("sampleRate", 0)) != 8000
    ):
        return None
    role = LISTEN if params.get("role") == LISTEN else TURN
    return call_sid, role


@router.websocket(STREAM_PATH)
async def media_stream(websocket: WebSocket) -> None:
    """Take one Twilio media stream: its audio, its keypad and its end."""
    await websocket.accept()
    line = get_line(websocket.app)
    session: CallSession | None = None
    role = TURN
    stopped = False
    try:
        while True:
            raw = await websocket.receive_text()
            if len(raw) > MAX_FRAME_BYTES:
                await websocket.close(UNSUPPORTED)
                break
            try:
                message = json.loads(raw)
            except ValueError:
                await websocket.close(UNSUPPORTED)
                break
            event = message.get("event") if isinstance(message, dict) else None
            if event == "start":
                started = _start(message, line.voice.valid_token)
                session = await line.session_for(started[0]) if started else None
                if started is None or session is None:
                    logger.warning("media stream refused: not a live call of ours")
                    await websocket.close(POLICY_VIOLATION)
                    break
                role = started[1]
                session.stream_started(role)
            elif session is None:
                continue  # `connected`, or anything before `start`
            elif event == "media":
                media = message.get("media") or {}
                if media.get("track", "inbound") not in ("inbound", "inbound_track"):
                    continue
                try:
                    audio = base64.b64decode(str(media.get("payload") or ""), validate=True)
                except (binascii.Error, ValueError):
                    continue
                await session.audio(role, audio)
            elif event == "dtmf":
                digit = str((message.get("dtmf") or {}).get("digit") or "")
                if len(digit) == 1:
                    session.key(digit)
            elif event == "stop":
                stopped = True
                await session.stream_stopped(role)
                break
    except WebSocketDisconnect:
        pass
    finally:
        if session is not None and not stopped:
            # The socket went away without `stop`: the same as a hang-up of this stream.
            await session.stream_stopped(role)
        if session is not None and session.ended:
            line.forget(session.call_sid)
