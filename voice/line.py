"""The voice line's long-lived parts: the Calls client, the TwiML builder, the live calls."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from fastapi import FastAPI

from domain.config import Settings, get_settings
from domain.db import session_scope
from voice import service as voice_service
from voice.calls import CallsClient
from voice.session import CallSession
from voice.smart_turn import TurnModel, turn_model
from voice.timings import TurnMetrics
from voice.twiml import Voice


@dataclass
class VoiceLine:
    """What the webhooks and the media streams share for the life of the app."""

    settings: Settings
    voice: Voice
    calls: CallsClient
    app: FastAPI
    metrics: TurnMetrics | None = None
    turn_model: TurnModel | None = None
    sessions: dict[str, CallSession] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def session_for(self, call_sid: str) -> CallSession | None:
        """Return the live call's session, starting it on its first stream; None if not live."""
        async with self._lock:
            session = self.sessions.get(call_sid)
            if session is not None and not session.ended:
                return session

            def read() -> tuple[str, str] | None:
                with session_scope() as db_session:
                    call = voice_service.get_call(db_session=db_session, call_sid=call_sid)
                    if call is None or call.ended_at is not None:
                        return None
                    return call.language, call.caller

            found = await asyncio.to_thread(read)
            if found is None:
                return None
            language, caller = found
            session = CallSession(
                call_sid=call_sid,
                language=language,
                caller=caller,
                settings=self.settings,
                voice=self.voice,
                calls=self.calls,
                gateway=self.app.state.gateway,
                engine=getattr(self.app.state, "stt", None),
                metrics=self.metrics,
                turn_model=self.turn_model,
            )
            self.sessions[call_sid] = session
            return session

    async def end(self, call_sid: str, reason: str) -> None:
        """End a call Twilio reports over (status callback), live session or not."""
        session = self.sessions.pop(call_sid, None)
        if session is not None:
            await session.end(reason)
            return

        def finish() -> None:
            with session_scope() as db_session:
                voice_service.end_call(db_session=db_session, call_sid=call_sid, reason=reason)

        await asyncio.to_thread(finish)

    def forget(self, call_sid: str) -> None:
        """Drop an ended call's session."""
        session = self.sessions.get(call_sid)
        if session is not None and session.ended:
            del self.sessions[call_sid]

    async def close(self) -> None:
        """Stop every session's worker and close the Twilio client."""
        for session in list(self.sessions.values()):
            await session.close()
        self.sessions.clear()
        await self.calls.aclose()


def build(app: FastAPI) -> VoiceLine:
    """Create the line from the settings."""
    settings = get_settings()
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else None
    return VoiceLine(
        settings=settings,
        voice=Voice(
            public_url=settings.public_url,
            secret=settings.secret_key.get_secret_value(),
            voice_de=settings.voice_de,
            voice_en=settings.voice_en,
        ),
        calls=CallsClient(
            api_base=settings.twilio_api_base,
            account_sid=settings.twilio_account_sid,
            auth_token=token,
        ),
        app=app,
        metrics=TurnMetrics(getattr(app.state, "metrics_registry", None)),
        turn_model=turn_model(settings.voice_turn_model),
    )


def get_line(app: FastAPI) -> VoiceLine:
    """Return the app's voice line, creating it on first use (inside the running app)."""
    line: VoiceLine | None = getattr(app.state, "voice", None)
    if line is None:
        line = app.state.voice = build(app)
    return line
