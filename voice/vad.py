"""Where an utterance starts and ends in a call's 8 kHz μ-law audio (webrtcvad).

Twilio sends 20 ms frames; each is judged speech or not. A few speech frames in a
row start an utterance (with a little audio from just before, so the first syllable
is not cut); enough trailing silence ends it. Utterances shorter than the minimum
speech length (a cough, a click) are dropped.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Final

import webrtcvad

from voice.audio import mulaw_to_pcm16

FRAME_MS: Final = 20
FRAME_BYTES: Final = 160  # 20 ms of 8 kHz μ-law, one byte a sample
# Speech frames in a row that start an utterance, and the audio kept from before it.
START_FRAMES: Final = 3
PREROLL_FRAMES: Final = 10
# Trailing silence kept at the end of an utterance (Whisper likes a short pause).
TAIL_FRAMES: Final = 10
MAX_UTTERANCE_MS: Final = 30_000


@dataclass(frozen=True)
class Utterance:
    """One stretch of speech: its μ-law audio and how much of it was voiced."""

    audio: bytes
    speech_ms: int
    # Index of the frame that was the last one with speech (for latency measurements).
    last_speech_frame: int


class UtteranceDetector:
    """Feed μ-law audio as it arrives; get the speech start and each finished utterance."""

    def __init__(
        self,
        *,
        silence_ms: int = 700,
        min_speech_ms: int = 200,
        aggressiveness: int = 2,
    ) -> None:
        if not 0 <= aggressiveness <= 3:
            raise ValueError("VAD aggressiveness must be 0, 1, 2 or 3")
        self._vad = webrtcvad.Vad(aggressiveness)
        self._silence_frames = max(1, silence_ms // FRAME_MS)
        self._min_speech_frames = max(1, min_speech_ms // FRAME_MS)
        self._pending = b""
        self._preroll: deque[bytes] = deque(maxlen=PREROLL_FRAMES)
        self._run = 0
        self._frames: list[bytes] = []
        self._voiced = 0
        self._silence = 0
        self._last_speech = -1
        self.frame_index = -1

    @property
    def in_speech(self) -> bool:
        """Tell whether an utterance is under way."""
        return bool(self._frames)

    @property
    def last_speech_frame(self) -> int:
        """Return the index of the latest frame judged speech inside an utterance (-1: none)."""
        return self._last_speech

    @property
    def trailing_silence_frames(self) -> int:
        """Return how many frames of silence follow the utterance's last speech so far."""
        return self._silence if self._frames else 0

    @property
    def silence_ms(self) -> int:
        """Return the trailing silence that ends an utterance."""
        return self._silence_frames * FRAME_MS

    @silence_ms.setter
    def silence_ms(self, value: int) -> None:
        """Change the trailing silence that ends an utterance (from the next frame on)."""
        self._silence_frames = max(1, value // FRAME_MS)

    def snapshot(self) -> Utterance | None:
        """Return the utterance so far, as it would end now; None when too short for speech."""
        if not self._frames or self._voiced < self._min_speech_frames:
            return None
        cut = max(0, self._silence - TAIL_FRAMES)
        frames = self._frames[:-cut] if cut else self._frames
        return Utterance(b"".join(frames), self._voiced * FRAME_MS, self._last_speech)

    def cut(self) -> Utterance | None:
        """End the current utterance now (the turn is over); None when there is none."""
        if not self._frames:
            return None
        return self._finish()

    def feed(self, mulaw: bytes) -> tuple[bool, list[Utterance]]:
        """Take audio; return (speech started in it, utterances that ended in it)."""
        started = False
        ended: list[Utterance] = []
        data = self._pending + mulaw
        whole = len(data) - len(data) % FRAME_BYTES
        self._pending = data[whole:]
        for offset in range(0, whole, FRAME_BYTES):
            frame = data[offset : offset + FRAME_BYTES]
            self.frame_index += 1
            speech = self._vad.is_speech(mulaw_to_pcm16(frame).tobytes(), 8000)
            if not self._frames:
                started |= self._idle(frame, speech)
                continue
            utterance = self._speaking(frame, speech)
            if utterance is not None:
                ended.append(utterance)
        return started, ended

    def _idle(self, frame: bytes, speech: bool) -> bool:
        """Wait for enough speech in a row to start an utterance."""
        self._preroll.append(frame)
        self._run = self._run + 1 if speech else 0
        if self._run < START_FRAMES:
            return False
        self._frames = list(self._preroll)
        self._preroll.clear()
        self._voiced = self._run
        self._silence = 0
        self._last_speech = self.frame_index
        return True

    def _speaking(self, frame: bytes, speech: bool) -> Utterance | None:
        """Collect an utterance until enough silence (or too much length) ends it."""
        self._frames.append(frame)
        if speech:
            self._voiced += 1
            self._silence = 0
            self._last_speech = self.frame_index
        else:
            self._silence += 1
        too_long = len(self._frames) * FRAME_MS >= MAX_UTTERANCE_MS
        if self._silence >= self._silence_frames or too_long:
            return self._finish()
        return None

    def _finish(self) -> Utterance | None:
        """End the current utterance; None when it was too short to be speech."""
        frames, voiced = self._frames, self._voiced
        cut = max(0, self._silence - TAIL_FRAMES)
        if cut:
            frames = frames[:-cut]
        last = self._last_speech
        self._frames, self._voiced, self._silence, self._run = [], 0, 0, 0
        if voiced < self._min_speech_frames:
            return None
        return Utterance(b"".join(frames), voiced * FRAME_MS, last)

    def flush(self) -> Utterance | None:
        """End the stream: return what was being said, if it was long enough."""
        self._pending = b""
        if not self._frames:
            return None
        return self._finish()
