"""One call's turn-taking: utterances and keypad in, spoken replies out.

The stream handler feeds a `CallSession` with what Twilio sends (stream start and
stop, audio, keypad); a worker task takes the caller's turns one at a time:

- an utterance (its end found by `voice/turn.py`: a short pause, the turn model and
  the words) is transcribed by Whisper in the conversation's language, mostly while
  the caller was still on the line, and goes through `handle_inbound` like any message;
- keypad digits end with `#` (`*` clears); a reference or date of birth is said
  back ("Ich habe … verstanden") before the bot's answer; one key picks an option
  of the last answer ("sagen Sie Ja oder drücken Sie 1");
- the answer is rendered for the ear and pushed to the live call (`<Say>`);
  a handoff puts the caller through to a person instead.

Barge-in: speech heard while an answer is being said (on the listening stream)
cuts it with a call update that only opens the caller's turn. Silence: after
`voice_reprompt_seconds` the last question is asked again, then an agent is
offered (key 0), then the call is handed to a person.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from api.dialogue.service import UNSURE_TRANSCRIPT, Gateway, Inbound, handle_inbound
from domain.config import Settings
from domain.db import session_scope
from policy.masking import mask_phone
from voice import inputs, speech_text
from voice import service as voice_service
from voice.audio import telephone_to_model
from voice.calls import CallsClient, CallUpdateFailed
from voice.heard import Heard, hear
from voice.inputs import HUMAN_REQUEST, Item, KeyState, Speech, press
from voice.smart_turn import TurnModel
from voice.stt import SpeechEngine, transcribe_async
from voice.timings import TurnMetrics, TurnTimings
from voice.turn import Turn, TurnTaker
from voice.twiml import Voice
from voice.vad import Utterance

logger = logging.getLogger(__name__)

# How long a hang-up waits for the caller's last turn before the call is ended anyway.
END_WAIT_SECONDS = 10.0

T = TypeVar("T")


def _state(*, db_session: Session, call_sid: str) -> tuple[bool, str | None]:
    """Return whether the call is handed to a person, and its conversation's language."""
    return (
        voice_service.handed_off(db_session=db_session, call_sid=call_sid),
        voice_service.conversation_language(db_session=db_session, call_sid=call_sid),
    )


