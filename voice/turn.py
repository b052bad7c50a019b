"""When has the caller finished? A short pause, a turn model and the words decide.

A fixed 700 ms of silence before anything starts made every turn slow. Instead:

1. At a short pause (`voice_pause_ms`, 200 ms of no speech) Whisper starts on the
   utterance so far, in the background, and the turn model (Smart Turn v3,
   `voice/smart_turn.py`) judges whether the caller sounds finished.
2. The model says finished: the turn ends as soon as the transcript is there, unless
   the caller spoke again meanwhile, or the words end in a number being dictated
   ("… zwei sechs null"): cut-offs mid-number are the known failure of short pauses.
3. The model says not finished, or the words end in an open number: the line keeps
   listening, up to `voice_silence_ms` (700 ms) of silence, or `voice_dictation_pause_ms`
   while a number is dictated or was asked for. A turn ended so reuses the transcript
   made at the pause when no speech came after it, so little work is left.

Speech after a pause makes its transcript stale: it is cancelled if Whisper has not
started on it yet. Without the model file the line ends turns after `voice_silence_ms`
alone, as before, and still transcribes at the short pause.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Final

from domain.config import Settings
from voice.audio import telephone_to_model
from voice.heard import Heard
from voice.smart_turn import TurnModel, probability_async
from voice.timings import TurnTimings
from voice.vad import FRAME_MS, Utterance, UtteranceDetector

logger = logging.getLogger(__name__)

Transcribe = Callable[[Utterance], Coroutine[Any, Any, Heard]]

_NUMBER_WORDS: Final = frozenset(
    [
        "null",
        "eins",
        "zwei",
        "drei",
        "vier",
        "fünf",
        "sechs",
        "sieben",
        "acht",
        "neun",
        "zehn",
        "elf",
        "zwölf",
        "zwanzig",
        "dreißig",
        "hundert",
        "tausend",
        "zero",
        "oh",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "twenty",
        "thirty",
        "hundred",
        "thousand",
    ]
)
# Dictated numbers that are whole once said: a claim reference (nine digits) and a date.
_WHOLE_NUMBER: Final = re.compile(r"(?:^|\D)(?:\d{9}|\d{1,2}\.\d{1,2}\.\d{2,4})$")


def open_number(text: str) -> bool:
    """Tell whether words end in a number that may still go on ("… zwei sechs null")."""
    words = re.sub(r"[^\w\s.]", " ", text.lower()).split()
    if not words:
        return False
    last = words[-1].rstrip(".")
    if not last:
        return False
    if last.isdigit():
        joined = re.sub(r"[\s\-,]", "", text.strip().rstrip(".!?"))
        return _WHOLE_NUMBER.search(joined) is None
    return last in _NUMBER_WORDS


@dataclass(frozen=True)
class TurnSettings:
    """How long the line waits, in milliseconds, and when the model counts."""

    pause_ms: int = 200  # a pause this long starts Whisper and asks the model (0: never)
    silence_ms: int = 700  # the longest pause inside a turn (the only rule without a model)
    dictation_ms: int = 1500  # the longest pause while a number is dictated
    threshold: float = 0.5  # the model's probability above which the caller is done


@dataclass
class Turn:
    """A finished turn: the caller's audio, its transcript if already under way, timings."""

    utterance: Utterance
    heard: asyncio.Task[Heard] | None
    timings: TurnTimings


@dataclass
class _Pending:
    """The transcript of the utterance up to one speech frame (its mark)."""

    mark: int
    task: asyncio.Task[Heard]


