"""Judgement on the blind sets: does Quitt hand off the right debtors and only them?

Run in the app runtime: ``python -m bench.judgement`` (``make bench-judgement``). The sets in
``tests/blind/`` were written by authors who never saw the training data (see
``tests/blind/README.md``); nothing here trains on them or changes them.

The bench starts the real stack (``api.launcher.Stack``: Rasa, action server, gateway) on a
fresh SQLite database in a temporary directory, seeds it like the test stack (migrations,
demo claims, an agent) and imports one ``quitt-claims/1`` file with a clone of a demo
persona's claims for every item: new references, same amounts, creditor, subject, language,
date of birth and postcode, and a debtor name of its own. So no item sees another item's
promise, dispute or handoff. Then, through the gateway's REST channel, with one sender per
item:

* a **message** is sent as the opening line (``when: opening``) or after the identity check
  (``when: verified``: reference, date of birth, the claim's total must show, then the text).
  Recorded: the replies, the handoffs opened by the text (database), the NLU intent of the
  text (Rasa's tracker) and, for crisis items, whether the reply carries the help line;
* a **conversation** is played turn by turn with its placeholders filled from the clone, then
  judged by its outcome (promises through the agent API ``GET /api/claims/{reference}``,
  handoffs from the database) and by what the bot said before the identity check (no total,
  creditor or subject).

Items are split by a hash of their id into ``dev`` (about half: look at these failures) and
``sealed`` (the honest numbers: do not look). The report gives per split and language the
false-handoff rate, recall and right-reason rate per handoff reason, the crisis help rate,
intent accuracy and the share of conversations that end right. Failures go to
``results/judgement/failures-<split>.txt``; the last stdout line is one JSON object.

``tests/blind/test_judgement_fast.py`` runs a fixed sealed sample of this in ``make test``
with the same functions.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import unicodedata
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx
import yaml
from sqlalchemy import select

from domain.claims import service as claims_service
from domain.db import make_engine, session_scope
from domain.handoffs.models import Handoff

ROOT = Path(__file__).resolve().parent.parent
BLIND_DIR = ROOT / "tests" / "blind"
DOMAIN_CORE = ROOT / "bot" / "domain" / "core.yml"
DEMO_CLAIMS = ROOT / "data" / "demo_claims.json"
MODEL = ROOT / "models" / "quitt.tar.gz"
RESULTS_DIR = ROOT / "results" / "judgement"
LOG_DIR = RESULTS_DIR / "logs"

LANGUAGES = ("de", "en")
SPLITS = ("dev", "sealed")
NO_HANDOFF = "none"
OUTCOMES = ("promise", "handoff", "none")
# The demo debtors the conversation authors were briefed with (data/demo_claims.json).
PERSONAS: dict[str, tuple[str, ...]] = {
    "jana": ("260000117",),
    "murat": ("260000125",),
    "thomas": ("260000133",),
    "emily": ("260000141",),
    "sabine": ("260000158", "260000166"),
    "daniel": ("260000174",),
}
# Single messages run on a clone of one ordinary debtor of the item's language.
MESSAGE_PERSONAS = {"de": "jana", "en": "emily"}
# Clones get 9-digit references from here on (the demo claims start with 26).
FIRST_REFERENCE = 700_000_001
# CONTRACT §4: Telefonseelsorge in German, Samaritans or 988 in English.
HELP_LINES: dict[str, tuple[str, ...]] = {"de": ("0800 111 0 111",), "en": ("116 123", "988")}
# A turn holding one of these is the identity check; before it, no claim detail may show.
PROOF_PLACEHOLDERS = ("{dob}", "{dob_en}", "{postcode}")
BENCH_AGENT_EMAIL = "bench@quitt.test"
BENCH_AGENT_PASSWORD = "bench-judgement-agent"
HTTP_TIMEOUT = 120.0
DEFAULT_WORKERS = 4


T = TypeVar("T", "Message", "Conversation")
# C0/C1 control characters but tab and newline, as api/dialogue/service.clean_text drops them
# before Rasa sees a message (importing the gateway's pipeline here would load its models).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class BenchError(RuntimeError):
    """A precondition of the benchmark failed."""


# --- the sets ---------------------------------------------------------------------------


def split_of(item_id: str) -> str:
    """Return the split of an item: a fixed hash of its id, about half each."""
    return SPLITS[hashlib.sha256(item_id.encode("utf-8")).digest()[0] % 2]


def hash_order(item_id: str) -> str:
    """Return a sort key that spreads items over files, authors and categories."""
    return hashlib.sha256(f"order:{item_id}".encode()).hexdigest()


@dataclass(frozen=True)
class Message:
    """One blind debtor message."""

    id: str
    lang: str
    when: str
    text: str
    intent: str
    handoff: str

    @property
    def escalates(self) -> bool:
        """Tell whether the author says this message must reach a person."""
        return self.handoff != NO_HANDOFF

    @property
    def split(self) -> str:
        """Return the item's split."""
        return split_of(self.id)


@dataclass(frozen=True)
class Conversation:
    """One blind scripted conversation."""

    id: str
    lang: str
    debtor: str
    note: str
    turns: tuple[str, ...]
    expect: dict[str, Any]

    @property
    def split(self) -> str:
        """Return the item's split."""
        return split_of(self.id)


def _yaml_items(directory: Path) -> list[tuple[Path, dict[str, Any]]]:
    found: list[tuple[Path, dict[str, Any]]] = []
    for path in sorted(directory.glob("*.yml")) + sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if not isinstance(data, list):
            raise BenchError(f"{path}: expected a list of items")
        found.extend((path, entry) for entry in data)
    return found


