"""A broken promise (CONTRACT §4): welcomed back with a new plan; a second break goes to a person.

Promises are recorded and paid through the real services, and the payments sweep
breaks them, on the per-test copy of the seeded database; then the debtor passes the
identity check again (action_verification_done).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from actions import store
from actions.claims import ActionExplainClaim
from actions.context import today
from actions.dialogue import ActionAffirm, ActionOffer
from actions.verification import ActionVerificationDone
from domain.audit.models import AuditEvent
from domain.db import session_scope
from domain.handoffs import service as handoff_service
from domain.handoffs.models import Handoff
from domain.payments import service as payment_service
from domain.payments.statement import Statement, StatementLine
from domain.payments.sweep import sweep
from domain.promises import service as promise_service
from domain.promises.models import Promise
from policy.config import DEFAULT_POLICY, default_book
from tests.actions.conftest import Result, make_tracker, rows, run, verified_slots

pytestmark = pytest.mark.usefixtures("database")

D = Decimal
JANA, EMILY, SABINE, SABINE_TOO = "260000117", "260000141", "260000158", "260000166"


def promise(
    references: list[str], kind: str, amounts: list[str], *, days_ago: int, sender: str = "earlier"
) -> int:
    """Record a promise whose (first) payment was due `days_ago` days ago, monthly after."""
    first = today() - timedelta(days=days_ago)
    schedule = [(n, D(a), first + timedelta(days=30 * (n - 1))) for n, a in enumerate(amounts, 1)]
    with session_scope() as db_session:
        made = promise_service.create(
            db_session=db_session,
            claim_references=references,
            kind=kind,
            amount=sum((a for _, a, _ in schedule), D("0.00")),
            due_date=first,
            instalments=schedule if kind == "instalment_plan" else (),
            channel="rest",
            conversation_id=sender,
            policy_version=DEFAULT_POLICY.version,
            idempotency_key=None,
        )
        return made.id


def pay(reference: str, amount: str, *, days_ago: int, transaction_id: str) -> None:
    """Import one bank credit naming the claim (matching, allocation and the sweep run)."""
    line = StatementLine(
        transaction_id=transaction_id,
        amount=D(amount),
        currency="EUR",
        booked_on=today() - timedelta(days=days_ago),
        remittance=f"AZ {reference}",
        payer=None,
        where=transaction_id,
    )
    with session_scope() as db_session:
        payment_service.import_statement(
            db_session=db_session,
            statement=Statement(source="csv", credits=[line]),
            today=today(),
            policy_book=default_book(),
        )


def run_sweep() -> None:
    """Run the daily sweep for today: what is short after the grace days breaks."""
    with session_scope() as db_session:
        sweep(db_session=db_session, today=today(), policies=default_book())


def status(promise_id: int) -> str:
    [found] = rows(Promise, id=promise_id)
    return str(found.status)


async def come_back(
    domain: dict[str, Any], reference: str, *, sender: str | None = None, **slots: Any
) -> Result:
    """The debtor writes again and passes the identity check."""
    # A language in the slots was shown by the debtor's own words.
    shown = [{"entity": "language", "value": slots["language"]}] if "language" in slots else []
    tracker = make_tracker(
        text="14.03.1987",
        intent="inform",
        slots=verified_slots(reference, selected=False, **slots),
        sender_id=sender,
        entities=shown,
    )
    return await run(ActionVerificationDone(), tracker, domain)


def break_janas_plan() -> int:
    """Jana's plan of 475.68: 100.00 came of the first 237.84; it broke after the grace days."""
    made = promise([JANA], "instalment_plan", ["237.84", "237.84"], days_ago=20)
    pay(JANA, "100.00", days_ago=19, transaction_id="TX-JANA-1")
    assert status(made) == "broken"
    return made


