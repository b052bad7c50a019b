"""Storage limitation: the retention rule (a table) and the job on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.audit import service as audit_service
from domain.claims.models import Claim
from domain.conversations import service as conversations_service
from domain.conversations.models import Conversation, Message
from domain.disputes.models import Dispute
from domain.handoffs.models import Handoff, HandoffNote
from domain.privacy.models import PrivacyRequest
from domain.privacy.retention import run_retention
from policy.config import DEFAULT_POLICY, PolicyBook
from policy.errors import InvalidPolicy
from policy.retention import transcript_retention
from tests.api.privacy_people import People, seed

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
LONGER = replace(
    DEFAULT_POLICY, name="longer", version="longer@test", transcript_retention_days=180
)


RUNNING = ("retention_running", "claims_settled")
ELAPSED = ("retention_elapsed", "claims_settled")
OPEN = ("claim_not_settled",)
ONE = [DEFAULT_POLICY]


@pytest.mark.parametrize(
    ("statuses", "policies", "settled", "days_on", "due", "reasons", "days"),
    [
        (["paid"], ONE, None, 89, False, RUNNING, 90),
        (["paid"], ONE, None, 90, True, ELAPSED, 90),
        (["paid", "open"], ONE * 2, None, 900, False, OPEN, 90),
        (["paid", "disputed"], ONE * 2, None, 900, False, OPEN, 90),
        # Paid later than the last message: the clock starts at the settlement.
        (["paid"], ONE, T0 + 30 * DAY, 100, False, RUNNING, 90),
        (["paid"], ONE, T0 + 30 * DAY, 120, True, ELAPSED, 90),
        # Two creditors: the longer period wins.
        (["paid", "paid"], [DEFAULT_POLICY, LONGER], None, 100, False, RUNNING, 180),
        ([], [], None, 90, True, ("retention_elapsed", "no_claim"), 90),
    ],
)
def test_the_retention_rule(
    statuses: list[str],
    policies: list[object],
    settled: datetime | None,
    days_on: int,
    due: bool,
    reasons: tuple[str, ...],
    days: int,
) -> None:
    decision = transcript_retention(
        claim_statuses=statuses,
        policies=policies,  # type: ignore[arg-type]
        default=DEFAULT_POLICY,
        last_activity=T0,
        settled_at=settled,
        now=T0 + days_on * DAY,
    )
    assert (decision.due, decision.reasons, decision.retention_days) == (due, reasons, days)


@pytest.mark.parametrize(
    ("held", "pending", "reason"),
    [(True, False, "held_by_agent"), (False, True, "privacy_request_pending")],
)
def test_a_held_or_requested_transcript_is_kept(held: bool, pending: bool, reason: str) -> None:
    decision = transcript_retention(
        claim_statuses=["paid"],
        policies=[DEFAULT_POLICY],
        default=DEFAULT_POLICY,
        last_activity=T0,
        settled_at=None,
        now=T0 + 900 * DAY,
        held_by_agent=held,
        request_pending=pending,
    )
    assert (decision.due, decision.reasons) == (False, (reason,))


def test_the_period_is_a_policy_setting_of_at_least_a_day() -> None:
    assert DEFAULT_POLICY.transcript_retention_days == 90
    with pytest.raises(InvalidPolicy, match="transcript_retention_days"):
        replace(DEFAULT_POLICY, transcript_retention_days=0)


# --- the job ------------------------------------------------------------------------------

BOOK = PolicyBook({}, "test")


@pytest.fixture
def people(db_session: Session) -> People:
    """Seed Erika and Otto, everything last touched at T0."""
    seeded = seed(db_session)
    for conversation in db_session.scalars(select(Conversation)):
        conversation.last_message_at = T0
    for claim in db_session.scalars(select(Claim).where(Claim.reference.like("PRIV-%"))):
        claim.updated_at = T0
    db_session.flush()
    return seeded


def _texts(db_session: Session, conversation_id: str) -> list[str]:
    db_session.expire_all()
    return list(
        db_session.scalars(select(Message.text).where(Message.conversation_id == conversation_id))
    )


def _settle_all(db_session: Session) -> None:
    """Pay Erika's open claim at T0 and answer her access request."""
    db_session.get(Claim, "PRIV-A-2").status = "paid"  # type: ignore[union-attr]
    db_session.flush()
    db_session.get(Claim, "PRIV-A-2").updated_at = T0  # type: ignore[union-attr]
    for request in db_session.scalars(select(PrivacyRequest)):
        request.status = "done"
    db_session.flush()


