"""Explicit abuse: insults and threats that no sentiment score needs to confirm.

Mood alone offers a person only when anger is sustained or explicit (policy.sentiment).
A message that insults or threatens in so many words is explicit at once, whatever a
classifier makes of it ("Halsabschneider, Blutsauger, Verbrecher seid ihr"). Mild words
of annoyance ("Frechheit", "Mist", "unverschämt", "scheiße") are not abuse: the bot
acknowledges them and goes on. Text is folded like policy.escalation (case, umlauts,
punctuation) before matching; masked swearing ("f***") counts.
"""

from __future__ import annotations

import re

from policy.escalation import normalise

_INSULTS = (
    # German
    r"arschl\w*", r"wichser\w*", r"vollidiot\w*", r"idioten", r"penner", r"hurens\w*",
    r"schweine\w*", r"saubande", r"sauladen", r"drecks\w+", r"verbrecher\w*",
    r"halsabschneider\w*", r"blutsauger\w*", r"\w*geier", r"mafia", r"kriminelle\w*",
    r"verpiss\w*", r"fick\w*", r"verreck\w*", r"mistkerl\w*", r"bastard\w*",
    r"gesindel", r"abschaum", r"halts maul", r"schnauze",
    # English
    r"fuck\w*", r"f off", r"f\s*you", r"fk\w*", r"bastards?", r"arse\w*", r"ass ?holes?",
    r"scum\w*", r"parasites?", r"bloodsuck\w*", r"vultures?", r"thieves", r"crooks",
    r"scammers", r"idiots", r"morons?", r"cunts?", r"wankers?", r"piss off", r"screw you",
    r"shove (it|ur|your)", r"rot in hell", r"go to hell",
)
_THREATS = (
    r"(weiss|weis) (ich )?wo (ihr|euer|eure|du|dein)",
    r"komm\w* (ich )?(bei euch )?vorbei und",
    r"dann (knallt|krachts|kracht es|gibts was)",
    r"know where (you|your|ur) (live|office|work)",
    r"see what happens",
    r"burns? down",
    r"hope (you|u|ur|your) (all )?(die|rot|burn)",
    r"ich hoffe ihr (verreckt|sterbt)",
)
_MASKED = re.compile(r"\bf\s?[*#@]{2,}\w*|\b[a-z][*#@]{3,}\b", re.IGNORECASE)
_PATTERN = re.compile(r"\b(?:" + "|".join(_INSULTS + _THREATS) + r")\b")


def is_abusive(text: str) -> bool:
    """Tell whether a message insults or threatens in so many words."""
    return bool(_MASKED.search(text) or _PATTERN.search(normalise(text)))
