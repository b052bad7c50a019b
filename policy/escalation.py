"""Keyword safety net for handoffs: crisis, dispute, insolvency, bereavement, illness, human.

The NLU model is the first reader; these patterns catch what it must never miss. Text is
case-folded, umlauts are spelled out (ä -> ae), apostrophes dropped ("don't" -> "dont")
and other punctuation turned into spaces before matching. Negations are not handled on
purpose: a false alarm costs an agent a look, a miss can cost far more. Three narrow
exceptions take a reason back (`_UNLESS`, `_NEGATED`): illness the debtor has recovered
from, a debt counsellor who suggested a payment plan, and insolvency words right after a
negation ("I'm not bankrupt or anything, just short this month": blind round E), which
would otherwise hand an ordinary debtor to a person at once.
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
            r"mir (das leben|was|etwas) (zu )?(nehmen|antun|anzutun)",
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
            r"(tabletten|pillen) (liegen|sind) (schon )?(da|hier|bereit|parat)",
            r"(bald|dann) nicht mehr (da|hier) (bin|sein)",
            r"(wont|will not|won t) be (around|here) (to|much|any|anymore)",
            r"(wont|will not|won t) be (around|here|alive) (\w+ ){0,3}anyway",
            r"bald (nicht mehr da|weg)( \w+){0,12} (ueberlegt|geplant|ausgedacht) wie",
            r"(pills|tablets) (are )?(ready|lined up)",
            r"done with (life|living)",
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
            r"insolvenzverwalt\w*",
            r"individual voluntary arrangement",
            r"(in|on|entered|signed|started|have|got) (an? )?(iva|dro)",
            r"(trust deed|sequestration)",
            r"(trustee|administrator) (in|of) (my|the) (bankruptcy|insolvency)",
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
            r"(mutti|mutter|mama|mami|vater|vati|papa|oma|opa|mann|frau|sohn|tochter|bruder"
            r"|schwester|partner\w*|freund\w*) (ist|is|sind) (\w+ ){0,3}(eingeschlafen"
            r"|entschlafen|von uns gegangen|heimgegangen)",
            r"von uns gegangen",
            r"nicht mehr (unter uns|am leben)",
            r"(mum|mom|mother|dad|father|husband|wife|partner|son|daughter|brother|sister"
            r"|gran|granny|grandma|grandad|grandpa|grandfather|grandmother|he|she) (has |had )?"
            r"passed( away| suddenly| recently| last| on| in)?",
            r"no longer with us",
            r"lost (him|her) (last|this|in|recently)",
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
            r"(im|i am) (so |very )?(ill|sick)(?! of| to death| and tired)",
            r"illness",
            r"hospital\w*",
            r"cancer",
            r"depress(ed|ion)",
            r"dementia",
            r"disab(led|ility)",
            r"learning (difficult|disab)\w*",
            r"lernbehinder\w*",
            r"(kann|koennen) (nicht|kaum|schlecht) (richtig |gut )?lesen",
            r"(cant|cannot|can not) (really )?read (or write|very well|well)",
            r"mental health",
            r"care home",
            r"hospice",
            r"anxiety",
            r"bipolar\w*",
            r"schizophren\w*",
            r"psychos[ei]\w*",
            r"(manic|depressive|psychotic) (episode|phase)",
            r"(bad|severe|acute) (episode|phase)",
            r"(cant|cannot|can not|unable to) make (any )?decisions",
            r"(just )?out of surgery",
            r"after (my|an|the|a) (surgery|operation)",
            r"operiert",
            r"(nach|hatte) (einer|der|ner|meiner|eine|ne) (op|operation)",
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
            r"(ware|lieferung|paket|bestellung|sendung)( \w+){0,4} (nie|nicht|nich) (\w+ ){0,3}"
            r"(erhalten|bekommen|angekommen|geliefert)",
            r"(wieso|warum|weshalb) soll(te)? ich (\w+ ){0,8}(zahlen|bezahlen) (\w+ )?(wo|was|die"
            r"|das|den|wenn|obwohl) ich (\w+ ){0,2}(nie|nicht|nich|gar nicht|gar nich|kein\w*)",
            r"(quit|cancel+ed|canceled|terminated|gekuendigt|abgemeldet)( \w+){0,8}"
            r" (confirm\w*|bestaetigung|bestaetigt|kuendigungsbestaetigung)",
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
            r"erkenne? (ich )?(\w+ ){0,3}nicht an",
            r"nicht anerkann?t",
            r"(amounts?|bill|invoice|charge|sum|total)( is| was| seems|s)"
            r" (wrong|incorrect|not (right|correct))",
            r"(meter reading|zaehlerstand)( \w+){0,4} (wrong|falsch|way (lower|higher)"
            r"|(viel )?(niedriger|hoeher))",
            r"(cancel+ed|gekuendigt|kuendigung)( \w+){0,10} (still|trotzdem|immer noch|weiterhin)"
            r" (charg|bill|abbuch|berechn|kassier|verlang|fordern|mahn)\w*",
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

# Words that take a reason back: a debtor who was ill and is well again, or whose debt
# counsellor suggested a payment plan, is negotiating, not asking to stop collection.
_UNLESS: Mapping[str, str] = MappingProxyType(
    {
        r.VULNERABILITY: (
            r"wieder (ganz )?(fit|gesund|auf den beinen|arbeitsfaehig|am arbeiten|da)"
            r"|(bin|bins|fuehle mich) (jetzt )?(wieder )?(gesund|fit)"
            r"|(better|fine|fit|well|healthy) (again|now)|recovered"
            r"|back (on my feet|at work|to work)"
        ),
    }
)

# Debt advice is a reason to hand over when the adviser handles the debts or said not to
# agree anything; not when the adviser suggested asking for instalments.
_COUNSELLING = (
    r"schuldnerberat\w*|schuldenberat\w*|schuldnerhilfe"
    r"|debt (advice|adviser|advisor|counsel\w*|management|charity)\w*|stepchange|payplan"
)
_COUNSELLING_FOR_A_PLAN = r"raten\w*|teilzahlung\w*|instal?lments?|payment plan|a month|im monat"


# Reasons whose words count only when no negation stands in the three words before them.
# Insolvency alone: it hands off at once without a check, and its words are nouns and
# adjectives that people deny ("nicht insolvent", "no IVA or anything"); a denied death or
# illness is rare, and "I don't know what to do, my father died" must still hand off.
_NEGATED: frozenset[str] = frozenset({r.INSOLVENCY})
_NEGATION = re.compile(
    r"\b(?:not|no|never|nor|isnt|wasnt|arent|werent|nicht|nich|kein\w*|nie|niemals|ohne)\b"
)


def _negated(folded: str, start: int) -> bool:
    """Tell whether one of the three words before `start` is a negation."""
    before = folded[:start].split()[-3:]
    return any(_NEGATION.fullmatch(word) for word in before)


@dataclass(frozen=True)
class _Rule:
    reason: str
    pattern: re.Pattern[str]
    unless: re.Pattern[str] | None = None

    def search(self, folded: str) -> re.Match[str] | None:
        if self.unless is not None and self.unless.search(folded):
            return None
        for match in self.pattern.finditer(folded):
            if self.reason not in _NEGATED or not _negated(folded, match.start()):
                return match
        return None


def _words(fragments: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + fragments + r")\b")


_RULES: tuple[_Rule, ...] = (
    *(
        _Rule(
            reason,
            _words("|".join(fragments)),
            _words(_UNLESS[reason]) if reason in _UNLESS else None,
        )
        for reason, fragments in _PATTERNS
    ),
    _Rule(r.INSOLVENCY, _words(_COUNSELLING), _words(_COUNSELLING_FOR_A_PLAN)),
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
    for rule in _RULES:
        if any(t.reason == rule.reason for t in triggers):
            continue
        match = rule.search(folded)
        if match:
            triggers.append(Trigger(reason=rule.reason, matched=match.group(0)))
    order = [reason for reason, _ in _PATTERNS]
    return tuple(sorted(triggers, key=lambda t: order.index(t.reason)))