@dataclass
class CallSession:
    """The live state of one call, shared by its listening and turn streams."""

    call_sid: str
    language: str
    settings: Settings
    voice: Voice
    calls: CallsClient
    gateway: Gateway
    engine: SpeechEngine | None
    caller: str = ""
    metrics: TurnMetrics | None = None
    turn_model: TurnModel | None = None
    taker: TurnTaker = field(init=False)
    listening: bool = False  # a listening stream is attached (audio comes from it)
    turn_open: bool = False  # the caller's turn: a turn stream is connected
    playing: bool = False  # an answer is being said
    expect_turn_stop: bool = False  # we updated the call, so the turn stream ends
    transferred: bool = False
    ended: bool = False
    agent_offered: bool = False  # after two silences, key 0 asks for a person
    turns: int = 0
    silences: int = 0
    digits: str = ""
    spoken: speech_text.Spoken | None = None
    question: str = ""
    _timings: TurnTimings | None = None  # the turn being answered
    _queue: asyncio.Queue[Item | None] = field(default_factory=asyncio.Queue)
    _worker: asyncio.Task[None] | None = None
    _silence_task: asyncio.Task[None] | None = None
    _ending: asyncio.Task[None] | None = None
    _busy: bool = False

    def __post_init__(self) -> None:
        self.taker = TurnTaker.for_call(
            self.settings, self.turn_model, transcribe=self._transcribe, on_turn=self._on_turn
        )
        self._worker = asyncio.create_task(self._work(), name=f"voice-{self.call_sid[-6:]}")

    @property
    def sender(self) -> str:
        """Return the conversation id of the call."""
        return voice_service.sender_id(self.call_sid)

    # Stream events ---------------------------------------------------------------------

    def stream_started(self, role: str) -> None:
        """A stream of the call connected: listening, or the caller's turn began."""
        if role == "listen":
            self.listening = True
            return
        self.turn_open = True
        self.playing = False
        self.expect_turn_stop = False
        self._arm_silence()

    async def stream_stopped(self, role: str) -> None:
        """A stream ended: after our own update that is the turn passing; else a hang-up."""
        if role == "listen":
            self.listening = False
            if not self.transferred:
                await self.end("hangup")
            return
        self.turn_open = False
        self._disarm_silence()
        if self.expect_turn_stop or self.transferred:
            self.expect_turn_stop = False
            return
        await self.end("hangup")

    async def audio(self, role: str, mulaw: bytes) -> None:
        """Take 8 kHz μ-law audio of the caller from the stream that carries it."""
        if self.ended or self.transferred:
            return
        if role == "turn" and self.listening:
            return  # the listening stream already carries the same audio
        if self.taker.feed(mulaw):
            self.silences = 0
            self._disarm_silence()
            if self.playing:
                await self._barge_in()

    def _on_turn(self, turn: Turn) -> None:
        """The caller's turn is over: answer it in order."""
        self._queue.put_nowait(Speech(turn.utterance, timings=turn.timings, heard=turn.heard))

    def key(self, digit: str) -> None:
        """Take one keypad digit: `#` ends a number, `*` clears it, some keys act alone."""
        if self.ended or self.transferred:
            return
        self.silences = 0
        self._disarm_silence()
        state = KeyState(
            self.digits, self.turns == 0, self.agent_offered, self.language, self.spoken
        )
        self.digits, item = press(digit, state)
        if item is not None:
            self._queue.put_nowait(item)

    async def end(self, reason: str) -> None:
        """End the call once: store what the caller was saying, close the conversation.

        The work runs in a task of its own and is shielded: Twilio closes the socket
        right after `stop`, and a cancelled stream handler must not leave the call
        half ended. A second caller (the status callback) waits for the same task.
        """
        if self._ending is None:
            self.ended = True
            self._ending = asyncio.create_task(
                self._finish(reason), name=f"voice-end-{self.call_sid[-6:]}"
            )
        await asyncio.shield(self._ending)

    async def _finish(self, reason: str) -> None:
        """Transcribe what is left, stop the worker and record the end of the call."""
        self._disarm_silence()
        partial = self.taker.flush()
        if partial is not None:
            self._queue.put_nowait(Speech(partial.utterance, final=True, heard=partial.heard))
        self._queue.put_nowait(None)
        if self._worker is not None:
            # The last words are stored if the worker gets to them in time; a turn stuck
            # on an unreachable bot or Twilio never keeps the call from ending.
            try:
                await asyncio.wait_for(asyncio.shield(self._worker), END_WAIT_SECONDS)
            except TimeoutError:
                logger.warning("voice call %s: the last turn did not finish in time", self.call_sid)
                self._worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._worker
            except asyncio.CancelledError:
                pass
        await self.taker.close()
        await self._db(voice_service.end_call, reason=reason)
        logger.info("voice call %s ended (%s)", self.call_sid, reason)

    async def close(self) -> None:
        """Stop the worker without ending the call in the database (shutdown)."""
        self._disarm_silence()
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        await self.taker.close()

    async def _db(self, action: Callable[..., T], **values: Any) -> T:
        """Run a `voice.service` function for this call in a worker thread, in one session."""

        def run() -> T:
            with session_scope() as db_session:
                return action(db_session=db_session, call_sid=self.call_sid, **values)

        return await asyncio.to_thread(run)

    # The caller's turns ---------------------------------------------------------------

    async def _work(self) -> None:
        """Take the caller's turns one at a time, in order."""
        while True:
            item = await self._queue.get()
            if item is None:
                return
            self._busy = True
            try:
                await self._take(item)
            except Exception:
                logger.exception("voice call %s: a turn failed", self.call_sid)
            finally:
                self._busy = False

    async def _take(self, item: Item) -> None:
        """Handle one turn of the caller (timed, when it is speech)."""
        if isinstance(item, Speech):
            self._timings = None if item.final else item.timings
            try:
                await self._speech(item)
            finally:
                if self.metrics and self._timings and self._timings.updated_at:
                    self.metrics.observe(self._timings)
                self._timings = None
        elif isinstance(item, inputs.Keys):
            kind, typed = speech_text.parse_keypad(item.digits)
            heard = speech_text.confirm_keypad(kind, typed, self.language)
            await self._dialogue(typed, prefix=heard)
        elif isinstance(item, inputs.Payload):
            await self._dialogue(item.payload)
        elif isinstance(item, inputs.Switch):
            await self._switch(item.language)
        else:
            await self._silence(item.count)

    async def _speech(self, item: Speech) -> None:
        """Take the utterance's transcript; store it; answer it unless the caller has gone."""
        heard = await self._heard(item)
        if self._timings is not None:
            self._timings.transcribed_at = time.monotonic()
            self._timings.whisper_s = heard.seconds
        text = heard.text
        if item.final:
            if text:
                voiced = {"voice": {"partial": True, "speech_ms": item.utterance.speech_ms}}
                await self._db(voice_service.record_line, author="debtor", text=text, data=voiced)
            return
        if not text:
            # Nothing heard, or a runaway transcript: it never reaches the dialogue.
            await self._say(speech_text.text("not_understood", self.language), record=True)
            return
        await self._dialogue(text, sure=heard.sure)

    async def _heard(self, item: Speech) -> Heard:
        """Return the transcript begun at the caller's pause, or make it now."""
        if item.heard is not None and not item.heard.cancelled():
            try:
                return await item.heard
            except Exception:
                logger.exception("voice call %s: the early transcript failed", self.call_sid)
        return await self._transcribe(item.utterance)

    async def _transcribe(self, utterance: Utterance) -> Heard:
        """Return what Whisper heard in the conversation's language (no text when nothing)."""
        if self.engine is None:
            logger.warning("voice call %s: no speech engine (QUITT_STT_BACKEND=off)", self.call_sid)
            return Heard("", False)
        audio = telephone_to_model(utterance.audio)
        transcript = await transcribe_async(self.engine, audio, language=self.language)
        heard = hear(transcript)
        if heard.dropped:
            logger.warning("voice call %s: transcript dropped (%s)", self.call_sid, heard.dropped)
        return heard

    async def _dialogue(self, text: str, prefix: str = "", *, sure: bool = True) -> None:
        """Pass the caller's words through the gateway and say the answer.

        An unsure transcript goes on, marked: the gateway reads no mood from it.
        """
        self.turns += 1
        metadata: dict[str, Any] = {"language": self.language}
        if not sure:
            metadata[UNSURE_TRANSCRIPT] = True
        replies = await handle_inbound(
            Inbound(
                sender=self.sender,
                channel=voice_service.CHANNEL,
                text=text,
                metadata=metadata,
            ),
            gateway=self.gateway,
        )
        if self._timings is not None:
            self._timings.answered_at = time.monotonic()
        await self._answer(replies, prefix)

    async def _answer(self, replies: list[dict[str, Any]], prefix: str = "") -> None:
        """Say the bot's answer; put the caller through to a person after a handoff."""
        handed_off, language = await self._db(_state)
        if language in ("de", "en"):
            self.language = language
        spoken = speech_text.render(replies, self.language)
        said = " ".join(part for part in (prefix, spoken.text) if part)
        if handed_off:
            await self._transfer(said)
            return
        self.spoken = spoken if spoken.options else None
        self.agent_offered = False
        self.question = spoken.text or self.question
        self.taker.expect_number = speech_text.asks_for_number(replies, self.language)
        if self.taker.expect_number:
            # Spoken digits are what Whisper gets wrong most (see make bench-voice).
            said = f"{said} {speech_text.keypad_prompt(replies, self.language)}"
        await self._say(said or speech_text.text("not_understood", self.language))

    async def _switch(self, language: str) -> None:
        """Switch the call's language (key 9 during the opening) and say the opening again."""
        self.language = language
        await self._db(voice_service.set_language, language=language)
        with contextlib.suppress(Exception):
            # Rasa keeps its own language slot; a conversation without a tracker has none yet.
            await self.gateway.rasa.append_events(
                sender=self.sender,
                events=[{"event": "slot", "name": "language", "value": language}],
            )
        opening = speech_text.text("greeting", language, controller=self.settings.data_controller)
        await self._say(f"{speech_text.text('language_switched', language)} {opening}", record=True)

    async def _silence(self, count: int) -> None:
        """Ask again, then offer a person, then put the caller through to one."""
        if count == 1:
            text = (
                speech_text.text("reprompt", self.language, question=self.question)
                if self.question
                else speech_text.text("reprompt_plain", self.language)
            )
            await self._say(text, record=True)
        elif count == 2:
            self.spoken = None
            self.agent_offered = True
            await self._say(speech_text.text("offer_agent", self.language), record=True)
        else:
            await self._dialogue(HUMAN_REQUEST)

    # Call updates ---------------------------------------------------------------------

    async def _push(self, twiml: str) -> bool:
        """Update the live call's TwiML through Twilio's REST API."""
        if self.ended:
            return False
        if self.turn_open:
            self.expect_turn_stop = True
        try:
            await self.calls.update(self.call_sid, twiml)
        except CallUpdateFailed as exc:
            self.expect_turn_stop = False
            logger.warning(
                "voice call %s: Twilio refused the call update: %s", self.call_sid, exc.message
            )
            return False
        if self._timings is not None and not self._timings.updated_at:
            self._timings.updated_at = time.monotonic()
        return True

    async def _say(self, text: str, *, record: bool = False) -> None:
        """Say a text, then give the caller the turn again."""
        if record:
            await self._db(voice_service.record_line, author="bot", text=text)
        twiml = self.voice.reply(call_sid=self.call_sid, language=self.language, text=text)
        if await self._push(twiml):
            self.playing = True

    async def _barge_in(self) -> None:
        """The caller speaks over the answer: stop saying it and listen."""
        self.playing = False
        logger.info("voice call %s: barge-in, the answer is cut", self.call_sid)
        await self._push(self.voice.reply(call_sid=self.call_sid, language=self.language, text=""))

    async def _transfer(self, said: str) -> None:
        """Say the last answer and a short note, then put the caller through to a person."""
        settings = self.settings
        text = " ".join(p for p in (said, speech_text.text("transfer", self.language)) if p)
        twiml = self.voice.transfer(
            language=self.language,
            text=text,
            agent_number=settings.voice_agent_number,
            queue=settings.voice_queue,
            hold_music_url=settings.voice_hold_music_url,
        )
        self.transferred = True
        self._disarm_silence()
        if not await self._push(twiml):
            return
        target = "dial" if settings.voice_agent_number else f"queue:{settings.voice_queue}"
        await self._db(voice_service.mark_transferred, target=target)
        logger.info(
            "voice call %s from %s put through to a person (%s)",
            self.call_sid,
            mask_phone(self.caller) if self.caller else "unknown",
            target,
        )

    # Silence --------------------------------------------------------------------------

    def _arm_silence(self) -> None:
        """Start waiting for the caller to speak."""
        self._disarm_silence()
        if self.settings.voice_reprompt_seconds > 0 and not self.ended:
            self._silence_task = asyncio.create_task(self._wait_silence())

    def _disarm_silence(self) -> None:
        """Stop waiting: the caller spoke, pressed a key, or the turn ended."""
        if self._silence_task is not None and not self._silence_task.done():
            self._silence_task.cancel()
        self._silence_task = None

    async def _wait_silence(self) -> None:
        """After the re-prompt time without a sound, count one silence."""
        await asyncio.sleep(self.settings.voice_reprompt_seconds)
        if self.ended or self.transferred or self._busy or self.taker.in_speech:
            return
        if not self.turn_open or self.digits:
            return
        self.silences += 1
        self._queue.put_nowait(inputs.Silence(self.silences))
