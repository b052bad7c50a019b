"""Play the blind items on a stack: one message, one conversation, many at once."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from bench.judgement.clones import Clone, shows_amount
from bench.judgement.constants import (
    DEFAULT_WORKERS,
    MESSAGE_PERSONAS,
    PROOF_PLACEHOLDERS,
    BenchError,
)
from bench.judgement.items import Conversation, Message
from bench.judgement.target import NO, YES, Target, has_help_line, sender_for

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