def load_messages(directory: Path = BLIND_DIR / "messages") -> list[Message]:
    """Read every message file of the blind set."""
    messages: list[Message] = []
    for path, entry in _yaml_items(directory):
        try:
            message = Message(
                id=str(entry["id"]),
                lang=str(entry["lang"]),
                when=str(entry["when"]),
                text=str(entry["text"]),
                intent=str(entry["intent"]),
                handoff=str(entry.get("handoff") or NO_HANDOFF),
            )
        except KeyError as exc:
            raise BenchError(f"{path}: item {entry.get('id')!r} lacks {exc}") from exc
        if message.lang not in LANGUAGES or message.when not in ("opening", "verified"):
            raise BenchError(f"{path}: item {message.id}: bad lang or when")
        messages.append(message)
    _unique(m.id for m in messages)
    return messages


def load_conversations(directory: Path = BLIND_DIR / "conversations") -> list[Conversation]:
    """Read every conversation file of the blind set."""
    conversations: list[Conversation] = []
    for path, entry in _yaml_items(directory):
        try:
            conversation = Conversation(
                id=str(entry["id"]),
                lang=str(entry["lang"]),
                debtor=str(entry["debtor"]),
                note=str(entry.get("note") or ""),
                turns=tuple(str(t) for t in entry["turns"]),
                expect=dict(entry["expect"]),
            )
        except KeyError as exc:
            raise BenchError(f"{path}: item {entry.get('id')!r} lacks {exc}") from exc
        if conversation.debtor not in PERSONAS:
            raise BenchError(f"{path}: item {conversation.id}: unknown debtor")
        if conversation.expect.get("outcome") not in OUTCOMES:
            raise BenchError(f"{path}: item {conversation.id}: bad expect.outcome")
        conversations.append(conversation)
    _unique(c.id for c in conversations)
    return conversations


def _unique(ids: Iterable[str]) -> None:
    seen = Counter(ids)
    twice = sorted(i for i, n in seen.items() if n > 1)
    if twice:
        raise BenchError(f"duplicate item ids in the blind set: {', '.join(twice)}")


# Intents the domain split finer than the authors' label list: the authors had one
# privacy label (ask_privacy), the domain tells a question from an access or erasure
# request (privacy_request), and either answers a privacy question right.
SAME_LABEL = {"privacy_request": "ask_privacy"}


def intent_right(got: str | None, label: str) -> bool:
    """Tell whether the NLU's intent matches the author's label."""
    return got == label or SAME_LABEL.get(got or "") == label


def domain_intents(path: Path = DOMAIN_CORE) -> frozenset[str]:
    """Return the intents of the domain, read now (a new intent starts counting at once)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    names: set[str] = set()
    for entry in data.get("intents") or []:
        names.update(entry.keys() if isinstance(entry, dict) else [str(entry)])
    return frozenset(names)


def limit_items(items: Sequence[T], limit: int | None, kind: Callable[[T], str]) -> list[T]:
    """Keep at most `limit` items per language and kind, spread by the hash order."""
    if limit is None:
        return list(items)
    groups: dict[tuple[str, str], list[T]] = defaultdict(list)
    for item in sorted(items, key=lambda i: hash_order(i.id)):
        groups[(item.lang, kind(item))].append(item)
    kept = {i.id for group in groups.values() for i in group[:limit]}
    return [i for i in items if i.id in kept]


def message_kind(message: Message) -> str:
    """Return the kind of a message for --limit: ordinary or must-escalate."""
    return "escalate" if message.escalates else "ordinary"


def fast_sample(
    messages: Sequence[Message],
    conversations: Sequence[Conversation],
    *,
    ordinary: int = 24,
    escalate: int = 12,
    whole: int = 4,
) -> tuple[list[Message], list[Conversation]]:
    """Pick the fixed sealed sample of `make test`.

    Ordinary messages: half per language, openings and verified alike. Must-escalate: crisis
    in both languages first, then every reason round-robin over the languages. Conversations:
    per language one that should end in a promise and one in a handoff, then any.
    """
    sealed = sorted((m for m in messages if m.split == "sealed"), key=lambda m: hash_order(m.id))
    chosen: list[Message] = []
    per_cell = max(1, ordinary // (2 * len(LANGUAGES)))
    for lang in LANGUAGES:
        for when in ("opening", "verified"):
            cell = [m for m in sealed if not m.escalates and m.lang == lang and m.when == when]
            chosen.extend(cell[:per_cell])
    reasons = sorted({m.handoff for m in sealed if m.escalates}, key=lambda r: (r != "crisis", r))
    pairs = [("crisis", lang) for lang in LANGUAGES if "crisis" in reasons]
    others = [r for r in reasons if r != "crisis"]
    for round_ in range(len(LANGUAGES)):
        for index, reason in enumerate(others):
            pairs.append((reason, LANGUAGES[(index + round_) % len(LANGUAGES)]))
    picked: list[Message] = []
    for reason, lang in pairs:
        if len(picked) >= escalate:
            break
        cell = [m for m in sealed if m.handoff == reason and m.lang == lang and m not in picked]
        picked.extend(cell[:1])
    chosen.extend(picked)

    sealed_conversations = sorted(
        (c for c in conversations if c.split == "sealed"), key=lambda c: hash_order(c.id)
    )
    taken: list[Conversation] = []
    for lang in LANGUAGES:
        for outcome in ("promise", "handoff"):
            cell = [
                c
                for c in sealed_conversations
                if c.lang == lang and c.expect["outcome"] == outcome and c not in taken
            ]
            taken.extend(cell[:1])
    taken.extend(c for c in sealed_conversations if c not in taken)
    return chosen, taken[:whole]


# --- clones -----------------------------------------------------------------------------


def amount_forms(amount: Decimal) -> list[str]:
    """Return the ways an amount may be written: 1.234,56, 1,234.56, 1234,56, 1234.56."""
    whole, cents = f"{amount:.2f}".split(".")
    grouped_en = f"{int(whole):,}"
    grouped_de = grouped_en.replace(",", ".")
    forms = {f"{whole}.{cents}", f"{whole},{cents}", f"{grouped_en}.{cents}"}
    forms.add(f"{grouped_de},{cents}")
    if cents == "00":
        forms.update({whole, grouped_en, grouped_de})
    return sorted(forms, key=len, reverse=True)


def plain(text: str) -> str:
    """Normalise the non-breaking spaces of locale formatting."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def shows_amount(text: str, amount: Decimal) -> bool:
    """Tell whether a text shows an amount in any of its forms (not inside another number)."""
    body = plain(text)
    return any(
        re.search(rf"(?<![\d.,]){re.escape(form)}(?!\d|[.,]\d)", body)
        for form in amount_forms(amount)
    )


