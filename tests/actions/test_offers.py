"""action_offer, action_affirm and action_deny: policy offers, counters, promises."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from actions.context import today
from actions.dialogue import ActionAffirm, ActionCannotPay, ActionDeny, ActionOffer
from actions.formatting import day
from domain.audit.models import AuditEvent
from domain.db import session_scope
from domain.handoffs.models import Handoff
from domain.promises.models import Instalment, InstalmentPart, Promise, PromiseClaim, promise_claims
from tests.actions.conftest import (
    Result,
    amount,
    make_tracker,
    on,
    rows,
    run,
    verified_slots,
)

pytestmark = pytest.mark.usefixtures("database")

# Claim data that must never be said before the debtor proved who they are.
SECRETS = ["412", "475", "9,18", "54,00", "Stadtwerke", "Strom", "Becker", "Jana", "€"]


async def offer(
    domain: dict[str, Any],
    intent: str,
    *,
    reference: str = "260000117",
    text: str = "",
    entities: list[dict[str, Any]] | None = None,
    sender_id: str | None = None,
    **slots: Any,
) -> Result:
    tracker = make_tracker(
        text=text or intent,
        intent=intent,
        entities=entities or [],
        slots=verified_slots(reference, **slots),
        sender_id=sender_id,
    )
    return await run(ActionOffer(), tracker, domain)


def total_of(pending: dict[str, Any]) -> Decimal:
    return sum((Decimal(i["amount"]) for i in pending["instalments"]), Decimal("0"))


# -- before verification ------------------------------------------------------------------


async def test_an_unverified_offer_request_remembers_the_goal_and_reference(
    domain: dict[str, Any],
) -> None:
    tracker = make_tracker(
        text="Ich möchte 50 Euro im Monat zahlen, Aktenzeichen 260000117",
        intent="ask_instalments",
        entities=[amount("50")],
    )
    result = await run(ActionOffer(), tracker, domain)
    assert result.slots["goal"] == {"kind": "instalment_plan", "amount": "50", "date": None}
    assert result.slots["claim_reference"] == "260000117"
    assert result.slots["disclosed"] is True
    # bot/data/rules.yml runs verify_form next; the action must not also force it.
    assert result.followups() == []
    assert len(result.messages) == 1 and "automatisiert" in result.text
    for secret in SECRETS:
        assert secret not in result.text
    assert "verified" not in result.slots and "pending_offer" not in result.slots


@pytest.mark.parametrize(
    ("intent", "kind"),
    [
        ("pay_full", "full"),
        ("ask_settlement", "settlement"),
        ("ask_deferral", "deferral"),
        ("ask_instalments", "instalment_plan"),
    ],
)
async def test_the_goal_remembers_the_kind_and_date(
    domain: dict[str, Any], intent: str, kind: str
) -> None:
    later = today() + timedelta(days=10)
    tracker = make_tracker(
        text="hello", intent=intent, entities=[on(later)], slots={"disclosed": True}
    )
    result = await run(ActionOffer(), tracker, domain)
    assert result.slots["goal"] == {"kind": kind, "amount": None, "date": later.isoformat()}
    assert "claim_reference" not in result.slots
    assert result.messages == []
    assert result.followups() == []


async def test_an_english_unverified_request_leaks_nothing(domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        text="I want to pay 260000141 in full",
        intent="pay_full",
        metadata={"language": "en"},
    )
    result = await run(ActionOffer(), tracker, domain)
    assert "automated" in result.text
    for secret in ("249", "295", "Modehaus", "Carter", "90411", "€"):
        assert secret not in result.text
    assert result.slots["claim_reference"] == "260000141"
    assert result.followups() == []


# -- offers under the default policy ------------------------------------------------------


async def test_a_feasible_plan_is_offered_for_confirmation(domain: dict[str, Any]) -> None:
    result = await offer(domain, "ask_instalments", entities=[amount("50")])
    pending = result.slots["pending_offer"]
    assert pending["kind"] == "instalment_plan"
    assert pending["references"] == ["260000117"]
    assert pending["hard_counter"] is False
    assert len(pending["instalments"]) == 10
    assert total_of(pending) == Decimal("475.68")
    # As German instalment agreements are written: 50.00 a month and a Schlussrate.
    assert [i["amount"] for i in pending["instalments"]] == ["50.00"] * 9 + ["25.68"]
    first = pending["instalments"][0]
    assert today() < date_of(first) <= today() + timedelta(days=14)
    assert result.slots["awaiting"] == "confirm_offer"
    assert result.slots["counter_offers"] == 0.0
    assert result.texts[0].startswith("Ratenzahlung über 475,68 €: 10 Monatsraten")
    assert result.texts[1] == "Soll ich das verbindlich so festhalten?"
    assert [b["payload"] for b in result.buttons] == ["/affirm", "/deny"]
    [audit] = rows(AuditEvent, conversation_id=result.tracker.sender_id, kind="offer_made")
    assert audit.claim_reference == "260000117"
    assert audit.policy_version == "default@2026-11-1"


async def test_a_plan_without_an_amount_uses_the_default_term_and_hints(
    domain: dict[str, Any],
) -> None:
    result = await offer(domain, "ask_instalments")
    pending = result.slots["pending_offer"]
    assert len(pending["instalments"]) == 6
    assert total_of(pending) == Decimal("475.68")
    assert result.texts[0].endswith(
        "Passt die Rate nicht? Nennen Sie mir einfach den Betrag, den Sie monatlich zahlen können."
    )
    named = await offer(domain, "ask_instalments", entities=[amount("50")])
    assert "Passt die Rate nicht?" not in named.text


def date_of(instalment: dict[str, Any]) -> date:
    return date.fromisoformat(instalment["due_date"])


async def test_a_plan_with_a_schlussrate_reads_right_in_german(domain: dict[str, Any]) -> None:
    result = await offer(domain, "ask_instalments", entities=[amount("50")])
    instalments = result.slots["pending_offer"]["instalments"]
    first, last = day(date_of(instalments[0]), "de"), day(date_of(instalments[-1]), "de")
    assert result.texts[0] == (
        f"Ratenzahlung über 475,68 €: 10 Monatsraten, die erste am {first}.\n"
        f"9 Raten à 50,00 € und eine Schlussrate von 25,68 €, monatlich vom {first} bis zum {last}."
    )


async def test_a_plan_with_a_schlussrate_reads_right_in_english(domain: dict[str, Any]) -> None:
    result = await offer(
        domain, "ask_instalments", reference="260000141", entities=[amount("50")], language="en"
    )
    instalments = result.slots["pending_offer"]["instalments"]
    assert [i["amount"] for i in instalments] == ["50.00"] * 5 + ["45.84"]
    first, last = day(date_of(instalments[0]), "en"), day(date_of(instalments[-1]), "en")
    assert result.texts[0] == (
        f"Instalment plan for €295.84: 6 monthly instalments, the first on {first}.\n"
        f"5 instalments of €50.00 and a final instalment of €45.84, monthly from {first} to {last}."
    )


async def test_a_plan_of_equal_instalments_names_them_once(domain: dict[str, Any]) -> None:
    # 475.68 in the default six months is 6 x 79.28: no separate last instalment to name.
    result = await offer(domain, "ask_instalments")
    instalments = result.slots["pending_offer"]["instalments"]
    assert [i["amount"] for i in instalments] == ["79.28"] * 6
    first, last = day(date_of(instalments[0]), "de"), day(date_of(instalments[-1]), "de")
    assert f"6 Raten à 79,28 €, monatlich vom {first} bis zum {last}." in result.texts[0]
    english = await offer(domain, "ask_instalments", reference="260000141", language="en")
    parts = [i["amount"] for i in english.slots["pending_offer"]["instalments"]]
    assert parts == ["49.30"] * 5 + ["49.34"]
    assert (
        "5 instalments of €49.30 and a final instalment of €49.34, monthly from"
        in (english.texts[0])
    )


async def test_a_plan_below_the_floor_gets_a_hard_counter(domain: dict[str, Any]) -> None:
    result = await offer(domain, "ask_instalments", entities=[amount("10")])
    pending = result.slots["pending_offer"]
    assert pending["hard_counter"] is True
    # The floor each month, and the Schlussrate for the rest.
    assert [i["amount"] for i in pending["instalments"]] == ["25.00"] * 19 + ["0.68"]
    assert total_of(pending) == Decimal("475.68")
    assert result.slots["counter_offers"] == 1.0
    assert result.slots["awaiting"] == "confirm_offer"
    assert result.texts[0].startswith(
        "10,00 € im Monat liegt leider unter der kleinsten möglichen Rate von 25,00 €."
    )
    [audit] = rows(AuditEvent, conversation_id=result.tracker.sender_id)
    assert audit.kind == "offer_made"
    assert "instalment_below_minimum" in audit.reasons
    assert audit.data["requested"] == {"kind": "instalment_plan", "amount": "10", "date": None}
    assert rows(Handoff, conversation_id=result.tracker.sender_id) == []
    # Beside the nearest plan, the income and outgoings check is offered (issue 13).
    assert "Einnahmen und Ausgaben" in result.texts[-1]
    assert [b["payload"] for b in result.buttons][-1] == "/ask_affordability"


async def test_the_counter_is_in_english_too(domain: dict[str, Any]) -> None:
    result = await offer(
        domain, "ask_instalments", reference="260000141", entities=[amount("10")], language="en"
    )
    assert result.texts[0].startswith(
        "€10.00 a month is unfortunately below the smallest possible instalment of €25.00."
    )
    assert "Instalment plan for €295.84" in result.texts[0]


async def test_a_second_request_below_the_floor_goes_to_an_agent(
    domain: dict[str, Any],
) -> None:
    # CONTRACT §4: the nearest plan was proposed (with the offer of the check); the debtor
    # still cannot pay it: an agent, who has more room.
    result = await offer(domain, "ask_instalments", entities=[amount("10")], counter_offers=1.0)
    assert result.slots["handed_off"] is True
    assert result.slots["pending_offer"] is None
    assert "weiter" in result.text and "€" not in result.text
    [handoff] = rows(Handoff, conversation_id=result.tracker.sender_id)
    assert handoff.reason == "policy_limit"
    assert handoff.claim_reference == "260000117"


async def test_no_settlement_below_the_minimum_total(domain: dict[str, Any]) -> None:
    result = await offer(domain, "ask_settlement", reference="260000125")
    assert result.texts[0] == (
        "Einen Nachlass gibt es erst bei Forderungen ab 100,00 €. "
        "Gern biete ich Ihnen Raten oder einen Aufschub an."
    )
    assert "pending_offer" not in result.slots or result.slots["pending_offer"] is None
    payloads = [b["payload"] for b in result.buttons]
    assert "/ask_settlement" not in payloads
    assert "/pay_full" in payloads and "/ask_deferral" in payloads


async def test_a_settlement_above_the_minimum_gives_ten_percent(domain: dict[str, Any]) -> None:
    result = await offer(domain, "ask_settlement")
    pending = result.slots["pending_offer"]
    assert pending["kind"] == "settlement"
    assert Decimal(pending["amount"]) + Decimal(pending["discount"]) == Decimal("475.68")
    assert Decimal(pending["discount"]) <= Decimal("47.57")
    assert "statt 475,68 €" in result.texts[0]


async def test_a_deferral_beyond_thirty_days_is_countered(domain: dict[str, Any]) -> None:
    result = await offer(domain, "ask_deferral", entities=[on(today() + timedelta(days=40))])
    limit = today() + timedelta(days=30)
    pending = result.slots["pending_offer"]
    assert pending["kind"] == "deferral"
    assert pending["due_date"] == limit.isoformat()
    assert pending["hard_counter"] is False
    assert result.slots["counter_offers"] == 0.0
    assert result.texts[0].startswith(f"Ein Aufschub ist höchstens bis zum {day(limit, 'de')}")
    assert f"bis zum {day(limit, 'de')} auf" in result.texts[0]


async def test_full_payment_is_due_within_fourteen_days_in_english(domain: dict[str, Any]) -> None:
    result = await offer(domain, "pay_full", reference="260000141", language="en")
    deadline = today() + timedelta(days=14)
    assert result.texts[0] == (
        f"You pay the full amount of €295.84 in one payment by {day(deadline, 'en')} at the latest."
    )
    assert result.slots["pending_offer"]["due_date"] == deadline.isoformat()


async def test_offers_need_chosen_claims(domain: dict[str, Any]) -> None:
    # Verified but nothing chosen yet: the claim is explained first, then the offer made.
    result = await offer(domain, "ask_instalments", entities=[amount("50")], selected_claims=None)
    assert "Gesamtbetrag: 475,68 €" in result.text
    assert result.slots["selected_claims"] == ["260000117"]
    assert len(result.slots["pending_offer"]["instalments"]) == 10


# -- yes and no ---------------------------------------------------------------------------


async def pending_plan(domain: dict[str, Any], monthly: str) -> tuple[str, dict[str, Any]]:
    made = await offer(domain, "ask_instalments", entities=[amount(monthly)])
    return made.tracker.sender_id, made.slots["pending_offer"]


async def answer(
    domain: dict[str, Any], action: Any, sender_id: str, pending: dict[str, Any], **slots: Any
) -> Result:
    tracker = make_tracker(
        text="ja" if isinstance(action, ActionAffirm) else "nein",
        intent="affirm" if isinstance(action, ActionAffirm) else "deny",
        slots=verified_slots("260000117", pending_offer=pending, awaiting="confirm_offer", **slots),
        sender_id=sender_id,
    )
    return await run(action, tracker, domain)


async def test_yes_records_the_promise_with_its_instalments(domain: dict[str, Any]) -> None:
    who, pending = await pending_plan(domain, "50")
    result = await answer(domain, ActionAffirm(), who, pending)
    assert result.slots == {"pending_offer": None, "awaiting": None, "counter_offers": 0.0}
    assert "Zusage festgehalten" in result.text
    assert "Aktenzeichen 260000117" in result.text
    assert "475,68 €" in result.text
    [promise] = rows(Promise, conversation_id=who)
    assert promise.kind == "instalment_plan"
    assert promise.amount == Decimal("475.68")
    assert promise.status == "pending"
    assert promise.policy_version == "default@2026-11-1"
    instalments = sorted(rows(Instalment, promise_id=promise.id), key=lambda i: i.number)
    assert [i.number for i in instalments] == list(range(1, 11))
    assert sum(i.amount for i in instalments) == Decimal("475.68")
    assert [str(i.amount) for i in instalments] == [i["amount"] for i in pending["instalments"]]
    [audit] = rows(AuditEvent, conversation_id=who, kind="promise_recorded")
    assert audit.claim_reference == "260000117"
    assert audit.data["promise_id"] == promise.id


async def test_a_repeated_yes_records_one_promise(domain: dict[str, Any]) -> None:
    who, pending = await pending_plan(domain, "50")
    await answer(domain, ActionAffirm(), who, pending)
    again = await answer(domain, ActionAffirm(), who, pending)
    assert "Zusage festgehalten" in again.text
    assert len(rows(Promise, conversation_id=who)) == 1
    assert len(rows(Instalment)) == 10


async def test_a_promise_is_linked_to_its_claim(domain: dict[str, Any]) -> None:
    who, pending = await pending_plan(domain, "50")
    await answer(domain, ActionAffirm(), who, pending)
    [promise] = rows(Promise, conversation_id=who)
    with session_scope() as db_session:
        linked = db_session.execute(
            promise_claims.select().where(promise_claims.c.promise_id == promise.id)
        ).all()
    assert [row.claim_reference for row in linked] == ["260000117"]


async def test_a_yes_over_two_claims_records_each_claims_part(domain: dict[str, Any]) -> None:
    # Sabine Krüger: 260000158 (1,304.27) and 260000166 (343.25), 1,647.52 together.
    both = ["260000158", "260000166"]
    made = await offer(
        domain,
        "ask_instalments",
        reference="260000158",
        entities=[amount("100")],
        selected_claims=both,
    )
    who, pending = made.tracker.sender_id, made.slots["pending_offer"]
    assert pending["references"] == both
    assert [i["amount"] for i in pending["instalments"]] == ["100.00"] * 16 + ["47.52"]
    tracker = make_tracker(
        text="ja",
        intent="affirm",
        slots=verified_slots(
            "260000158", pending_offer=pending, awaiting="confirm_offer", selected_claims=both
        ),
        sender_id=who,
    )
    await run(ActionAffirm(), tracker, domain)
    [promise] = rows(Promise, conversation_id=who)
    assert promise.amount == Decimal("1647.52")
    parts = {p.claim_reference: p for p in rows(PromiseClaim, promise_id=promise.id)}
    assert {ref: p.amount for ref, p in parts.items()} == {
        "260000158": Decimal("1304.27"),
        "260000166": Decimal("343.25"),
    }
    instalments = {i.id: i for i in rows(Instalment, promise_id=promise.id)}
    shares = [s for s in rows(InstalmentPart) if s.instalment_id in instalments]
    for reference, part in parts.items():
        assert sum(s.amount for s in shares if s.claim_reference == reference) == part.amount
    for instalment_id, instalment in instalments.items():
        assert sum(s.amount for s in shares if s.instalment_id == instalment_id) == (
            instalment.amount
        )
    [audit] = rows(AuditEvent, conversation_id=who, kind="promise_recorded")
    assert audit.data["parts"]["260000158"]["amount"] == "1304.27"
    assert audit.data["parts"]["260000166"]["amount"] == "343.25"
    assert len(audit.data["parts"]["260000166"]["instalments"]) == 17


async def test_yes_without_verification_records_nothing(domain: dict[str, Any]) -> None:
    who, pending = await pending_plan(domain, "50")
    tracker = make_tracker(
        text="ja",
        intent="affirm",
        slots={"disclosed": True, "pending_offer": pending, "awaiting": "confirm_offer"},
        sender_id=who,
    )
    result = await run(ActionAffirm(), tracker, domain)
    assert result.followups() == ["verify_form"]
    assert rows(Promise) == []


async def test_no_to_a_hard_counter_goes_to_an_agent(domain: dict[str, Any]) -> None:
    who, pending = await pending_plan(domain, "10")
    result = await answer(domain, ActionDeny(), who, pending, counter_offers=1.0)
    assert result.slots["handed_off"] is True
    [handoff] = rows(Handoff, conversation_id=who)
    assert handoff.reason == "policy_limit"
    [declined] = rows(AuditEvent, conversation_id=who, kind="offer_declined")
    assert declined.reasons == ["plan_refused"]
    assert rows(Promise) == []


async def test_no_to_a_normal_offer_asks_for_another_way(domain: dict[str, Any]) -> None:
    who, pending = await pending_plan(domain, "50")
    result = await answer(domain, ActionDeny(), who, pending)
    assert result.texts == ["Kein Problem. Was würde für Sie besser passen?"]
    assert [b["payload"] for b in result.buttons] == [
        "/pay_full",
        "/ask_instalments",
        "/ask_deferral",
        "/ask_settlement",
        "/human_request",
    ]
    assert result.slots == {"awaiting": None, "pending_offer": None}
    assert rows(Handoff, conversation_id=who) == []
    assert len(rows(AuditEvent, conversation_id=who, kind="offer_declined")) == 1


async def test_no_with_nothing_pending_asks_how_to_help(domain: dict[str, Any]) -> None:
    tracker = make_tracker(text="nein", intent="deny", slots=verified_slots("260000117"))
    result = await run(ActionDeny(), tracker, domain)
    assert result.texts == ["Wie kann ich Ihnen helfen?"]
    assert rows(AuditEvent, kind="offer_declined") == []


async def test_cannot_pay_offers_the_gentlest_options_then_an_agent(
    domain: dict[str, Any],
) -> None:
    tracker = make_tracker(
        text="ich kann nicht zahlen", intent="cannot_pay", slots=verified_slots("260000117")
    )
    first = await run(ActionCannotPay(), tracker, domain)
    assert "kleine Raten ab 25,00 € im Monat" in first.texts[0]
    assert day(today() + timedelta(days=30), "de") in first.texts[0]
    assert first.slots["counter_offers"] == 1.0
    again = make_tracker(
        text="ich kann wirklich nicht",
        intent="cannot_pay",
        slots=verified_slots("260000117", counter_offers=1.0),
        sender_id=tracker.sender_id,
    )
    last = await run(ActionCannotPay(), again, domain)
    assert last.slots["handed_off"] is True
    [handoff] = rows(Handoff, conversation_id=tracker.sender_id)
    assert handoff.reason == "policy_limit"


# -- a plan asked for by its length -------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "entities"),
    [
        ("kann ich das über 6 Monate abzahlen?", []),
        # The NLU may read the 6 as an amount: the term wins.
        ("kann ich das über 6 Monate abzahlen?", [amount("6")]),
        ("could I spread it over six months", []),
    ],
)
async def test_a_plan_by_number_of_months(
    domain: dict[str, Any], words: str, entities: list[dict[str, Any]]
) -> None:
    tracker = make_tracker(
        text=words,
        intent="ask_instalments",
        entities=entities,
        slots=verified_slots("260000117"),
    )
    result = await run(ActionOffer(), tracker, domain)
    pending = result.slots["pending_offer"]
    assert len(pending["instalments"]) == 6
    assert total_of(pending) == Decimal("475.68")


async def test_the_term_asked_for_before_verification_is_kept(domain: dict[str, Any]) -> None:
    tracker = make_tracker(text="in 10 Raten bitte", intent="ask_instalments")
    result = await run(ActionOffer(), tracker, domain)
    assert result.slots["goal"]["months"] == 10


async def test_a_term_too_long_for_the_floor_names_its_monthly_rate(
    domain: dict[str, Any],
) -> None:
    # "12 months" on 295.84 would be 24.65 a month, below 25.00: the counter says so, and
    # never "€0.00 a month" (blind round E).
    result = await offer(
        domain, "ask_instalments", reference="260000141", text="12 months", language="en"
    )
    assert result.texts[0].startswith(
        "€24.65 a month is unfortunately below the smallest possible instalment of €25.00."
    )
    assert "0.00" not in result.texts[0]


async def test_a_settlement_amount_at_the_total_gets_the_best_discount(
    domain: dict[str, Any],
) -> None:
    # "it's nearly 300 quid" read as a settlement of 300 on 295.84: no "discount of €0.00".
    result = await offer(
        domain,
        "ask_settlement",
        reference="260000141",
        text="this is ridiculous, it's nearly 300 quid",
        entities=[amount("300")],
        language="en",
    )
    pending = result.slots["pending_offer"]
    assert pending["kind"] == "settlement"
    assert Decimal(pending["discount"]) > 0
    assert "€0.00" not in result.text