async def test_after_a_broken_plan_a_new_plan_on_the_balance_in_german(
    domain: dict[str, Any],
) -> None:
    break_janas_plan()
    result = await come_back(domain, JANA)

    assert result.texts[0] == "Danke, Ihre Identität ist bestätigt."
    welcome = result.texts[1]
    assert "Ihre letzte Rate zu Forderung 260000117 ist leider offen geblieben" in welcome
    assert "kein Problem, lassen Sie uns einen Plan finden, der passt" in welcome
    assert "Offen sind noch 375,68 €." in welcome  # 475.68 less the 100.00 paid
    # The new plan: the policy's longest, so the smallest instalments (at least 25.00).
    pending = result.slots["pending_offer"]
    assert pending["kind"] == "instalment_plan"
    assert pending["references"] == [JANA]
    assert D(pending["amount"]) == D("375.68")
    instalments = [D(i["amount"]) for i in pending["instalments"]]
    assert len(instalments) == 15 and sum(instalments) == D("375.68")
    assert min(instalments) >= D("25.00")
    assert "15 Monatsraten" in result.texts[2] and "14 Raten à 25,04 €" in result.texts[2]
    assert "Nennen Sie mir einfach den Betrag" in result.texts[2]
    assert result.texts[3] == "Soll ich das verbindlich so festhalten?"
    assert result.slots["awaiting"] == "confirm_offer"
    assert result.slots["selected_claims"] == [JANA]
    [welcomed] = rows(AuditEvent, kind="broken_promise_welcomed")
    assert welcomed.claim_reference == JANA and welcomed.data == {"claims": [JANA]}
    assert rows(Handoff) == []


async def test_the_new_plan_is_recorded_and_the_next_visit_is_as_usual(
    domain: dict[str, Any],
) -> None:
    break_janas_plan()
    first = await come_back(domain, JANA)
    yes = make_tracker(
        text="ja",
        intent="affirm",
        slots=verified_slots(
            JANA, pending_offer=first.slots["pending_offer"], awaiting="confirm_offer"
        ),
        sender_id=first.tracker.sender_id,
    )
    agreed = await run(ActionAffirm(), yes, domain)
    assert "Zusage festgehalten" in agreed.text
    new = [p for p in rows(Promise) if p.status == "pending"]
    assert [p.amount for p in new] == [D("375.68")]

    # The latest promise is the new one: no welcome back, the claim as usual.
    again = await come_back(domain, JANA)
    assert "offen geblieben" not in again.text
    assert "Gesamtbetrag: 475,68 €" in again.text
    assert len(rows(AuditEvent, kind="broken_promise_welcomed")) == 1


async def test_a_broken_one_off_payment_in_english(domain: dict[str, Any]) -> None:
    made = promise([EMILY], "full", ["295.84"], days_ago=10)
    run_sweep()
    assert status(made) == "broken"
    result = await come_back(domain, EMILY, language="en")
    welcome = result.texts[1]
    assert "The payment we agreed on claim 260000141 hasn't come in" in welcome
    assert "no problem, let's find a plan that works for you" in welcome
    assert "€295.84 is still open." in welcome
    assert "11 monthly instalments" in result.texts[2]
    assert result.texts[3] == "Shall I record this as agreed?"


async def test_a_way_to_pay_asked_for_before_the_check_is_made_on_the_balance(
    domain: dict[str, Any],
) -> None:
    break_janas_plan()
    result = await come_back(domain, JANA, goal={"kind": "full", "amount": None, "date": None})
    welcome = result.texts[1]
    assert "kein Problem, wir finden eine neue Lösung. Offen sind noch 375,68 €." in welcome
    assert "kleinen Raten" not in welcome
    pending = result.slots["pending_offer"]
    assert (pending["kind"], D(pending["amount"])) == ("full", D("375.68"))


async def test_money_short_before_the_check_gets_the_gentle_options_on_the_balance(
    domain: dict[str, Any],
) -> None:
    break_janas_plan()
    result = await come_back(domain, JANA, goal={"kind": "cannot_pay"})
    assert "kleine Raten ab 25,00 € im Monat" in result.text
    assert result.slots["awaiting"] == "gentle_options"


async def test_a_plan_over_two_claims_that_broke_is_planned_anew_for_both(
    domain: dict[str, Any],
) -> None:
    made = promise([SABINE, SABINE_TOO], "instalment_plan", ["823.76", "823.76"], days_ago=30)
    run_sweep()
    assert status(made) == "broken"
    result = await come_back(domain, SABINE)
    assert "Ihre letzte Rate zu den Forderungen 260000158, 260000166" in result.texts[1]
    assert "Offen sind noch 1.647,52 €." in result.texts[1]
    assert result.slots["selected_claims"] == [SABINE, SABINE_TOO]
    assert D(result.slots["pending_offer"]["amount"]) == D("1647.52")


