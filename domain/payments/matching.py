"""Which claim a credit pays: the reference in the remittance text, and the amount.

Debtors type the reference as they please: "AZ 260 000 117", "26-0000-117",
"Rechnung 260000171" (two digits swapped), "26000117" (one left out). The text
is cut into letter-and-digit tokens, and runs of up to four neighbouring tokens
are joined ("260 000 117" -> "260000117") and compared with every claim
reference written the same way (letters and digits only, upper case; a
reference with a prefix also under its digits alone, as debtors often leave
the prefix out).

1. A run equal to a reference is an exact match. One referenced claim: matched.
   Several (a debtor paying two claims at once): matched when they share one
   promise (the caller says which reference stands for it), or when exactly one
   of them expects this very amount; otherwise ambiguous.
2. Without an exact match, runs that hold at least five digits are compared by
   optimal string alignment distance (rapidfuzz's OSA: a wrong, missing or extra
   character, or two neighbours swapped, is one edit): up to one edit for
   references of up to 7 characters, two for longer ones. Only the closest
   candidates count (two edits only when nothing is one edit away). Among them,
   the one claim that expects this amount wins; otherwise a lone candidate at one
   edit; otherwise the credit stays unmatched (ambiguous, or no reference at
   all) for an agent. More than 20 equally close candidates are ambiguous at
   once: in a large book of consecutive references, an amount shared by chance
   must not pick a stranger's claim.

Consecutive references (260000117, 260000125 …) sit one or two edits apart, so
a typo alone often fits several claims: the amount decides, and when it cannot,
nobody guesses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from rapidfuzz import process
from rapidfuzz.distance import OSA

MAX_JOINED_TOKENS: Final = 4
MIN_FUZZY_DIGITS: Final = 5
MAX_AMOUNT_CANDIDATES: Final = 20
# Reasons, as the audit log records them.
EXACT: Final = "reference"
EXACT_AND_AMOUNT: Final = "reference_and_amount"
TOGETHER: Final = "references_of_one_promise"
TYPO_AND_AMOUNT: Final = "reference_typo_and_amount"
TYPO: Final = "reference_typo"
AMBIGUOUS: Final = "ambiguous_reference"
NOT_FOUND: Final = "no_reference"

_TOKEN: Final = re.compile(r"[A-Z0-9]+")


def compact(text: str) -> str:
    """Write a reference as matching compares it: letters and digits, upper case."""
    return "".join(_TOKEN.findall(text.upper()))


def _max_edits(key: str) -> int:
    return 1 if len(key) <= 7 else 2


@dataclass(frozen=True)
class Candidate:
    """A claim the text may refer to, and how many edits away its reference is."""

    reference: str
    distance: int


@dataclass(frozen=True)
class Match:
    """The outcome: the claim (or None) and why; `candidates` are the claims considered."""

    reference: str | None
    reason: str
    candidates: tuple[str, ...] = ()


class ReferenceIndex:
    """Every claim reference, written for comparison, to look texts up against."""

    def __init__(self, references: Iterable[str]) -> None:
        self._claims: dict[str, set[str]] = {}
        for reference in references:
            key = compact(reference)
            if not key:
                continue
            self._claims.setdefault(key, set()).add(reference)
            digits = "".join(ch for ch in key if ch.isdigit())
            if digits != key and len(digits) >= 6:
                self._claims.setdefault(digits, set()).add(reference)
        self._keys = list(self._claims)
        self._longest = max((len(key) for key in self._keys), default=0)
        self._shortest = min((len(key) for key in self._keys), default=0)

    def _runs(self, text: str) -> set[str]:
        """Join up to four neighbouring tokens of the text, as long as a reference can be."""
        tokens = _TOKEN.findall(text.upper())
        runs: set[str] = set()
        for start in range(len(tokens)):
            joined = ""
            for token in tokens[start : start + MAX_JOINED_TOKENS]:
                joined += token
                if len(joined) > self._longest + 2:
                    break
                runs.add(joined)
        return runs

    def candidates(self, text: str) -> list[Candidate]:
        """Return the claims the text refers to: exact matches if any, else near ones."""
        runs = self._runs(text)
        exact = {ref for run in runs if run in self._claims for ref in self._claims[run]}
        if exact:
            return [Candidate(reference, 0) for reference in sorted(exact)]
        best: dict[str, int] = {}
        for run in runs:
            if sum(ch.isdigit() for ch in run) < MIN_FUZZY_DIGITS:
                continue
            if not self._shortest - 2 <= len(run) <= self._longest + 2:
                continue
            found = process.extract(
                run, self._keys, scorer=OSA.distance, score_cutoff=2, limit=None
            )
            for key, distance, _ in found:
                if distance > _max_edits(key):
                    continue
                for reference in self._claims[key]:
                    best[reference] = min(int(distance), best.get(reference, 99))
        return [Candidate(reference, best[reference]) for reference in sorted(best)]


def decide(
    candidates: Sequence[Candidate],
    amount: Decimal,
    expects: Callable[[str], Collection[Decimal]],
    together: Callable[[Sequence[str]], str | None] = lambda references: None,
) -> Match:
    """Pick the claim a credit pays, by the rules of the module docstring.

    `expects(reference)` gives the amounts that claim is waiting for (its next
    instalment, a promised amount, its balance); `together(references)` names the
    reference that stands for several claims paid as one promise, or None.
    """
    names = tuple(candidate.reference for candidate in candidates)
    if not candidates:
        return Match(None, NOT_FOUND)
    exact = [c.reference for c in candidates if c.distance == 0]
    if len(exact) == 1:
        return Match(exact[0], EXACT, names)
    if exact:
        if (shared := together(exact)) is not None:
            return Match(shared, TOGETHER, names)
        agreeing = [reference for reference in exact if amount in expects(reference)]
        if len(agreeing) == 1:
            return Match(agreeing[0], EXACT_AND_AMOUNT, names)
        return Match(None, AMBIGUOUS, names)
    nearest = min(c.distance for c in candidates)
    closest = [c.reference for c in candidates if c.distance == nearest]
    if len(closest) > MAX_AMOUNT_CANDIDATES:
        return Match(None, AMBIGUOUS, names[:MAX_AMOUNT_CANDIDATES])
    agreeing = [reference for reference in closest if amount in expects(reference)]
    if len(agreeing) == 1:
        return Match(agreeing[0], TYPO_AND_AMOUNT, names)
    if nearest == 1 and len(closest) == 1:
        return Match(closest[0], TYPO, names)
    return Match(None, AMBIGUOUS, names)