class TurnTaker:
    """Feed a call's audio; turns come out through `on_turn` as soon as they are over."""

    def __init__(
        self,
        *,
        detector: UtteranceDetector,
        settings: TurnSettings,
        model: TurnModel | None,
        transcribe: Transcribe,
        on_turn: Callable[[Turn], None],
    ) -> None:
        self.detector = detector
        self.settings = settings
        self.model = model
        self.transcribe = transcribe
        self.on_turn = on_turn
        self.expect_number = False  # the last answer asked for a number
        self._open_number = False  # the words so far end in a number
        self._pending: _Pending | None = None
        self._judging: asyncio.Task[None] | None = None
        self._last_speech_at = 0.0
        self._paused_at = 0.0
        self._model_s = 0.0
        # 0: no short pause, so no early transcript and no model (the line as it was).
        self._pause_frames = max(0, settings.pause_ms // FRAME_MS)
        if not self._pause_frames:
            self.model = None

    @classmethod
    def for_call(
        cls,
        settings: Settings,
        model: TurnModel | None,
        *,
        transcribe: Transcribe,
        on_turn: Callable[[Turn], None],
    ) -> TurnTaker:
        """Return a call's turn taker as the settings ask (`QUITT_VOICE_*`)."""
        detector = UtteranceDetector(
            silence_ms=settings.voice_silence_ms,
            min_speech_ms=settings.voice_min_speech_ms,
            aggressiveness=settings.voice_vad_aggressiveness,
        )
        timing = TurnSettings(
            pause_ms=settings.voice_pause_ms,
            silence_ms=settings.voice_silence_ms,
            dictation_ms=settings.voice_dictation_pause_ms,
            threshold=settings.voice_turn_threshold,
        )
        return cls(
            detector=detector, settings=timing, model=model, transcribe=transcribe, on_turn=on_turn
        )

    @property
    def in_speech(self) -> bool:
        """Tell whether the caller is in the middle of an utterance."""
        return self.detector.in_speech

    def _longest_pause(self) -> int:
        """Return the silence (ms) after which the turn ends whatever the model says."""
        if self.model is not None and (self.expect_number or self._open_number):
            return max(self.settings.silence_ms, self.settings.dictation_ms)
        return self.settings.silence_ms

    def feed(self, mulaw: bytes) -> bool:
        """Take audio; return whether speech started in it (for barge-in)."""
        detector = self.detector
        mark = detector.last_speech_frame
        detector.silence_ms = self._longest_pause()
        started, ended = detector.feed(mulaw)
        now = time.monotonic()
        if detector.last_speech_frame != mark:
            self._last_speech_at = now
        if started:
            self._open_number = False
            self._model_s = 0.0
        for utterance in ended:
            ended_by = "dictation" if detector.silence_ms > self.settings.silence_ms else "silence"
            self._emit(utterance, now, ended_by)
        pending = self._pending
        if pending is not None and detector.last_speech_frame != pending.mark:
            self._drop_pending()  # the caller went on after the pause
        paused = detector.trailing_silence_frames >= self._pause_frames
        if self._pause_frames and detector.in_speech and paused:
            self._at_pause(now)
        return started

    def _at_pause(self, now: float) -> None:
        """Start Whisper (and the turn model) on the utterance so far, once per pause."""
        mark = self.detector.last_speech_frame
        if self._pending is not None and self._pending.mark == mark:
            return
        self._drop_pending()
        snapshot = self.detector.snapshot()
        if snapshot is None:
            return
        self._paused_at = now
        task = asyncio.create_task(self.transcribe(snapshot), name="voice-transcribe")
        task.add_done_callback(_retrieved)  # a stale transcript's error is nobody's
        self._pending = _Pending(mark, task)
        if self.model is not None:
            self._judging = asyncio.create_task(
                self._judge(self.model, mark, snapshot), name="voice-turn-model"
            )
            self._judging.add_done_callback(_retrieved)

    async def _judge(self, model: TurnModel, mark: int, snapshot: Utterance) -> None:
        """End the turn at the pause when the model and the words agree it is over."""
        started = time.perf_counter()
        try:
            probability = await probability_async(model, lambda: telephone_to_model(snapshot.audio))
        except Exception:
            logger.exception("voice: the turn model failed; the turn ends on silence")
            return
        self._model_s = time.perf_counter() - started
        pending = self._pending
        if pending is None or pending.mark != mark or self._stale(mark):
            return
        try:
            heard = await asyncio.shield(pending.task)
        except Exception:
            return  # the worker transcribes again; the turn ends on silence
        if self._stale(mark):
            return
        self._open_number = open_number(heard.text)
        if probability < self.settings.threshold or self._open_number:
            return  # keep listening, up to the longest pause
        utterance = self.detector.cut()
        if utterance is not None:
            self._emit(utterance, self._paused_at, "model", judged=True)

    def _stale(self, mark: int) -> bool:
        """Tell whether the caller spoke after the pause, or the utterance is over."""
        return not self.detector.in_speech or self.detector.last_speech_frame != mark

    def _emit(
        self, utterance: Utterance, ended_at: float, ended_by: str, *, judged: bool = False
    ) -> None:
        """Hand a finished turn on, with the transcript made at its pause if it still fits."""
        pending, self._pending = self._pending, None
        heard: asyncio.Task[Heard] | None = None
        if pending is not None and pending.mark == utterance.last_speech_frame:
            heard = pending.task
        elif pending is not None:
            pending.task.cancel()
        if self._judging is not None and not judged:
            self._judging.cancel()
        self._judging = None
        timings = TurnTimings(
            last_speech_at=self._last_speech_at,
            ended_at=ended_at,
            ended_by=ended_by,
            turn_model_s=self._model_s,
        )
        self._open_number = False
        self.on_turn(Turn(utterance, heard, timings))

    def _drop_pending(self) -> None:
        """Forget a transcript the caller has talked past (cancelled if not yet begun)."""
        if self._pending is not None:
            self._pending.task.cancel()
            self._pending = None
        if self._judging is not None:
            self._judging.cancel()
            self._judging = None

    async def settled(self) -> None:
        """Wait until the judgement of the current pause is made (tests and shutdown)."""
        if self._judging is not None:
            await asyncio.wait({self._judging})

    def flush(self) -> Turn | None:
        """End the stream: return what the caller was saying, if anything."""
        utterance = self.detector.flush()
        if utterance is None:
            self._drop_pending()
            return None
        turn: list[Turn] = []
        on_turn, self.on_turn = self.on_turn, turn.append
        try:
            self._emit(utterance, time.monotonic(), "hangup")
        finally:
            self.on_turn = on_turn
        return turn[0]

    async def close(self) -> None:
        """Stop the background work (the call is over)."""
        tasks = [t for t in (self._judging, self._pending and self._pending.task) if t]
        self._drop_pending()
        if tasks:
            await asyncio.wait(tasks)


def _retrieved(task: asyncio.Task[Any]) -> None:
    """Log a background task's failure (a stale transcript's is dropped with it)."""
    if (
        not task.cancelled()
        and task.exception() is not None
        and task.get_name() != "voice-transcribe"
    ):
        logger.error("voice: %s failed", task.get_name(), exc_info=task.exception())
