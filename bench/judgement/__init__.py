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

The package, in the order a run goes: ``constants`` (paths, personas, limits, the error),
``items`` (the sets, splits, samples), ``clones`` (the cloned claims), ``target`` (the
stack as the bench sees it), ``run`` (playing messages and conversations, judging how a
conversation ended), ``scores`` (scores, the table, the failures) and ``cli`` (``main``).
Every name is also importable from ``bench.judgement``.
"""

from __future__ import annotations

from bench.judgement.cli import (
    main,
    seed,
)
from bench.judgement.clones import (
    Clone,
    ClonedClaim,
    amount_forms,
    build_clones,
    import_clones,
    load_demo,
    plain,
    shows_amount,
)
from bench.judgement.constants import (
    BENCH_AGENT_EMAIL,
    BENCH_AGENT_PASSWORD,
    BLIND_DIR,
    DEFAULT_WORKERS,
    DEMO_CLAIMS,
    DOMAIN_CORE,
    FIRST_REFERENCE,
    HELP_LINES,
    HTTP_TIMEOUT,
    LANGUAGES,
    LOG_DIR,
    MESSAGE_PERSONAS,
    MODEL,
    NO_HANDOFF,
    OUTCOMES,
    PERSONAS,
    PROOF_PLACEHOLDERS,
    RESULTS_DIR,
    ROOT,
    SPLITS,
    BenchError,
)
from bench.judgement.items import (
    SAME_LABEL,
    Conversation,
    Message,
    T,
    domain_intents,
    fast_sample,
    hash_order,
    intent_right,
    limit_items,
    load_conversations,
    load_messages,
    message_kind,
    split_of,
)
from bench.judgement.run import (
    ConversationResult,
    MessageResult,
    answer_check,
    describe_expect,
    describe_promise,
    item_personas,
    merge_promises,
    outcome_problem,
    proof_turn,
    regular_instalment,
    run_all,
    run_conversation,
    run_message,
)
from bench.judgement.scores import (
    conversation_failure,
    failures_text,
    message_failures,
    score,
    score_language,
    table,
)
from bench.judgement.target import (
    NO,
    YES,
    Target,
    has_help_line,
    sender_for,
)

__all__ = [
    "BENCH_AGENT_EMAIL",
    "BENCH_AGENT_PASSWORD",
    "BLIND_DIR",
    "DEFAULT_WORKERS",
    "DEMO_CLAIMS",
    "DOMAIN_CORE",
    "FIRST_REFERENCE",
    "HELP_LINES",
    "HTTP_TIMEOUT",
    "LANGUAGES",
    "LOG_DIR",
    "MESSAGE_PERSONAS",
    "MODEL",
    "NO",
    "NO_HANDOFF",
    "OUTCOMES",
    "PERSONAS",
    "PROOF_PLACEHOLDERS",
    "RESULTS_DIR",
    "ROOT",
    "SAME_LABEL",
    "SPLITS",
    "YES",
    "BenchError",
    "Clone",
    "ClonedClaim",
    "Conversation",
    "ConversationResult",
    "Message",
    "MessageResult",
    "T",
    "Target",
    "amount_forms",
    "answer_check",
    "build_clones",
    "conversation_failure",
    "describe_expect",
    "describe_promise",
    "domain_intents",
    "failures_text",
    "fast_sample",
    "has_help_line",
    "hash_order",
    "import_clones",
    "intent_right",
    "item_personas",
    "limit_items",
    "load_conversations",
    "load_demo",
    "load_messages",
    "main",
    "merge_promises",
    "message_failures",
    "message_kind",
    "outcome_problem",
    "plain",
    "proof_turn",
    "regular_instalment",
    "run_all",
    "run_conversation",
    "run_message",
    "score",
    "score_language",
    "seed",
    "sender_for",
    "shows_amount",
    "split_of",
    "table",
]