async def test_a_second_broken_promise_on_the_claim_goes_to_a_person(
    domain: dict[str, Any],
) -> None:
    first = promise([JANA], "deferral", ["475.68"], days_ago=60)
    run_sweep()
    second = promise([JANA], "instalment_plan", ["237.84", "237.84"], days_ago=20)
    run_sweep()
    assert (status(first), status(second)) == ("broken", "broken")

    result = await come_back(domain, JANA)
    assert "schon zum zweiten Mal offen geblieben" in result.text
    assert "übergebe ich an eine Mitarbeiterin oder einen Mitarbeiter" in result.text
    assert "pending_offer" not in result.slots or result.slots["pending_offer"] is None
    assert result.slots["handed_off"] is True
    [handoff] = rows(Handoff)
    assert (handoff.reason, handoff.claim_reference) == ("broken_promise", JANA)
    assert rows(AuditEvent, kind="broken_promise_welcomed") == []

    # An agent closes it; the next time, the bot carries on as usual.
    with session_scope() as db_session:
        handoff_service.close(db_session=db_session, handoff_id=handoff.id, outcome="other")
    again = await come_back(domain, JANA)
    assert "zweiten Mal" not in again.text and "offen geblieben" not in again.text
    assert len(rows(Handoff)) == 1


async def test_the_handoff_names_the_claim_that_broke_not_the_one_checked(
    domain: dict[str, Any],
) -> None:
    promise([SABINE_TOO], "full", ["343.25"], days_ago=60)
    run_sweep()
    promise([SABINE_TOO], "full", ["343.25"], days_ago=20)
    run_sweep()
    result = await come_back(domain, SABINE, language="en")
    assert "not been kept for the second time" in result.text
    [handoff] = rows(Handoff)
    assert (handoff.reason, handoff.claim_reference) == ("broken_promise", SABINE_TOO)


async def test_kept_and_pending_promises_change_nothing(domain: dict[str, Any]) -> None:
    promise([JANA], "full", ["475.68"], days_ago=2)  # pending, not yet late
    run_sweep()
    result = await come_back(domain, JANA)
    assert "offen geblieben" not in result.text
    assert "Gesamtbetrag: 475,68 €" in result.text
    assert await store.broken_promises([JANA]) == []


async def test_a_cancelled_promise_after_the_break_does_not_hide_it(
    domain: dict[str, Any],
) -> None:
    break_janas_plan()
    cancelled = promise([JANA], "full", ["375.68"], days_ago=0)
    with session_scope() as db_session:
        promise_service.set_status(db_session=db_session, promise_id=cancelled, status="cancelled")
    [record] = await store.broken_promises([JANA])
    assert (record.count, record.kind, record.handed_off) == (1, "instalment_plan", False)


async def test_offers_after_a_payment_are_on_the_balance(domain: dict[str, Any]) -> None:
    pay(JANA, "75.68", days_ago=1, transaction_id="TX-JANA-2")  # no promise: the balance
    [view] = await store.claims_by_reference(
        [JANA], debtor_id=int(verified_slots(JANA)["debtor_id"])
    )
    assert (view.total, view.balance) == (D("475.68"), D("400.00"))
    tracker = make_tracker(text="pay_full", intent="pay_full", slots=verified_slots(JANA))
    result = await run(ActionOffer(), tracker, domain)
    assert D(result.slots["pending_offer"]["amount"]) == D("400.00")
    assert "400,00 €" in result.text


async def test_after_a_part_payment_the_claim_shows_what_came_in_and_what_is_open(
    domain: dict[str, Any],
) -> None:
    pay("260000117", "100.00", days_ago=2, transaction_id="PART-1")
    tracker = make_tracker(
        text="Wie viel ist noch offen?",
        intent="ask_claim_details",
        slots=verified_slots("260000117"),
    )
    result = await run(ActionExplainClaim(), tracker, domain)
    assert "Gesamtbetrag: 475,68 €" in result.text
    assert "Bereits bei uns eingegangen: 100,00 €. Noch offen: 375,68 €." in result.text
