"""Score the results per split and language, render the table and the failures."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from bench.judgement.constants import LANGUAGES
from bench.judgement.items import intent_right
from bench.judgement.run import ConversationResult, MessageResult, describe_expect

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