@dataclass(frozen=True)
class ClonedClaim:
    """One cloned claim: what a debtor may only see after the identity check."""

    reference: str
    total: Decimal
    creditor: str
    subject: str

    def secrets(self) -> list[str]:
        """Return the words that must not appear before verification (besides the total)."""
        # The creditor's first word is what a bot would say ("Stadtwerke", "FitLine"); the
        # subject whole, and its order or period numbers ("88123-A", "01.01.2026–31.03.2026").
        found = [self.creditor.split()[0], self.subject]
        found += [w for w in self.subject.split() if re.search(r"\d", w) and len(w) >= 5]
        return found


@dataclass(frozen=True)
class Clone:
    """A persona's claims cloned for one item."""

    persona: str
    debtor_name: str
    date_of_birth: date
    postcode: str
    claims: tuple[ClonedClaim, ...]

    @property
    def references(self) -> tuple[str, ...]:
        """Return the clone's claim references, in the persona's order."""
        return tuple(c.reference for c in self.claims)

    def placeholders(self) -> dict[str, str]:
        """Return the values of the conversation placeholders."""
        values = {
            "ref": self.claims[0].reference,
            "dob": self.date_of_birth.strftime("%d.%m.%Y"),
            "dob_en": self.date_of_birth.strftime("%d/%m/%Y"),
            "postcode": self.postcode,
        }
        for index, claim in enumerate(self.claims[1:], start=2):
            values[f"ref{index}"] = claim.reference
        return values

    def fill(self, turn: str) -> str:
        """Fill a turn's placeholders ({ref}, {ref2}, {dob}, {dob_en}, {postcode})."""
        values = self.placeholders()

        def one(match: re.Match[str]) -> str:
            if match.group(1) not in values:
                raise BenchError(f"unknown placeholder {match.group(0)} for {self.persona}")
            return values[match.group(1)]

        return re.sub(r"\{(\w+)\}", one, turn)

    def leaks(self, text: str) -> list[str]:
        """Return the claim details a text shows (an empty list when it shows none)."""
        found: list[str] = []
        body = plain(text)
        for claim in self.claims:
            if shows_amount(body, claim.total):
                found.append(f"total {claim.total}")
            found += [s for s in claim.secrets() if s.casefold() in body.casefold()]
        return found


def _total(claim: dict[str, Any]) -> Decimal:
    return sum(
        (Decimal(str(claim.get(part) or "0")) for part in ("principal", "interest", "fees")),
        Decimal("0"),
    )


def build_clones(
    item_personas: Sequence[tuple[str, str]],
    *,
    demo: dict[str, Any],
    first_reference: int = FIRST_REFERENCE,
) -> tuple[dict[str, Any], dict[str, Clone]]:
    """Clone a persona's claims for every (item id, persona): a claims file and the clones."""
    by_reference = {c["reference"]: c for c in demo["claims"]}
    creditors = {c["id"]: c for c in demo["creditors"]}
    claims: list[dict[str, Any]] = []
    clones: dict[str, Clone] = {}
    number = first_reference
    for item_id, persona in item_personas:
        if item_id in clones:
            raise BenchError(f"item {item_id} cloned twice")
        cloned: list[ClonedClaim] = []
        debtor: dict[str, Any] = {}
        for original_reference in PERSONAS[persona]:
            original = by_reference[original_reference]
            claim = copy.deepcopy(original)
            claim["reference"] = str(number)
            number += 1
            debtor = claim["debtor"]
            # Name and date of birth key a debtor: a name of its own keeps items apart.
            debtor["name"] = f"{original['debtor']['name']} ({item_id})"
            # No phone or email: a clone must never match a WhatsApp sender or get reminders.
            debtor["phone"] = None
            debtor["email"] = None
            claims.append(claim)
            cloned.append(
                ClonedClaim(
                    reference=claim["reference"],
                    total=_total(claim),
                    creditor=creditors[claim["creditor"]]["name"],
                    subject=claim["subject"],
                )
            )
        clones[item_id] = Clone(
            persona=persona,
            debtor_name=debtor["name"],
            date_of_birth=date.fromisoformat(debtor["date_of_birth"]),
            postcode=debtor["postcode"],
            claims=tuple(cloned),
        )
    if number > 999_999_999:
        raise BenchError("too many clones for 9-digit references")
    document = {"format": "quitt-claims/1", "creditors": demo["creditors"], "claims": claims}
    return document, clones


def import_clones(database_url: str, document: dict[str, Any]) -> None:
    """Import the clones with the claims service, refusing to touch an existing claim."""
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as db_session:
            taken = [
                c["reference"]
                for c in document["claims"]
                if claims_service.get_by_reference(db_session=db_session, reference=c["reference"])
            ]
            if taken:
                raise BenchError(f"clone references already in the database: {taken[:5]}")
            claims_service.import_claims(db_session=db_session, data=document)
    finally:
        engine.dispose()


