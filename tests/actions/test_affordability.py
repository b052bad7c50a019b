"""The income and outgoings check: answers read, the form validated, plan or handoff."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from actions.affordability import (
    SLOTS,
    ActionAffordability,
    ActionAffordabilityDone,
    ValidateAffordabilityForm,
)
from actions.dialogue import ActionAffirm, ActionDeny, ActionOfferAgent
from actions.household import parse_amount, parse_dependants
from actions.verification import ActionVerificationDone
from domain.audit.models import AuditEvent
from domain.handoffs.models import Handoff
from tests.actions.conftest import make_tracker, rows, run, user_event, verified_slots

D = Decimal
pytestmark = pytest.mark.usefixtures("database")


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1800", "1800.00"),
        ("1.800", "1800.00"),
        ("1800,50", "1800.50"),
        ("1,800.50", "1800.50"),
        ("1.800,50 €", "1800.50"),
        ("ca. 1.800 Euro netto", "1800.00"),
        ("€1,250.75", "1250.75"),
        ("2k", "2000.00"),
        ("zwölfhundert", "1200.00"),
        ("zwoelfhundertfünfzig", "1250.00"),
        ("eintausendachthundert", "1800.00"),
        ("twelve hundred", "1200.00"),
        ("one thousand eight hundred", "1800.00"),
        ("650 + 120", "770.00"),
        ("Miete 650 plus 120 Nebenkosten", "770.00"),
        ("1800, manchmal 2000", "1800.00"),
        ("0", "0.00"),
        ("keine", "0.00"),
        ("nichts", "0.00"),
        ("none", "0.00"),
        ("weiß nicht", None),
        ("no idea", None),
        ("hm", None),
        ("", None),
    ],
)
def test_amounts_as_debtors_write_them(text: str, amount: str | None) -> None:
    assert parse_amount(text, no_means_zero=True) == (None if amount is None else D(amount))


def test_a_bare_no_is_zero_for_an_outgoing_but_no_income() -> None:
    assert parse_amount("nein", no_means_zero=True) == D("0.00")
    assert parse_amount("nein", no_means_zero=False) is None


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("2", 2),
        ("zwei", 2),
        ("keine", 0),
        ("niemandem", 0),
        ("nur mich", 0),
        ("just me", 0),
        ("ein Kind", 1),
        ("meine Tochter", 1),
        ("my wife and 2 kids", 3),
        ("meine Frau und zwei Kinder", 3),
        ("three", 3),
        ("weiß nicht", None),
        ("viele", None),
    ],
)
def test_dependants_as_debtors_say_them(text: str, count: int | None) -> None:
    assert parse_dependants(text) == count


# -- through the actions, on the seeded demo claims ------------------------------------------


def sender() -> str:
    return f"unit-{uuid.uuid4().hex[:12]}"


def form_tracker(
    slot: str,
    value: str,
    *,
    intent: str = "inform",
    sender_id: str | None = None,
    **slots: Any,
) -> Any:
    """A tracker as Rasa sends it to the validation action: the candidate slot last."""
    return make_tracker(
        text=value,
        intent=intent,
        slots={**verified_slots("260000117"), "requested_slot": slot, **slots, slot: value},
        events=[
            user_event(value, intent),
            {"event": "slot", "timestamp": None, "name": slot, "value": value},
        ],
        sender_id=sender_id or sender(),
        active_loop={"name": "affordability_form"},
    )


async def test_an_answer_is_kept_as_an_amount(domain: dict[str, Any]) -> None:
    result = await run(
        ValidateAffordabilityForm(), form_tracker("afford_rent", "650,50 warm"), domain
    )
    assert result.slots["afford_rent"] == "650.50"
    assert result.messages == []


async def test_an_answer_that_is_no_amount_is_asked_again(domain: dict[str, Any]) -> None:
    result = await run(ValidateAffordabilityForm(), form_tracker("afford_food", "puh"), domain)
    assert result.slots["afford_food"] is None
    assert result.text.startswith("Das habe ich nicht als Betrag verstanden.")
    english = await run(
        ValidateAffordabilityForm(), form_tracker("afford_food", "hmm", language="en"), domain
    )
    assert english.text.startswith("I didn't understand that as an amount.")


async def test_dependants_are_counted(domain: dict[str, Any]) -> None:
    result = await run(
        ValidateAffordabilityForm(), form_tracker("afford_dependants", "zwei Kinder"), domain
    )
    assert result.slots["afford_dependants"] == "2"


@pytest.mark.parametrize(
    ("slot", "text", "intent"),
    [
        ("afford_rent", "lieber nicht", "deny"),
        ("afford_net_income", "nein", "deny"),
        ("afford_transport", "I'd rather not say", "deny"),
        ("afford_food", "das geht Sie nichts an", "out_of_scope"),
    ],
)
async def test_a_clear_no_ends_the_check_and_overwrites_every_figure(
    domain: dict[str, Any], slot: str, text: str, intent: str
) -> None:
    result = await run(
        ValidateAffordabilityForm(),
        form_tracker(slot, text, intent=intent, afford_net_income="1800.00"),
        domain,
    )
    assert {k: result.slots[k] for k in SLOTS} == dict.fromkeys(SLOTS, "declined")


async def test_not_knowing_is_asked_again_not_a_no(domain: dict[str, Any]) -> None:
    result = await run(
        ValidateAffordabilityForm(),
        form_tracker("afford_energy", "weiß ich nicht genau", intent="deny"),
        domain,
    )
    assert result.slots["afford_energy"] is None
    assert result.text.startswith("Das habe ich nicht als Betrag verstanden.")


async def test_no_to_other_debts_is_zero_not_a_no(domain: dict[str, Any]) -> None:
    result = await run(
        ValidateAffordabilityForm(),
        form_tracker("afford_other_debts", "nein", intent="deny"),
        domain,
    )
    assert result.slots["afford_other_debts"] == "0.00"


async def test_a_question_in_between_is_left_to_the_rules(domain: dict[str, Any]) -> None:
    tracker = form_tracker("afford_rent", "bist du ein bot?", intent="bot_challenge")
    assert (await run(ValidateAffordabilityForm(), tracker, domain)).events == []


async def test_a_crisis_in_the_check_gets_help_and_drops_the_figures(
    domain: dict[str, Any],
) -> None:
    who = sender()
    result = await run(
        ValidateAffordabilityForm(),
        form_tracker(
            "afford_food",
            "ich will nicht mehr leben",
            sender_id=who,
            afford_net_income="1800.00",
        ),
        domain,
    )
    assert "0800 111 0 111" in result.text
    assert result.slots["handed_off"] is True
    assert {result.slots[k] for k in SLOTS} == {"stopped"}
    assert [h.reason for h in rows(Handoff, conversation_id=who)] == ["crisis"]


async def test_yes_to_the_offered_check_opens_the_form(domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        text="ja gern",
        intent="affirm",
        slots=verified_slots("260000117", awaiting="affordability_offer", afford_origin="floor"),
    )
    result = await run(ActionAffirm(), tracker, domain)
    assert result.followups() == ["affordability_form"]
    assert "sieben kurze Fragen" in result.text
    assert result.slots["afford_origin"] == "floor" and result.slots["awaiting"] is None
    assert all(result.slots[k] is None for k in SLOTS)


async def test_no_to_the_check_after_the_floor_goes_to_a_person(domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        text="lieber nicht",
        intent="deny",
        slots=verified_slots("260000117", awaiting="affordability_offer", afford_origin="floor"),
    )
    result = await run(ActionDeny(), tracker, domain)
    assert result.texts[0] == "Kein Problem, dann lassen wir die Rechnung."
    assert [h.reason for h in rows(Handoff, conversation_id=tracker.sender_id)] == ["policy_limit"]


async def test_asked_for_the_check_opens_it_and_a_no_goes_back_to_the_options(
    domain: dict[str, Any],
) -> None:
    tracker = make_tracker(
        text="can you work out what I can afford?",
        intent="ask_affordability",
        slots=verified_slots("260000141", language="en"),
    )
    opened = await run(ActionAffordability(), tracker, domain)
    assert opened.followups() == ["affordability_form"]
    assert "seven short questions" in opened.text
    declined = make_tracker(
        text="no",
        intent="deny",
        slots=verified_slots(
            "260000141",
            language="en",
            afford_origin="asked",
            **dict.fromkeys(SLOTS, "declined"),
        ),
        sender_id=tracker.sender_id,
    )
    result = await run(ActionAffordabilityDone(), declined, domain)
    assert result.texts[0] == "No problem, let's leave the figures aside."
    assert "/human_request" in [b["payload"] for b in result.buttons]
    assert rows(Handoff, conversation_id=tracker.sender_id) == []
    assert {result.slots[k] for k in SLOTS} == {"done"}


def answers(**values: str) -> dict[str, str]:
    base = {
        "afford_net_income": "1700.00",
        "afford_rent": "650.00",
        "afford_energy": "90.00",
        "afford_food": "350.00",
        "afford_transport": "49.00",
        "afford_other_debts": "0.00",
        "afford_dependants": "0",
    }
    return {**base, **values}


async def test_a_household_that_fits_gets_a_plan_within_it(domain: dict[str, Any]) -> None:
    # 1700.00 - 1555.00 protected = 145.00 (less than the 561.00 left after outgoings).
    tracker = make_tracker(
        text="0",
        intent="inform",
        slots=verified_slots("260000117", counter_offers=1.0, **answers()),
    )
    result = await run(ActionAffordabilityDone(), tracker, domain)
    summary = result.texts[0]
    assert "Nettoeinkommen: 1.700,00 €" in summary
    assert "Ausgaben: 1.139,00 € (Miete 650,00 €" in summary
    assert "Es bleiben: 561,00 € im Monat." in summary
    assert (
        "Pfändungsfreigrenze nach § 850c ZPO, Stand 1.7.2025, ohne Unterhaltspflichten: 1.555,00 €"
        in summary
    )
    assert "höchstens 145,00 €" in summary
    pending = result.slots["pending_offer"]
    assert [i["amount"] for i in pending["instalments"]] == ["145.00"] * 3 + ["40.68"]
    assert pending["hard_counter"] is False
    assert result.slots["awaiting"] == "confirm_offer"
    assert {result.slots[k] for k in SLOTS} == {"done"}
    [checked] = rows(AuditEvent, conversation_id=tracker.sender_id, kind="affordability_checked")
    assert checked.reasons[0] == "affordable_plan"
    # The audit entry holds reason codes and the table, never the figures.
    assert "1700" not in str(checked.data) and "650" not in str(checked.data)


async def test_below_the_floor_hands_off_with_the_statement(domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        text="eins",
        intent="inform",
        slots=verified_slots(
            "260000141",
            language="en",
            **answers(afford_net_income="2150.00", afford_dependants="1"),
        ),
    )
    result = await run(ActionAffordabilityDone(), tracker, domain)
    assert (
        "Protected income under § 850c ZPO (German garnishment limit), as of 1 July 2025, "
        "with one dependant: €2,140.23" in result.text
    )
    assert "below the smallest instalment of €25.00" in result.text
    assert result.slots["handed_off"] is True
    [handoff] = rows(Handoff, conversation_id=tracker.sender_id)
    assert handoff.reason == "policy_limit" and handoff.claim_reference == "260000141"
    statement = handoff.statement
    assert statement["net_income"] == "2150.00" and statement["affordable"] == "9.77"
    assert statement["outgoings"]["rent"] == "650.00"
    assert statement["outgoings_total"] == "1139.00" and statement["left"] == "1011.00"
    assert statement["protected_income"]["amount"] == "2140.23"
    assert statement["protected_income"]["valid_from"] == "2025-07-01"
    assert statement["claims"] == ["260000141"] and statement["outcome"] == "below_minimum"


async def test_a_mood_does_not_interrupt_the_check(domain: dict[str, Any]) -> None:
    for slots in ({"awaiting": "affordability_offer"}, {"requested_slot": "afford_food"}):
        tracker = make_tracker(
            text="",
            intent="EXTERNAL_negative_sentiment",
            slots=verified_slots("260000117", **slots),
        )
        result = await run(ActionOfferAgent(), tracker, domain)
        assert result.events == [] and result.messages == []


async def test_asked_before_the_identity_check_the_check_opens_after_it(
    domain: dict[str, Any],
) -> None:
    tracker = make_tracker(
        text="14.03.1987",
        intent="inform",
        slots=verified_slots("260000117", selected=False, goal={"kind": "affordability"}),
    )
    result = await run(ActionVerificationDone(), tracker, domain)
    assert "475,68 €" in result.text  # the claim is explained first
    assert "sieben kurze Fragen" in result.text
    assert result.followups() == ["affordability_form"]
    assert result.slots["afford_origin"] == "asked"
