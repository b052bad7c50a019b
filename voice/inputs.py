"""What a caller's turn can be, and what the keypad makes of a key.

The call's worker takes these one at a time, in order (`voice/session.py`): speech
(an utterance, with Whisper's work on it if begun at the caller's pause), digits ended
with `#`, a payload picked by a single key, a language switch, or a silence.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Final

from voice.heard import Heard
from voice.speech_text import Spoken
from voice.timings import TurnTimings
from voice.vad import Utterance

MAX_DIGITS: Final = 20
HUMAN_REQUEST: Final = "/human_request"
SWITCH_KEY: Final = "9"
AGENT_KEY: Final = "0"


@dataclass(frozen=True)
class Speech:
    """An utterance of the caller."""

    utterance: Utterance
    final: bool = False  # the caller hung up: store what was said, answer nothing
    timings: TurnTimings | None = None
    heard: asyncio.Task[Heard] | None = None  # Whisper's work begun at the caller's pause


@dataclass(frozen=True)
class Keys:
    """Digits typed and ended with `#`."""

    digits: str


@dataclass(frozen=True)
class Payload:
    """An option of the last answer, or a person, picked with one key."""

    payload: str


@dataclass(frozen=True)
class Switch:
    """The other language, asked for with key 9 during the opening."""

    language: str


@dataclass(frozen=True)
class Silence:
    """The caller said nothing for the re-prompt time (counted)."""

    count: int


Item = Speech | Keys | Payload | Switch | Silence


@dataclass(frozen=True)
class KeyState:
    """What a key means depends on: the digits so far and what the call last offered."""

    digits: str
    opening: bool  # no turn taken yet: key 9 switches the language
    agent_offered: bool  # key 0 asks for a person
    language: str
    spoken: Spoken | None  # the last answer's options


def press(digit: str, state: KeyState) -> tuple[str, Item | None]:
    """Apply one key: return the digits collected now and the turn it makes, if any.

    `#` ends a number, `*` clears it; alone, 9 (opening), 0 (after the offer) and an
    option's number act at once.
    """
    if digit == "*":
        return "", None
    if digit == "#":
        return "", Keys(state.digits) if state.digits else None
    if not digit.isdigit():
        return state.digits, None
    if not state.digits:
        if digit == SWITCH_KEY and state.opening:
            return "", Switch("en" if state.language == "de" else "de")
        if digit == AGENT_KEY and state.agent_offered:
            return "", Payload(HUMAN_REQUEST)
        payload = state.spoken.payload_for(digit) if state.spoken else None
        if payload is not None:
            return "", Payload(payload)
    return (state.digits + digit)[:MAX_DIGITS], None