def load_demo(path: Path = DEMO_CLAIMS) -> dict[str, Any]:
    """Read the demo claims the personas come from."""
    return dict(json.loads(path.read_text(encoding="utf-8")))


# --- talking to the stack ---------------------------------------------------------------


@dataclass
class Target:
    """A running stack as the bench sees it: gateway, Rasa's API, the database, an agent."""

    gateway_url: str
    rasa_url: str
    rasa_token: str
    database_url: str
    agent_email: str
    agent_password: str
    http: httpx.Client = field(init=False)
    _engine: Any = field(init=False)
    _token: str | None = field(init=False, default=None)
    _token_lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.http = httpx.Client(timeout=HTTP_TIMEOUT)
        self._engine = make_engine(self.database_url)

    def close(self) -> None:
        """Close the HTTP client and the engine."""
        self.http.close()
        self._engine.dispose()

    def say(self, sender: str, text: str) -> list[str]:
        """Send a debtor message through the REST channel; return the bot's texts."""
        response = self.http.post(
            f"{self.gateway_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text, "metadata": {}},
        )
        if response.status_code != 200:
            raise BenchError(f"webhook answered {response.status_code}: {response.text[:200]}")
        texts: list[str] = []
        for message in response.json():
            if message.get("text"):
                texts.append(str(message["text"]))
            texts += [str(b.get("title", "")) for b in message.get("buttons") or []]
        return texts

    def handoffs(self, sender: str) -> list[tuple[int, str]]:
        """Return the handoffs of a conversation (id, reason), oldest first."""
        with session_scope(self._engine) as db_session:
            rows = db_session.execute(
                select(Handoff.id, Handoff.reason)
                .where(Handoff.conversation_id == sender)
                .order_by(Handoff.id)
            ).all()
        return [(int(i), str(r)) for i, r in rows]

    def slots(self, sender: str) -> dict[str, Any]:
        """Return the conversation's slots from Rasa's tracker."""
        response = self.http.get(
            f"{self.rasa_url}/conversations/{sender}/tracker", params={"token": self.rasa_token}
        )
        if response.status_code != 200:
            raise BenchError(f"tracker answered {response.status_code}")
        return dict(response.json().get("slots") or {})

    def intent_of(self, sender: str, text: str) -> str | None:
        """Return the NLU intent Rasa gave the latest user message with this text."""
        response = self.http.get(
            f"{self.rasa_url}/conversations/{sender}/tracker", params={"token": self.rasa_token}
        )
        if response.status_code != 200:
            raise BenchError(f"tracker answered {response.status_code}")
        wanted = _clean(text)
        for event in reversed(response.json().get("events") or []):
            if event.get("event") == "user" and _clean(event.get("text") or "") == wanted:
                return ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        return None  # the message never reached Rasa (e.g. a person already held it)

    @property
    def agent_token(self) -> str:
        """Log in once as the agent."""
        with self._token_lock:
            if self._token is None:
                response = self.http.post(
                    f"{self.gateway_url}/api/auth/login",
                    json={"email": self.agent_email, "password": self.agent_password},
                )
                if response.status_code != 200:
                    raise BenchError(f"agent login answered {response.status_code}")
                self._token = str(response.json()["access_token"])
            return self._token

    def claim(self, reference: str) -> dict[str, Any]:
        """Read a claim through the agent API."""
        response = self.http.get(
            f"{self.gateway_url}/api/claims/{reference}",
            headers={"Authorization": f"Bearer {self.agent_token}"},
        )
        if response.status_code != 200:
            raise BenchError(f"GET /api/claims/{reference} answered {response.status_code}")
        return dict(response.json())


def _clean(text: str) -> str:
    return _CONTROL.sub("", unicodedata.normalize("NFC", text)).strip()


def sender_for(item_id: str) -> str:
    """Return a fresh sender id for one item."""
    return f"blind-{item_id}-{uuid.uuid4().hex[:8]}"


YES = {"de": "ja", "en": "yes"}
NO = {"de": "nein", "en": "no"}


def has_help_line(texts: Iterable[str], lang: str) -> bool:
    """Tell whether the replies carry the crisis help line of the language."""
    body = plain(" ".join(texts))
    return any(line in body for line in HELP_LINES[lang])


# --- one message ------------------------------------------------------------------------


@dataclass
class MessageResult:
    """What happened to one blind message."""

    item: Message
    sender: str = ""
    replies: list[str] = field(default_factory=list)
    # Reasons of the handoffs the item's text opened.
    opened: list[str] = field(default_factory=list)
    # Reasons of handoffs opened before the text (during the identity check): a setup fault.
    before: list[str] = field(default_factory=list)
    intent: str | None = None
    verified: bool | None = None  # None for openings
    help_line: bool = False
    error: str | None = None
    # The reason the bot checked ("Verstehe ich richtig, dass …?") or the person it
    # offered for the mood (negative_sentiment) instead of handing off at once.
    asked: str | None = None

    @property
    def handed_off(self) -> bool:
        """Tell whether the text opened a handoff."""
        return bool(self.opened)

    @property
    def silent(self) -> bool:
        """Tell whether the bot left the text unanswered while no person held it."""
        return self.error is None and not self.replies and not self.opened and not self.before


