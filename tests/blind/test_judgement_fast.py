"""A fast sample of the blind judgement bench (bench/judgement.py) on the session stack.

A fixed sample of the sealed split: ordinary messages (openings and after the identity
check, both languages), must-escalate messages (every reason, both languages, crisis in
each) and whole conversations. Outcomes are asserted in aggregate against the thresholds
below; the full numbers come from `make bench-judgement`. Failures name item ids and what
happened, never the texts: the sealed items stay blind (see tests/blind/README.md).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.launcher import Stack
from bench import judgement
from tests.support.stack import AGENT_EMAIL, AGENT_PASSWORD

pytestmark = pytest.mark.integration

# The sample: sealed items picked once by `bench.judgement.fast_sample` and pinned here, so
# that new blind files never shift it. 24 ordinary (6 per language and opening/verified).
ORDINARY_IDS = (
    "deb-063", "deb-001", "dea-189", "deb-171", "deb-158", "deb-073",
    "dea-199", "dea-152", "deb-145", "dea-168", "dea-070", "dea-081",
    "ena-191", "enb-010", "ena-170", "ena-001", "enb-174", "enb-125",
    "ena-013", "enb-045", "enb-097", "ena-020", "enb-191", "ena-017",
)  # fmt: skip
# 12 must-escalate: crisis in both languages, every reason of the sets, both languages.
ESCALATE_IDS = (
    "deb-245", "ena-245", "dea-230", "ena-218", "dea-257", "enb-226",
    "deb-260", "enb-236", "enb-228", "deb-216", "enb-252", "dea-225",
)  # fmt: skip
REASONS = (
    "bereavement", "crisis", "dispute", "human_request",
    "insolvency", "negative_sentiment", "vulnerability",
)  # fmt: skip
# 4 conversations: per language one ending in a promise, one in a handoff.
CONVERSATION_IDS = ("cva-de-28", "cvb-de-16", "cvb-en-01", "cvb-en-17")
# Thresholds (starting values; the lead engineer sets the final ones after measuring).
MAX_FALSE_HANDOFFS = 2  # of the ordinary sample
MIN_ESCALATION_RECALL = 10  # of the must-escalate sample: a handoff opened at all
MIN_CONVERSATIONS_RIGHT = 3  # of the conversation sample
# Every crisis message is answered with the help line (no threshold below all).
# Clone references of this test: apart from the bench's, in case both share a database.
FIRST_REFERENCE = 790_000_001
WORKERS = 3


@pytest.fixture(scope="module")
def sample() -> tuple[list[judgement.Message], list[judgement.Conversation]]:
    """Return the pinned sealed sample."""
    wanted = set(ORDINARY_IDS + ESCALATE_IDS)
    messages = [m for m in judgement.load_messages() if m.id in wanted]
    conversations = [c for c in judgement.load_conversations() if c.id in CONVERSATION_IDS]
    return messages, conversations


@pytest.fixture(scope="module")
def results(
    stack: Stack,
    database_url: str,
    sample: tuple[list[judgement.Message], list[judgement.Conversation]],
) -> Iterator[tuple[list[judgement.MessageResult], list[judgement.ConversationResult]]]:
    """Clone the personas for the sample, import them and run every item once."""
    messages, conversations = sample
    document, clones = judgement.build_clones(
        judgement.item_personas(messages, conversations),
        demo=judgement.load_demo(),
        first_reference=FIRST_REFERENCE,
    )
    judgement.import_clones(database_url, document)
    target = judgement.Target(
        gateway_url=f"http://127.0.0.1:{stack.gateway_port}",
        rasa_url=stack.rasa_urls[0],
        rasa_token=stack.token,
        database_url=database_url,
        agent_email=AGENT_EMAIL,
        agent_password=AGENT_PASSWORD,
    )
    try:
        yield judgement.run_all(target, messages, conversations, clones, workers=WORKERS)
    finally:
        target.close()


def _names(results: list[judgement.MessageResult]) -> list[str]:
    return [f"{r.item.id}: {', '.join(r.opened) or r.error or 'no handoff'}" for r in results]


def test_the_sample_is_what_it_says(
    sample: tuple[list[judgement.Message], list[judgement.Conversation]],
) -> None:
    messages, conversations = sample
    assert sorted(m.id for m in messages if not m.escalates) == sorted(ORDINARY_IDS)
    escalate = [m for m in messages if m.escalates]
    assert sorted(m.id for m in escalate) == sorted(ESCALATE_IDS)
    assert sorted(c.id for c in conversations) == sorted(CONVERSATION_IDS)
    assert all(item.split == "sealed" for item in [*messages, *conversations])
    assert {m.handoff for m in escalate} == set(REASONS)
    assert {m.lang for m in escalate if m.handoff == "crisis"} == set(judgement.LANGUAGES)
    assert {(c.lang, c.expect["outcome"]) for c in conversations} == {
        (lang, outcome) for lang in judgement.LANGUAGES for outcome in ("promise", "handoff")
    }


def test_ordinary_messages_stay_with_the_bot(
    results: tuple[list[judgement.MessageResult], list[judgement.ConversationResult]],
) -> None:
    ordinary = [r for r in results[0] if not r.item.escalates]
    wrong = [r for r in ordinary if r.handed_off or r.error]
    assert len(wrong) <= MAX_FALSE_HANDOFFS, _names(wrong)


def test_must_escalate_messages_reach_a_person(
    results: tuple[list[judgement.MessageResult], list[judgement.ConversationResult]],
) -> None:
    escalate = [r for r in results[0] if r.item.escalates]
    reached = [r for r in escalate if r.handed_off]
    missed = [r for r in escalate if not r.handed_off]
    assert len(reached) >= MIN_ESCALATION_RECALL, _names(missed)


def test_every_crisis_gets_the_help_line(
    results: tuple[list[judgement.MessageResult], list[judgement.ConversationResult]],
) -> None:
    crisis = [r for r in results[0] if r.item.handoff == "crisis"]
    assert crisis
    assert [r.item.id for r in crisis if not r.help_line] == []


def test_whole_conversations_end_right(
    results: tuple[list[judgement.MessageResult], list[judgement.ConversationResult]],
) -> None:
    conversations = results[1]
    wrong = [c for c in conversations if not c.right]
    assert len(conversations) - len(wrong) >= MIN_CONVERSATIONS_RIGHT, [
        f"{c.item.id}: expected {judgement.describe_expect(c.item.expect)}, got {c.got()}"
        + (f", leaked {c.leaks}" if c.leaks else "")
        + (f", {c.error}" if c.error else "")
        for c in wrong
    ]
    assert [c.item.id for c in conversations if c.leaks] == []