def test_settled_transcripts_are_anonymised_once_their_time_is_up(
    db_session: Session, people: People
) -> None:
    _settle_all(db_session)
    web = "web-erika-1"

    early = run_retention(db_session=db_session, book=BOOK, now=T0 + 89 * DAY)
    assert [i.conversation_id for i in early.anonymised] == []
    assert all(_texts(db_session, web))

    report = run_retention(db_session=db_session, book=BOOK, now=T0 + 91 * DAY)
    done = {i.conversation_id: i for i in report.anonymised}
    assert set(done) >= {web, "whatsapp:+4917099887766"}
    assert "web-otto-1" not in done  # his claim is open
    assert done[web].messages == 2
    assert _texts(db_session, web) == ["", ""]
    assert (
        db_session.scalar(select(Dispute.reason_text).where(Dispute.conversation_id == web)) == ""
    )
    conversation = db_session.get(Conversation, web)
    assert conversation is not None and conversation.anonymised_at == T0 + 91 * DAY
    assert all(_texts(db_session, "web-otto-1"))
    (entry,) = audit_service.list_events(
        db_session=db_session, conversation_id=web, kind="transcript_anonymised"
    )
    assert entry.reasons == ["retention_elapsed", "claims_settled"]
    assert entry.policy_version == DEFAULT_POLICY.version
    assert entry.data["counts"]["messages"] == 2  # type: ignore[index]
    # A second run finds nothing left to do.
    again = run_retention(db_session=db_session, book=BOOK, now=T0 + 92 * DAY)
    assert web not in {i.conversation_id for i in again.anonymised}


def test_an_open_claim_or_a_pending_request_keeps_the_transcript(
    db_session: Session, people: People
) -> None:
    later = T0 + 400 * DAY
    run_retention(db_session=db_session, book=BOOK, now=later)
    # Erika's second claim is open (and her access request waits): all hers is kept.
    for conversation_id in ("web-erika-1", "whatsapp:+4917099887766", "web-otto-1"):
        assert all(_texts(db_session, conversation_id)), conversation_id
    db_session.get(Claim, "PRIV-A-2").status = "paid"  # type: ignore[union-attr]
    db_session.flush()
    run_retention(db_session=db_session, book=BOOK, now=later)
    assert all(_texts(db_session, "web-erika-1"))  # the access request is still open


def test_a_transcript_an_agent_holds_is_kept(db_session: Session, people: People) -> None:
    _settle_all(db_session)
    handoff = db_session.get(Handoff, people.handoff_id)
    assert handoff is not None
    handoff.state = "assigned"
    db_session.flush()
    run_retention(db_session=db_session, book=BOOK, now=T0 + 400 * DAY)
    assert all(_texts(db_session, "web-erika-1"))


def test_a_conversation_that_never_reached_a_claim_goes_after_the_default_period(
    db_session: Session, people: People
) -> None:
    stranger = "web-nobody-verified"
    conversations_service.get_or_create(db_session=db_session, sender_id=stranger, channel="rest")
    conversations_service.add_message(
        db_session=db_session, sender_id=stranger, direction="in", author="debtor",
        text="Mein Name ist Egon, geboren 01.02.1950",
    )  # fmt: skip
    db_session.get(Conversation, stranger).last_message_at = T0  # type: ignore[union-attr]
    db_session.flush()
    assert run_retention(db_session=db_session, book=BOOK, now=T0 + 80 * DAY).anonymised == ()
    report = run_retention(db_session=db_session, book=BOOK, now=T0 + 90 * DAY)
    (item,) = [i for i in report.anonymised if i.conversation_id == stranger]
    assert item.claims == () and item.decision.reasons == ("retention_elapsed", "no_claim")
    assert _texts(db_session, stranger) == [""]


def test_a_dry_run_changes_nothing(db_session: Session, people: People) -> None:
    _settle_all(db_session)
    report = run_retention(db_session=db_session, book=BOOK, now=T0 + 91 * DAY, dry_run=True)
    assert report.dry_run and report.anonymised
    assert all(_texts(db_session, "web-erika-1"))
    assert audit_service.list_events(db_session=db_session, kind="transcript_anonymised") == []


def test_retention_blanks_agents_notes_and_outcomes_too(
    db_session: Session, people: People
) -> None:
    _settle_all(db_session)
    run_retention(db_session=db_session, book=BOOK, now=T0 + 91 * DAY)
    db_session.expire_all()
    handoff = db_session.get(Handoff, people.handoff_id)
    assert handoff is not None and handoff.conversation_id == "web-erika-1"
    assert handoff.outcome is None and handoff.statement is None
    notes = list(
        db_session.scalars(select(HandoffNote.text).where(HandoffNote.handoff_id == handoff.id))
    )
    assert notes == [""]
    (entry,) = audit_service.list_events(
        db_session=db_session, conversation_id="web-erika-1", kind="transcript_anonymised"
    )
    assert entry.data["counts"]["notes"] == 1  # type: ignore[index]
