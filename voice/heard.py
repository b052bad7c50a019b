"""What Whisper heard, tidied for the dialogue: digits said one by one become one number.

A caller reading a claim reference aloud ("zwei sechs null …") often comes back
from Whisper as "2 6 0 0 0 0 1 1 7" or "2-6-0-0…"; the chat pipeline expects the
number as typed. Amounts and dates are left to the NLU's entity extractor.
"""

from __future__ import annotations

import re
from typing import Final

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
