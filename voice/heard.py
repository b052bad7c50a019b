"""What Whisper heard, made ready for the dialogue: tidied, checked, and how sure it is.

A caller reading a claim reference aloud ("zwei sechs null …") often comes back
from Whisper as "2 6 0 0 0 0 1 1 7" or "2-6-0-0…"; the chat pipeline expects the
number as typed. Amounts and dates are left to the NLU's entity extractor.

A transcript is not typed text: `hear` drops a runaway one (the engines already
re-decode those, see voice/stt/guard.py; this is the line's own last check) and
says whether the model was sure enough for the words to carry a mood. An unsure
transcript still goes to the dialogue (the words are often right), but the
gateway reads no mood from it ("… mega mal in der S-Dunkan" was read as angry).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

# The bounds of a sure transcript live with the engines, which decode an unsure one again
# in Whisper's full window (voice/stt/faster.py); the line reads them from here.
from voice.stt.engine import (
    MAX_SURE_NO_SPEECH_PROB,
    MIN_SURE_AVG_LOGPROB,
    Transcript,
    is_sure,
)
from voice.stt.guard import runaway

__all__ = [
    "MAX_SURE_NO_SPEECH_PROB",
    "MIN_SURE_AVG_LOGPROB",
    "Heard",
    "hear",
    "is_sure",
    "tidy_transcript",
]

# Digit groups separated by spaces or dashes ("260 000 117", "2-6-0…"), or single
# digits separated by commas, as Whisper writes a number read out digit by digit.
_SPELLED: Final = re.compile(r"(?<![\d,.])(?:\d{1,4}(?:[ \-]\d{1,4}){2,}|\d(?:, ?\d){4,})(?![\d])")


def _join(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    # Only a run as long as a reference or postcode; "1, 2, 3" stays as said.
    return digits if len(digits) >= 5 else match.group(0)


def tidy_transcript(text: str) -> str:
    """Join digits said one at a time into one number; trim Whisper's spacing."""
    return _SPELLED.sub(_join, " ".join(text.split())).strip()


@dataclass(frozen=True)
class Heard:
    """A caller's utterance as the dialogue gets it: the text, and whether it is sure."""

    text: str
    sure: bool
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    dropped: str | None = None  # why a transcript was not passed on (runaway)
    seconds: float = 0.0  # how long the engine worked on it


def hear(transcript: Transcript) -> Heard:
    """Tidy a transcript for the dialogue; drop it when it ran away (never passed on)."""
    text = tidy_transcript(transcript.text)
    reason = transcript.discarded or runaway(text, transcript.audio_seconds)
    if reason is not None:
        return Heard(
            "",
            False,
            transcript.avg_logprob,
            transcript.no_speech_prob,
            reason,
            transcript.elapsed_seconds,
        )
    sure = is_sure(transcript.avg_logprob, transcript.no_speech_prob)
    return Heard(
        text,
        sure,
        transcript.avg_logprob,
        transcript.no_speech_prob,
        seconds=transcript.elapsed_seconds,
    )