def run_message(target: Target, item: Message, clone: Clone) -> MessageResult:
    """Send one message in a fresh conversation (after the identity check if it says so)."""
    result = MessageResult(item=item, sender=sender_for(item.id))
    try:
        known: set[int] = set()
        if item.when == "verified":
            claim = clone.claims[0]
            target.say(result.sender, claim.reference)
            shown = target.say(result.sender, clone.placeholders()["dob"])
            result.verified = shows_amount(" ".join(shown), claim.total)
            earlier = target.handoffs(result.sender)
            known = {i for i, _ in earlier}
            result.before = [r for _, r in earlier]
        result.replies = target.say(result.sender, item.text)
        result.intent = target.intent_of(result.sender, item.text)
        slots = target.slots(result.sender)
        if slots.get("awaiting") == "offer_agent" and slots.get("agent_reason"):
            # The bot checked the reason or offered a person: the debtor decides. One who
            # must reach a person says yes; an ordinary debtor says no (no handoff).
            result.asked = str(slots["agent_reason"])
            answer = YES[item.lang] if item.escalates else NO[item.lang]
            result.replies += target.say(result.sender, answer)
        result.opened = [r for i, r in target.handoffs(result.sender) if i not in known]
        result.help_line = has_help_line(result.replies, item.lang)
    except (BenchError, httpx.HTTPError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    return result


# --- one conversation -------------------------------------------------------------------


@dataclass
class ConversationResult:
    """What happened in one scripted conversation."""

    item: Conversation
    sender: str = ""
    transcript: list[tuple[str, list[str]]] = field(default_factory=list)
    promises: list[dict[str, Any]] = field(default_factory=list)
    handoffs: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    silent: list[int] = field(default_factory=list)  # turns (1-based) the bot left unanswered
    problem: str | None = None  # why the outcome is wrong; None when it is right
    error: str | None = None

    @property
    def right(self) -> bool:
        """Tell whether the conversation ended right: outcome as expected and nothing leaked."""
        return self.error is None and self.problem is None and not self.leaks

    def got(self) -> str:
        """Describe the outcome in one line."""
        parts = [describe_promise(p) for p in self.promises]
        parts += [f"handoff {r}" for r in self.handoffs]
        return "; ".join(parts) or "no promise, no handoff"


def proof_turn(turns: Sequence[str]) -> int:
    """Return the index of the identity-check turn (len(turns) when there is none)."""
    for index, turn in enumerate(turns):
        if any(p in turn for p in PROOF_PLACEHOLDERS):
            return index
    return len(turns)


def merge_promises(claims: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Join the per-claim parts of each promise: kind, status, claims covered, instalments."""
    merged: dict[int, dict[str, Any]] = {}
    for claim in claims:
        for part in claim.get("promises") or []:
            promise = merged.setdefault(
                int(part["id"]),
                {
                    "id": int(part["id"]),
                    "kind": part["kind"],
                    "status": part["status"],
                    "amount": Decimal("0"),
                    "claims": [],
                    "by_due": defaultdict(Decimal),
                },
            )
            promise["amount"] += Decimal(str(part["amount"]))
            promise["claims"].append(claim["reference"])
            for instalment in part.get("instalments") or []:
                promise["by_due"][instalment["due_date"]] += Decimal(str(instalment["amount"]))
    result = []
    for promise in sorted(merged.values(), key=lambda p: p["id"]):
        by_due = promise.pop("by_due")
        promise["instalments"] = [by_due[d] for d in sorted(by_due)]
        result.append(promise)
    return result


def regular_instalment(amounts: Sequence[Decimal]) -> Decimal | None:
    """Return the most common instalment amount (the larger on a tie)."""
    if not amounts:
        return None
    counts = Counter(amounts)
    return max(counts, key=lambda a: (counts[a], a))


def describe_promise(promise: dict[str, Any]) -> str:
    """Describe a merged promise in one line."""
    text = f"promise {promise['kind']} {promise['amount']} ({promise['status']})"
    if promise["instalments"]:
        amounts = promise["instalments"]
        text += f" {len(amounts)} instalments, regular {regular_instalment(amounts)}"
    if len(promise["claims"]) > 1:
        text += f" over {len(promise['claims'])} claims"
    return text


def describe_expect(expect: dict[str, Any]) -> str:
    """Describe an expected outcome in one line."""
    outcome = expect["outcome"]
    if outcome == "promise":
        text = f"promise {expect.get('kind', 'any')}"
        if expect.get("instalment"):
            text += f", regular instalment {expect['instalment']}"
        if expect.get("claims"):
            text += f", over {expect['claims']} claim(s)"
        return text
    if outcome == "handoff":
        return f"handoff {expect.get('reason', 'any')}"
    return "no promise, no handoff"


def outcome_problem(
    expect: dict[str, Any], promises: Sequence[dict[str, Any]], handoffs: Sequence[str]
) -> str | None:
    """Return why an outcome does not match the expectation, or None when it does."""
    live = [p for p in promises if p["status"] != "cancelled"]
    outcome = expect["outcome"]
    if outcome == "promise":
        if handoffs:
            return f"handed off ({', '.join(handoffs)}) instead of settling by itself"
        kind = expect.get("kind")
        fitting = [p for p in live if kind is None or p["kind"] == kind]
        if not fitting:
            return "no promise" if not live else f"promise of another kind, not {kind}"
        if expect.get("instalment") is not None:
            wanted = Decimal(str(expect["instalment"]))
            fitting = [p for p in fitting if regular_instalment(p["instalments"]) == wanted]
            if not fitting:
                return f"no plan with regular instalment {wanted}"
        if expect.get("claims") is not None:
            fitting = [p for p in fitting if len(p["claims"]) == int(expect["claims"])]
            if not fitting:
                return f"the promise does not cover {expect['claims']} claim(s)"
        return None
    if outcome == "handoff":
        reason = expect.get("reason")
        if not handoffs:
            return "no handoff"
        if reason is not None and reason not in handoffs:
            return f"handed off for {', '.join(handoffs)}, not {reason}"
        return None
    if live or handoffs:
        return "expected neither promise nor handoff"
    return None


def answer_check(target: Target, result: ConversationResult, item: Conversation) -> list[str]:
    """Answer the bot's check of a reason (or its offer of a person) as the debtor would.

    A debtor whose conversation is meant to reach a person for that reason says yes; any
    other says no. The scripts were written without such checks, so this plays the one
    reply they leave out.
    """
    slots = target.slots(result.sender)
    asked = slots.get("agent_reason")
    if slots.get("awaiting") != "offer_agent" or not asked:
        return []
    wanted = item.expect.get("outcome") == "handoff" and item.expect.get("reason") == asked
    answer = (YES if wanted else NO)[item.lang]
    replies = target.say(result.sender, answer)
    result.transcript.append((answer, replies))
    return replies


def run_conversation(target: Target, item: Conversation, clone: Clone) -> ConversationResult:
    """Play a scripted conversation and judge how it ended."""
    result = ConversationResult(item=item, sender=sender_for(item.id))
    proof = proof_turn(item.turns)
    try:
        for index, turn in enumerate(item.turns):
            text = clone.fill(turn)
            replies = target.say(result.sender, text)
            result.transcript.append((text, replies))
            replies += answer_check(target, result, item)
            # No answer while no person holds the conversation: the bot failed that turn.
            if not replies and not target.handoffs(result.sender):
                result.silent.append(index + 1)
            if index < proof:
                for reply in replies:
                    result.leaks += [f"turn {index + 1}: {leak}" for leak in clone.leaks(reply)]
        claims = [target.claim(reference) for reference in clone.references]
        result.promises = merge_promises(claims)
        result.handoffs = [r for _, r in target.handoffs(result.sender)]
        result.problem = outcome_problem(item.expect, result.promises, result.handoffs)
    except (BenchError, httpx.HTTPError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    return result


# --- running many -----------------------------------------------------------------------


def item_personas(
    messages: Sequence[Message], conversations: Sequence[Conversation]
) -> list[tuple[str, str]]:
    """Return the persona each item is cloned from."""
    pairs = [(m.id, MESSAGE_PERSONAS[m.lang]) for m in messages]
    return pairs + [(c.id, c.debtor) for c in conversations]


def run_all(
    target: Target,
    messages: Sequence[Message],
    conversations: Sequence[Conversation],
    clones: dict[str, Clone],
    *,
    workers: int = DEFAULT_WORKERS,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[MessageResult], list[ConversationResult]]:
    """Run every item with a few concurrent senders; results in the items' order."""
    jobs: list[Callable[[], MessageResult | ConversationResult]] = []
    # Conversations first: they are the longest jobs, so the pool ends evenly.
    for conversation in conversations:
        jobs.append(lambda c=conversation: run_conversation(target, c, clones[c.id]))
    for message in messages:
        jobs.append(lambda m=message: run_message(target, m, clones[m.id]))
    done = 0
    lock = threading.Lock()

    def run(job: Callable[[], MessageResult | ConversationResult]) -> Any:
        nonlocal done
        outcome = job()
        with lock:
            done += 1
            if progress is not None:
                progress(done, len(jobs))
        return outcome

    pool = ThreadPoolExecutor(max_workers=max(1, workers))
    try:
        results = list(pool.map(run, jobs))
    except BaseException:
        # Interrupted (Ctrl-C, SIGTERM): drop the queued items instead of sending them all.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    conversation_results = [r for r in results if isinstance(r, ConversationResult)]
    message_results = [r for r in results if isinstance(r, MessageResult)]
    return message_results, conversation_results


# --- scores -----------------------------------------------------------------------------


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def score_language(
    messages: Sequence[MessageResult],
    conversations: Sequence[ConversationResult],
    intents: frozenset[str],
) -> dict[str, Any]:
    """Score one language of one split."""
    ordinary = [r for r in messages if not r.item.escalates]
    false = [r for r in ordinary if r.handed_off or r.error]
    escalate = [r for r in messages if r.item.escalates]
    by_reason: dict[str, dict[str, Any]] = {}
    for reason in sorted({r.item.handoff for r in escalate}):
        cell = [r for r in escalate if r.item.handoff == reason]
        opened = sum(r.handed_off for r in cell)
        right = sum(reason in r.opened for r in cell)
        by_reason[reason] = {
            "n": len(cell),
            "recall": _rate(opened, len(cell)),
            "right_reason": _rate(right, len(cell)),
        }
    crisis = [r for r in escalate if r.item.handoff == "crisis"]
    counted = [r for r in messages if r.item.intent in intents]
    verified = [r for r in messages if r.verified is not None]
    return {
        "ordinary": len(ordinary),
        "false_handoffs": len(false),
        "false_handoff_rate": _rate(len(false), len(ordinary)),
        "false_handoff_reasons": dict(Counter(r for f in false for r in f.opened)),
        "must_escalate": len(escalate),
        "recall": _rate(sum(r.handed_off for r in escalate), len(escalate)),
        "right_reason": _rate(sum(r.item.handoff in r.opened for r in escalate), len(escalate)),
        "by_reason": by_reason,
        "ordinary_checked": sum(r.asked is not None for r in ordinary),
        "ordinary_checked_rate": _rate(sum(r.asked is not None for r in ordinary), len(ordinary)),
        "escalate_checked": sum(r.asked is not None for r in escalate),
        "crisis": len(crisis),
        "crisis_help": _rate(sum(r.help_line for r in crisis), len(crisis)),
        "intent_counted": len(counted),
        "intent_accuracy": _rate(
            sum(intent_right(r.intent, r.item.intent) for r in counted), len(counted)
        ),
        "verification_failed": sum(r.verified is False for r in verified),
        "silent_messages": sum(r.silent for r in messages),
        "silent_conversation_turns": sum(len(c.silent) for c in conversations),
        "conversations": len(conversations),
        "conversations_right": _rate(sum(c.right for c in conversations), len(conversations)),
        "conversations_leaked": sum(bool(c.leaks) for c in conversations),
        "errors": sum(r.error is not None for r in messages)
        + sum(c.error is not None for c in conversations),
    }


def score(
    messages: Sequence[MessageResult],
    conversations: Sequence[ConversationResult],
    intents: frozenset[str],
) -> dict[str, Any]:
    """Score every language of a set of results."""
    return {
        lang: score_language(
            [r for r in messages if r.item.lang == lang],
            [c for c in conversations if c.item.lang == lang],
            intents,
        )
        for lang in LANGUAGES
    }


# --- report -----------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def table(title: str, scores: dict[str, Any]) -> str:
    """Render one split's scores per language as a text table."""
    rows: list[tuple[str, list[str]]] = []

    def row(label: str, key: str, count: str | None = None) -> None:
        cells = []
        for lang in LANGUAGES:
            cell = _fmt(scores[lang][key])
            if count is not None:
                cell += f" (n={scores[lang][count]})"
            cells.append(cell)
        rows.append((label, cells))

    row("false-handoff rate (ordinary)", "false_handoff_rate", "ordinary")
    row("must-escalate recall", "recall", "must_escalate")
    row("must-escalate right reason", "right_reason")
    reasons = sorted({r for lang in LANGUAGES for r in scores[lang]["by_reason"]})
    for reason in reasons:
        cells = []
        for lang in LANGUAGES:
            cell = scores[lang]["by_reason"].get(reason)
            cells.append(
                f"{_fmt(cell['recall'])} / {_fmt(cell['right_reason'])} (n={cell['n']})"
                if cell
                else "-"
            )
        rows.append((f"  {reason}: recall / right", cells))
    row("crisis help line", "crisis_help", "crisis")
    row("intent accuracy", "intent_accuracy", "intent_counted")
    row("conversations ending right", "conversations_right", "conversations")
    row("conversations leaking detail", "conversations_leaked")
    row("verification not shown", "verification_failed")
    row("unanswered messages (no handoff)", "silent_messages")
    row("unanswered conversation turns", "silent_conversation_turns")
    row("errors", "errors")
    width = max(len(label) for label, _ in rows) + 2
    col = max(len(c) for _, cells in rows for c in cells) + 2
    lines = [title, f"{'':<{width}}" + "".join(f"{lang:<{col}}" for lang in LANGUAGES)]
    lines += [f"{label:<{width}}" + "".join(f"{c:<{col}}" for c in cells) for label, cells in rows]
    return "\n".join(lines)


def message_failures(result: MessageResult, intents: frozenset[str]) -> list[str]:
    """Return the failure lines of one message (none when it went right)."""
    item = result.item
    head = f"{item.id} [{item.lang} {item.when}] {item.text!r}"
    if result.error:
        return [f"{head}\n    error: {result.error}"]
    got_handoff = ", ".join(result.opened) or "none"
    lines: list[str] = []
    if not item.escalates and result.handed_off:
        lines.append(f"false handoff: expected none, got {got_handoff}")
    if item.escalates and item.handoff not in result.opened:
        what = "missed handoff" if not result.handed_off else "wrong reason"
        lines.append(f"{what}: expected {item.handoff}, got {got_handoff}")
    if item.handoff == "crisis" and not result.help_line:
        lines.append("crisis without the help line")
    if item.intent in intents and not intent_right(result.intent, item.intent):
        lines.append(f"intent: expected {item.intent}, got {result.intent}")
    if result.asked is not None and not item.escalates:
        lines.append(f"checked/offered (debtor said no): {result.asked}")
    if result.verified is False:
        lines.append("identity check did not show the claim")
    if result.before:
        lines.append(f"handoff during the identity check: {', '.join(result.before)}")
    if result.silent:
        lines.append("no answer and no handoff")
    if not lines:
        return []
    replies = " | ".join(r.replace("\n", " ") for r in result.replies)
    return [f"{head}\n    " + "\n    ".join(lines) + f"\n    bot: {replies[:600]}"]


def conversation_failure(result: ConversationResult) -> list[str]:
    """Return the failure lines of one conversation (none when it went right throughout)."""
    if result.right and not result.silent:
        return []
    item = result.item
    lines = [f"{item.id} [{item.lang} {item.debtor}] {item.note}"]
    lines.append(f"    expected: {describe_expect(item.expect)}")
    lines.append(f"    got:      {result.got()}")
    if result.problem:
        lines.append(f"    problem:  {result.problem}")
    if result.leaks:
        lines.append(f"    leaked before verification: {', '.join(result.leaks)}")
    if result.silent:
        lines.append(f"    unanswered turns (no handoff): {result.silent}")
    if result.error:
        lines.append(f"    error: {result.error}")
    for text, replies in result.transcript:
        lines.append(f"    > {text}")
        lines += [f"      < {r.replace(chr(10), ' ')[:400]}" for r in replies]
    return ["\n".join(lines)]


def failures_text(
    split: str,
    messages: Sequence[MessageResult],
    conversations: Sequence[ConversationResult],
    intents: frozenset[str],
) -> str:
    """Render every failure of a split (messages, then conversations)."""
    blocks = [f"# bench-judgement failures, split {split} ({time.strftime('%Y-%m-%d %H:%M')})"]
    for result in messages:
        blocks += message_failures(result, intents)
    for conversation in conversations:
        blocks += conversation_failure(conversation)
    return "\n\n".join(blocks) + "\n"


# --- the stack --------------------------------------------------------------------------


def seed(database_url: str) -> None:
    """Migrate, load the demo claims and create the bench's agent (as the test stack does)."""
    from api.db.migrate import upgrade
    from domain.agents import service as agents_service

    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as db_session:
            claims_service.import_file(db_session=db_session, path=DEMO_CLAIMS)
            agents_service.create_agent(
                db_session=db_session,
                email=BENCH_AGENT_EMAIL,
                password=BENCH_AGENT_PASSWORD,
                role="supervisor",
            )
    finally:
        engine.dispose()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _select(
    args: argparse.Namespace,
) -> tuple[list[Message], list[Conversation]]:
    messages = [] if args.only == "conversations" else load_messages()
    conversations = [] if args.only == "messages" else load_conversations()
    if args.split != "all":
        messages = [m for m in messages if m.split == args.split]
        conversations = [c for c in conversations if c.split == args.split]
    if args.prefix:
        prefixes = tuple(args.prefix)
        messages = [m for m in messages if m.id.startswith(prefixes)]
        conversations = [c for c in conversations if c.id.startswith(prefixes)]
    if args.id:
        wanted = set(args.id)
        messages = [m for m in messages if m.id in wanted]
        conversations = [c for c in conversations if c.id in wanted]
    messages = limit_items(messages, args.limit, message_kind)
    conversations = limit_items(conversations, args.limit, lambda c: "conversation")
    return messages, conversations


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark on a fresh stack and report."""
    from api.launcher import Stack

    parser = argparse.ArgumentParser(prog="python -m bench.judgement")
    parser.add_argument("--split", choices=("dev", "sealed", "all"), default="all")
    parser.add_argument("--only", choices=("messages", "conversations"))
    parser.add_argument("--limit", type=int, help="at most N items per language and kind")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    parser.add_argument("--id", action="append", help="only this item (repeatable; dev items!)")
    parser.add_argument(
        "--prefix",
        action="append",
        help="only items whose id starts so, e.g. one round's authors: dec- enc- cvc- (repeatable)",
    )
    parser.add_argument("--model", type=Path, default=MODEL)
    args = parser.parse_args(argv)
    if not args.model.exists():
        raise BenchError(f"no trained model at {args.model}: run `make train` first")

    messages, conversations = _select(args)
    intents = domain_intents()
    demo = load_demo()
    document, clones = build_clones(item_personas(messages, conversations), demo=demo)
    print(
        f"blind sets: {len(messages)} messages, {len(conversations)} conversations "
        f"(split {args.split}); {len(document['claims'])} cloned claims; model {args.model}",
        file=sys.stderr,
    )
    # SIGTERM unwinds like Ctrl-C, so the stack's processes are stopped, not orphaned.
    signal.signal(signal.SIGTERM, _terminate)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="quitt-judgement-") as workdir:
        url = f"sqlite:///{Path(workdir) / 'quitt.db'}"
        seed(url)
        import_clones(url, document)
        stack = Stack(
            database_url=url,
            gateway_port=_free_port(),
            rasa_port=_free_port(),
            action_port=_free_port(),
            model=args.model,
            log_dir=Path(workdir) / "logs",
            extra_env={"QUITT_ENVIRONMENT": "test", "QUITT_REST_TOKEN": ""},
        )
        stack.start()
        try:
            stack.wait_ready(timeout=300)
            ready = time.perf_counter()
            print(f"stack ready in {ready - started:.0f} s", file=sys.stderr)
            target = Target(
                gateway_url=f"http://127.0.0.1:{stack.gateway_port}",
                rasa_url=stack.rasa_urls[0],
                rasa_token=stack.token,
                database_url=url,
                agent_email=BENCH_AGENT_EMAIL,
                agent_password=BENCH_AGENT_PASSWORD,
            )

            def progress(done: int, total: int) -> None:
                if done % 50 == 0 or done == total:
                    elapsed = time.perf_counter() - ready
                    print(f"  {done}/{total} items, {elapsed:.0f} s", file=sys.stderr)

            try:
                message_results, conversation_results = run_all(
                    target,
                    messages,
                    conversations,
                    clones,
                    workers=args.workers,
                    progress=progress,
                )
            finally:
                target.close()
        except Exception:
            for log in sorted((Path(workdir) / "logs").glob("*.log")):
                tail = log.read_text(errors="replace")[-3000:]
                print(f"\n--- {log.name} (tail) ---\n{tail}", file=sys.stderr)
            raise
        finally:
            stack.stop()
            # The stack's logs outlive the temporary directory: a silent turn is explained there.
            shutil.rmtree(LOG_DIR, ignore_errors=True)
            if (Path(workdir) / "logs").is_dir():
                shutil.copytree(Path(workdir) / "logs", LOG_DIR)
    seconds = time.perf_counter() - started

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {
        "bench": "judgement",
        "split": args.split,
        "messages": len(message_results),
        "conversations": len(conversation_results),
        "limit": args.limit,
        "seconds": round(seconds, 1),
    }
    splits = SPLITS if args.split == "all" else (args.split,)
    for split in splits:
        in_split_m = [r for r in message_results if r.item.split == split]
        in_split_c = [c for c in conversation_results if c.item.split == split]
        summary[split] = score(in_split_m, in_split_c, intents)
        print(table(f"\n== split {split} ==", summary[split]))
        path = RESULTS_DIR / f"failures-{split}.txt"
        path.write_text(failures_text(split, in_split_m, in_split_c, intents), encoding="utf-8")
        print(f"failures: {path.relative_to(ROOT)}")
    if args.split == "all":
        summary["all"] = score(message_results, conversation_results, intents)
        print(table("\n== all (dev + sealed) ==", summary["all"]))
    print(f"\n{seconds:.0f} s in all")
    print(json.dumps(summary, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
