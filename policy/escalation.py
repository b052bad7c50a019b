"""Keyword safety net for handoffs: crisis, dispute, insolvency, bereavement, illness, human.

The NLU model is the first reader; these patterns catch what it must never miss. Text is
case-folded, umlauts are spelled out (ä -> ae), apostrophes dropped ("don't" -> "dont")
and other punctuation turned into spaces before matching. Negations are not handled on
purpose: a false alarm costs an agent a look, a miss can cost far more.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from policy import reasons as r


@dataclass(frozen=True)
class Trigger:
    """A handoff reason (CONTRACT §3 code) and the normalised words that raised it."""

    reason: str
    matched: str


# Order matters: crisis comes first, then the reasons that stop collection outright.
_PATTERNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        r.CRISIS,
        (
            r"suizi\w*",
            r"suicid\w*",
            r"selbstmor[dt]\w*",
            r"freitod",
            r"lebensmuede",
            r"(will|moechte|mag|kann) nicht mehr (leben|weiterleben)",
            r"nicht mehr (leben|weiterleben) (will|moechte|mag)",
            r"keine lust mehr (zu|auf) leben",
            r"bringe? (ich )?mich (noch )?um",
            r"mich (umbringen|umzubringen|toeten)",
            r"mir (das leben|was|etwas) (nehmen|antun|anzutun)",
            r"nehme? (ich )?mir das leben",
            r"tue? (ich )?mir (was|etwas) an",
            r"(will|moechte) (sterben|tot sein)",
            r"(leben|alles) (hat|macht) keinen sinn mehr",
            r"(dem|meinem) leben ein ende",
            r"(allem|alles) ein ende (setzen|machen)",
            r"schluss machen mit (allem|dem leben|meinem leben)",
            r"nie (mehr|wieder) aufwachen",
            r"verabschiede? mich fuer immer",
            r"fuer immer (gehen|weg sein|einschlafen)",
            r"kill(ing)? my ?self",
            r"never wake up",
            r"(say|saying) goodbye (to everyone )?(forever|for good)",
            r"end(ing)? it all",
            r"end(ing)? my (own )?life",
            r"take my (own )?life",
            r"(want|wanna|going) (to )?die",
            r"(dont|do not) want to (live|be alive|be here)",
            r"no reason to live",
            r"better off dead",
            r"(hurt|harm)(ing)? my ?self",
            r"self harm\w*",
            r"(tabletten|pillen) (liegen|sind) (schon )?(da|bereit|parat)",
            r"(bald|dann) nicht mehr (da|hier) (bin|sein)",
            r"(wont|will not|won t) be (around|here) (to|much|any|anymore)",
            r"(pills|tablets) (are )?(ready|lined up)",
        ),
    ),
    (
        r.INSOLVENCY,
        (
            r"\w*insolvenz\w*",
            r"insolvent",
            r"restschuldbefreiung",
            r"wohlverhaltensphase",
            r"bankrupt\w*",
            r"debt relief order",
            r"schuldnerberat\w*",
            r"insolvenzverwalt\w*",
            r"debt (advice|adviser|advisor|counsel\w*) (service|charity|agency|is|has|told|said)",
            r"individual voluntary arrangement",
        ),
    ),
    (
        r.BEREAVEMENT,
        (
            r"verstorben\w*",
            r"verstarb",
            r"gestorben",
            r"(ist|sind) tot",
            r"todesfall\w*",
            r"trauerfall",
            r"sterbefall",
            r"beerdigung",
            r"bestattung",
            r"tod (meines|meiner|meinem|von)",
            r"witwer?",
            r"hinterbliebene\w*",
            r"passed away",
            r"died",
            r"deceased",
            r"bereave\w*",
            r"funeral",
            r"death in (the|my) family",
            r"my late (husband|wife|partner|father|mother|mum|mom|dad|son|daughter)s?",
            r"widow(ed|er)?",
            r"(lost|losing) (my|our) (baby|son|daughter|husband|wife|partner|mother|mum|mom"
            r"|father|dad|child)",
            r"(mein|meine|meinen|unser|unsere|unseren) (baby|kind|sohn|tochter|mann|frau|vater"
            r"|mutter|partner\w*) (verloren|ist gestorben)",
        ),
    ),
    (
        r.VULNERABILITY,
        (
            r"schwer ?krank\w*",
            r"krank",
            r"erkrankt",
            r"erkrankung\w*",
            r"krankgeschrieben",
            r"krankenhaus\w*",
            r"klinik\w*",
            r"intensivstation",
            r"chemo\w*",
            r"krebs\w*",
            r"tumor\w*",
            r"unheilbar\w*",
            r"hospiz",
            r"depression\w*",
            r"depressiv\w*",
            r"psychisch\w*",
            r"psychiatrie",
            r"burn ?out",
            r"pflegebed(ue|u)rftig\w*",
            r"pflegefall",
            r"pflegegrad",
            r"pflegeheim",
            r"(schwer)?behindert\w*",
            r"behinderung",
            r"demenz",
            r"schlaganfall",
            r"herzinfarkt",
            r"(had|have had) a (stroke|heart attack)",
            r"dement",
            r"(alkohol|sucht|spiel)krank\w*",
            r"gesetzliche[nr]? betreu\w*",
            r"(seriously|terminally|critically|chronically|mentally|very) (ill|sick)",
            r"(im|i am) (so |very )?(ill|sick)(?! of)",
            r"illness",
            r"hospital\w*",
            r"cancer",
            r"depress(ed|ion)",
            r"dementia",
            r"disab(led|ility)",
            r"mental health",
            r"care home",
            r"hospice",
            r"anxiety",
        ),
    ),
    (
        r.DISPUTE,
        (
            r"(nie|niemals|nichts|nicht) bestell?t",
            r"nicht (meine|meiner) (rechnung|schulden|forderung)",
            r"(schon|bereits|laengst|langst|doch) (bezah?lt|gezah?lt|beglichen|ue?berwiesen)",
            r"wie?derspr(uch|eche|echen)\w*",
            r"bestreite\w*",
            r"(rechnung|forderung|betrag|summe|mahnung) (ist|stimmt) (falsch|nicht)",
            r"(rechnung|forderung) (ist )?unberechtigt",
            r"kenne ich nicht",
            r"(ware|lieferung|paket|bestellung) (nie|nicht) (erhalten|bekommen|angekommen)",
            r"(nie|niemals) (erhalten|bekommen|geliefert)",
            r"betrug",
            r"abzocke",
            r"identitaetsdiebstahl",
            r"nicht von mir",
            r"reklamation",
            r"widerruf\w*",
            r"never ordered",
            r"(didnt|did not|never) (order|buy|sign)\w*",
            r"(already|allready|alredy) paid",
            r"paid (it |this |that )?already",
            r"not my (debt|bill|invoice)",
            r"(isnt|is not) mine",
            r"disput\w*",
            r"wrong amount",
            r"never (received|got)",
            r"(didnt|did not) (receive|get) (the|my|any) (goods|order|item|parcel|delivery)",
            r"fraud\w*",
            r"scam",
            r"identity theft",
            r"(dont|do not) owe",
            r"owe (you )?nothing",
        ),
    ),
    (
        r.HUMAN_REQUEST,
        (
            r"mitarbeiter\w*",
            r"mensch(en)? (sprechen|reden)",
            r"(mit|einen|einem) (echten )?menschen",
            r"echte[nrm]? (person|mensch)\w*",
            r"sachbearbeiter\w*",
            r"ansprechpartner\w*",
            r"kundenservice",
            r"kundendienst",
            r"vorgesetzte\w*",
            r"(kein|keine|keinen|keinem|nicht mit (dem|einem)) (bot|roboter|maschine|computer)",
            r"(mit )?jemandem (sprechen|reden)",
            r"persoenlich (sprechen|reden)",
            r"rueckruf",
            r"human",
            r"real person",
            r"(actual|live) (person|agent)",
            r"agent",
            r"representative",
            r"(speak|talk) (to|with) (someone|somebody|a (person|manager|supervisor)|an operator)",
            r"(not|no) (a )?(bot|robot|machine)",
            r"customer service",
            r"call me back",
        ),
    ),
)

_COMPILED = tuple(
    (reason, re.compile(r"\b(?:" + "|".join(fragments) + r")\b")) for reason, fragments in _PATTERNS
)
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "'": None, "’": None})
_NON_WORD = re.compile(r"[^\w]+")

CRISIS_HELP: Mapping[str, str] = MappingProxyType(
    {
        "de": (
            "Es tut mir leid, dass es Ihnen gerade so schwer geht. Sie sind nicht allein: "
            "Die Telefonseelsorge ist rund um die Uhr für Sie da, kostenlos und anonym, "
            "unter 0800 111 0 111 oder 0800 111 0 222. Wenn Sie in akuter Gefahr sind, "
            "rufen Sie bitte den Notruf 112. Ich bitte jetzt einen Menschen aus unserem Team, "
            "sich bei Ihnen zu melden. Um die Forderung müssen Sie sich gerade nicht kümmern."
        ),
        "en": (
            "I'm sorry you're going through this. You don't have to face it alone: "
            "Samaritans are there day and night, free, on 116 123 (UK), and in the US you "
            "can call or text 988. If you are in immediate danger, please call 999, 911 or "
            "112. I'm asking a person from our team to get in touch with you now. "
            "The payment can wait."
        ),
    }
)


def normalise(text: str) -> str:
    """Fold case, spell out umlauts, drop apostrophes and collapse punctuation to spaces."""
    return _NON_WORD.sub(" ", text.casefold().translate(_FOLD)).strip()


def detect_triggers(text: str) -> tuple[Trigger, ...]:
    """Return one trigger per handoff reason found in the text, crisis first."""
    folded = normalise(text)
    triggers: list[Trigger] = []
    for reason, pattern in _COMPILED:
        match = pattern.search(folded)
        if match:
            triggers.append(Trigger(reason=reason, matched=match.group(0)))
    return tuple(triggers)
