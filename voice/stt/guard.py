"""Runaway transcripts: more words than the audio can hold, or text that repeats itself.

Whisper sometimes falls into a loop on speech it cannot read: robotic German read
out as digits came back as 112 words ("Meinwechsel, links, links, …") from a
few seconds of audio. Such text must never reach the dialogue (it reads as
anything, and its mood as anger). Every decode's tokens are bounded by what the
audio can hold, so a loop stops early. `guarded` decodes once; a runaway result is
decoded again the careful way (no domain prompt, sampling instead of the greedy
loop), and if that runs away too the
transcript comes back empty, which the voice line answers with "not understood"
(and WhatsApp leaves the note for an agent).

The bounds, from `make bench-voice` (46 debtor utterances said by five natural voices
and espeak-ng, 8 kHz μ-law, 161 transcripts): what Whisper wrote for real speech never
went over 5.7 words per second of utterance audio (the audio Whisper gets, the VAD's
tail included; the fastest was a claim reference read digit by digit, each digit a
word), while the loops it fell into ran at 20 to 27 words a second. The bound is 8
words per second plus 4 words, so a short "Ja, gut." and a fast caller both pass.
Repetition: a run of the same n-gram (n = 1 … 6) said three times or more over 8
words or more ("links, links, links, …"), which no debtor utterance of the bench
has (a reference read digit by digit repeats one word four times, and Whisper
writes it as digits, which are not counted); and Whisper's own test, a text that
compresses more than 2.4 times with zlib, from 20 words on; and a letter or digit
eight times in a row ("2x 00000134555555555", a careful decode of MBROLA's reference).
"""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Callable
from dataclasses import replace
from typing import Final

from voice.stt.engine import Transcript

logger = logging.getLogger(__name__)

MAX_WORDS_PER_SECOND: Final = 8.0
SLACK_WORDS: Final = 4
MIN_REPEATED_WORDS: Final = 8
MIN_REPEATS: Final = 3
MAX_NGRAM: Final = 6
MAX_COMPRESSION_RATIO: Final = 2.4
MIN_WORDS_FOR_COMPRESSION: Final = 20
# The careful decode's token budget: Whisper writes at most about 2.5 tokens a word.
TOKENS_PER_WORD: Final = 2.5

# Hyphens split words: Whisper also loops inside one ("Ex-N-N-N-N-Un-M-E-E-E-E-…").
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")

# One letter or digit eight times in a row: a loop inside a number ("…134555555555");
# a claim reference has four zeros at most, an IBAN fewer.
_SAME_CHARACTER = re.compile(r"([^\W_])\1{7,}")

TOO_LONG: Final = "too_long"
REPEATS: Final = "repeats"


def words(text: str) -> list[str]:
    """Return the words of a transcript, lower case, without punctuation."""
    return [w.lower() for w in _WORD.findall(text)]


def max_words(audio_seconds: float) -> int:
    """Return the most words an utterance of this length can hold."""
    return int(MAX_WORDS_PER_SECOND * max(0.0, audio_seconds)) + SLACK_WORDS


def max_tokens(audio_seconds: float) -> int:
    """Return the token budget of a careful decode of this much audio."""
    return int(max_words(audio_seconds) * TOKENS_PER_WORD) + 4


def longest_repeat(tokens: list[str]) -> tuple[int, int]:
    """Return (repeats, words covered) of the longest run of one n-gram said again and again.

    Digits are left out (a reference "2 6 0 0 0 0 1 1 7" is no loop).
    """
    kept = [t for t in tokens if not t.isdigit()]
    best = (1, 0)
    for n in range(1, MAX_NGRAM + 1):
        start = 0
        while start + 2 * n <= len(kept):
            gram = kept[start : start + n]
            count = 1
            while kept[start + count * n : start + (count + 1) * n] == gram:
                count += 1
            if count > 1 and count * n > best[1]:
                best = (count, count * n)
            start += max(1, (count - 1) * n) if count > 1 else 1
    return best


def says_it_twice(text: str, min_words: int = 3) -> bool:
    """Tell whether a text ends in the same words twice in a row (3 words or more).

    A short encoder window (voice/stt/window.py) sometimes makes Whisper write the
    sentence again ("Hallo, ich rufe … an. Hallo, ich rufe … an."): too few words to
    be a runaway, but the text is no longer what was said.
    """
    tokens = words(text)
    return any(tokens[-2 * n : -n] == tokens[-n:] for n in range(min_words, len(tokens) // 2 + 1))


def compression_ratio(text: str) -> float:
    """Return how many times zlib shrinks the text (Whisper's own test for loops)."""
    data = text.encode()
    return len(data) / len(zlib.compress(data)) if data else 0.0


def runaway(text: str, audio_seconds: float) -> str | None:
    """Tell why a transcript cannot be what was said (TOO_LONG, REPEATS), or None."""
    tokens = words(text)
    if len(tokens) > max_words(audio_seconds):
        return TOO_LONG
    repeats, covered = longest_repeat(tokens)
    if repeats >= MIN_REPEATS and covered >= MIN_REPEATED_WORDS:
        return REPEATS
    if len(tokens) >= MIN_WORDS_FOR_COMPRESSION and compression_ratio(text) > MAX_COMPRESSION_RATIO:
        return REPEATS
    if _SAME_CHARACTER.search(text):
        return REPEATS
    return None


def guarded(decode: Callable[[bool], Transcript]) -> Transcript:
    """Decode (`decode(careful)`); a runaway result is decoded again carefully, then dropped.

    The text is never logged (it is what a debtor said); only the reason and sizes are.
    """
    first = decode(False)
    reason = runaway(first.text, first.audio_seconds)
    if reason is None:
        return first
    logger.warning(
        "runaway transcript (%s: %d words from %.1f s of audio); decoding again carefully",
        reason,
        len(words(first.text)),
        first.audio_seconds,
    )
    second = decode(True)
    elapsed = first.elapsed_seconds + second.elapsed_seconds
    again = runaway(second.text, second.audio_seconds)
    if again is None:
        return replace(second, elapsed_seconds=elapsed, redecoded=reason)
    logger.warning(
        "runaway transcript again (%s: %d words); it is discarded",
        again,
        len(words(second.text)),
    )
    return replace(second, text="", elapsed_seconds=elapsed, redecoded=reason, discarded=again)
