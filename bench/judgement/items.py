"""The blind sets: messages and conversations, their splits, intents and samples."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from bench.judgement.constants import (
    BLIND_DIR,
    DOMAIN_CORE,
    LANGUAGES,
    NO_HANDOFF,
    OUTCOMES,
    PERSONAS,
    SPLITS,
    BenchError,
)

T = TypeVar("T", "Message", "Conversation")


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
