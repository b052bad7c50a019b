"""Tell German from English in a debtor's message, and admit when a message shows neither.

lingua (restricted to English and German, built once on first use) judges longer texts;
it is unreliable on one or two words, so short replies are judged by a lexicon of the
words debtors actually send ("ja", "moin", "yes", "thanks") and by German orthography
(ä ö ü ß). A message without a single word that carries evidence ("ok", "1", "15.12.",
an emoji) yields ``LanguageGuess(None, 0.0)`` so that a ``language`` slot keeps its value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from nlu.numbers import EN_NUMBER_WORDS, parse_german_word

if TYPE_CHECKING:
    from lingua import LanguageDetector

__all__ = ["LanguageGuess", "detect_language"]


@dataclass(frozen=True)
class LanguageGuess:
    """A detected language ("de", "en" or None) with a confidence in [0, 1]."""

    language: str | None
    confidence: float


_NO_EVIDENCE = LanguageGuess(None, 0.0)


def _lexicon(words: str) -> frozenset[str]:
    """Build a word set from a whitespace-separated block (keeps long lists readable)."""
    return frozenset(words.split())


_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")

# Words that occur alike in both languages (or in none), so they prove nothing.
_NEUTRAL = _lexicon(
    """
    ok okay okey oki okidoki k kk hm hmm hmmm mhm aha ah oh ohh lol haha hehe xd
    euro euros eur ciao tschau super top cool sorry stop start info hotline
    hi hey heyy hii hallo? yo
    am um pm h ct x mr mrs ms nr
    """
)

# Strong cues: the short replies whose language lingua cannot see.
_DE_STRONG = _lexicon(
    """
    ja jo jap jep jawohl joa nein nö noe nee ne hallo moin moinsen servus grüß gruess
    grüezi gude tach nabend abend mahlzeit hallöchen halloechen moinmoin servas
    danke dankeschön vielen dank bitte genau stimmt richtig tschüss tschuess
    guten tag abend morgen gern gerne klar natürlich natuerlich freilich doch
    ich nicht nichts kein keine
    """
)
_EN_STRONG = _lexicon(
    """
    yes yeah yep yup nope nah hello hiya howdy thanks thank cheers sure please bye goodbye
    good evening morning afternoon night
    right correct exactly absolutely definitely fine great i no not nothing problem
    """
)
# Weak cues: function words and the vocabulary of a payment conversation.
_DE_WEAK = _lexicon(
    """
    und oder aber auch noch schon nur mal sehr wie was wer wo wann warum wieso weshalb
    der die das den dem des ein eine einen einem einer ist sind bin bist war waren
    habe hast hat haben hatte kann kannst können könnte koennen muss müssen will
    möchte moechte würde wuerde wir ihr sie mir mich mein meine meinen dir dich du es
    zu zum zur im vom beim mit für fuer von bei auf aus nach über ueber unter vor bis ab
    dann wenn weil dass ob so jetzt heute morgen übermorgen woche wochen monat monats
    monate monaten tag tage tagen jahr ende anfang nächsten naechsten nächste kommenden
    zahlen zahle bezahlen überweisen ueberweisen rate raten geld schulden rechnung
    mahnung forderung betrag höchstens hoechstens leider keinen gibt geht gut okay
    montag dienstag mittwoch donnerstag freitag samstag sonntag dezember januar märz
    inkasso mahnbescheid ratenzahlung stundung vergleich zahlungsplan aktenzeichen brief
    """
)
_EN_WEAK = _lexicon(
    """
    the a an and or but also still just very how what who where when why which
    is are am was were be been have has had can could cannot can't won't don't
    will would should must may might we you they he she it my me your our their
    to of for from with on at by about into than then if because that this these
    now today tomorrow week weeks month months day days year end next pay paying paid
    money debt bill invoice amount installment instalment afford only most maybe
    monday tuesday wednesday thursday friday saturday sunday december january march
    """
)
_GERMAN_LETTERS = re.compile(r"[äöüß]", re.IGNORECASE)

# How much a short text must be dominated by one language's cues to be trusted.
_SHORT_TEXT_WORDS = 3


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    """Build the lingua detector once; English and German only keeps it fast and small."""
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.GERMAN).build()


def _lexical_scores(words: list[str], text: str) -> tuple[float, float]:
    """Score German and English evidence from cue words and German letters."""
    de = en = 0.0
    for word in words:
        de += 2.0 if word in _DE_STRONG else 1.0 if word in _DE_WEAK else 0.0
        en += 2.0 if word in _EN_STRONG else 1.0 if word in _EN_WEAK else 0.0
        # Spelled-out amounts are common short replies ("fünfzig", "fifty").
        if word not in _DE_WEAK and parse_german_word(word) is not None:
            de += 1.0
        if word in EN_NUMBER_WORDS:
            en += 1.0
    # Umlauts and ß are German orthography; one such word is worth a strong cue.
    de += 2.0 * len(_GERMAN_LETTERS.findall(text)) ** 0.5
    return de, en


def _lingua_share(text: str) -> float:
    """Return lingua's probability that the text is German (English is 1 minus it)."""
    from lingua import Language

    for value in _detector().compute_language_confidence_values(text):
        if value.language == Language.GERMAN:
            return float(value.value)
    return 0.0


def detect_language(text: str) -> LanguageGuess:
    """Detect whether a message is German or English; None when it carries no evidence."""
    words = [w.lower() for w in _WORD.findall(text)]
    evidence = [w for w in words if (w not in _NEUTRAL and len(w) > 1) or w == "i"]
    if not evidence:
        return _NO_EVIDENCE
    de, en = _lexical_scores(evidence, text)
    lexical_total = de + en
    if len(evidence) <= _SHORT_TEXT_WORDS:
        if lexical_total > 0 and de != en:
            share = de / lexical_total
            # A clear lexical verdict on a short reply beats lingua, which guesses there.
            strength = min(1.0, max(de, en) / 2.0)
            confidence = 0.5 + 0.45 * abs(share - 0.5) * 2 * strength
            return LanguageGuess("de" if de > en else "en", round(confidence, 3))
        # Unknown short words ("Mahnbescheid", "Inkasso"): lingua, but never confidently.
        german = _lingua_share(" ".join(evidence))
        return LanguageGuess(
            "de" if german >= 0.5 else "en", round(min(0.6, max(german, 1 - german)), 3)
        )
    german = _lingua_share(text)
    if lexical_total > 0:
        # Blend: lingua reads character n-grams, the lexicon reads whole words.
        german = 0.7 * german + 0.3 * (de / lexical_total)
    language = "de" if german >= 0.5 else "en"
    return LanguageGuess(language, round(max(german, 1 - german), 3))
