"""The income and outgoings check on the real stack: Rasa, action server and gateway.

A German debtor who cannot manage the smallest instalment is offered the check and
agrees the plan that fits; an English debtor who asks what they can afford ends below
the creditor's floor, and the agent API returns the statement of the handoff.
"""

from __future__ import annotations

from decimal import Decimal

from api.launcher import Stack
from tests.integration.conftest import Gateway
from tests.integration.test_conversations import plain, sender, verify


def _check(gateway: Gateway, who: str, answers: list[tuple[str, str]]) -> str:
    """Answer the check's questions; each answer must bring the next expected question."""
    reply = ""
    for answer, next_question in answers:
        reply = plain(gateway.texts(who, answer))
        assert next_question in reply, (answer, reply)
    return reply


def test_german_debtor_below_the_minimum_checks_and_agrees_a_plan_that_fits(
    gateway: Gateway, stack: Stack
) -> None:
    earlier = {p["id"] for p in gateway.claim("260000117")["promises"]}
    who = sender()
    verify(gateway, who, "260000117", "14.03.1987", "Guten Tag")
    counter = plain(gateway.texts(who, "Ich kann höchstens 10 € im Monat zahlen"))
    assert "kleinsten möglichen Rate von 25,00 €" in counter, counter
    # Beside the nearest plan, the check is offered; the debtor takes it (the button).
    assert "Einnahmen und Ausgaben" in counter, counter
    assert not [h for h in gateway.handoffs("queued") if h["sender"] == who]

    opened = plain(gateway.texts(who, "/ask_affordability"))
    assert "sieben kurze Fragen" in opened and "Nettoeinkommen" in opened, opened
    summary = _check(
        gateway,
        who,
        [
            ("1.837", "Miete"),
            ("653,40 warm", "Strom und Heizung"),
            ("weiß ich nicht genau", "nicht als Betrag verstanden"),  # asked again
            ("90", "Lebensmittel"),
            ("dreihundertfünfzig", "Fahrtkosten"),
            ("49", "andere Raten"),
            ("nein", "Unterhalt"),
            ("keine", "Soll ich das verbindlich so festhalten?"),
        ],
    )
    # 1,837.00 - 1,142.40 outgoings = 694.60 left; 1,837.00 - 1,555.00 protected = 282.00.
    assert "Nettoeinkommen: 1.837,00 €" in summary
    assert "Ausgaben: 1.142,40 €" in summary and "Miete 653,40 €" in summary
    assert "Es bleiben: 694,60 € im Monat." in summary
    assert (
        "Pfändungsfreigrenze nach § 850c ZPO, Stand 1.7.2025, ohne Unterhaltspflichten: 1.555,00 €"
        in summary
    )
    assert "höchstens 282,00 €" in summary
    assert "2 Monatsraten" in summary and "282,00 €" in summary and "193,68 €" in summary

    done = plain(gateway.texts(who, "ja"))
    assert "festgehalten" in done, done
    plans = [
        p
        for p in gateway.claim("260000117")["promises"]
        if p["kind"] == "instalment_plan" and p["id"] not in earlier
    ]
    assert len(plans) == 1, plans
    assert [Decimal(i["amount"]) for i in plans[0]["instalments"]] == [
        Decimal("282.00"),
        Decimal("193.68"),
    ]
    assert plans[0]["amount"] == "475.68" and plans[0]["status"] == "pending"
    assert not [h for h in gateway.handoffs("queued") if h["sender"] == who]

    # The figures are personal data: in the conversation and a handoff, never in a log.
    assert stack.log_dir is not None
    logs = "\n".join(p.read_text(errors="replace") for p in stack.log_dir.glob("*.log"))
    for figure in ("1.837", "1837", "653,40", "653.40", "694.60", "694,60"):
        assert figure not in logs, f"{figure} found in a process log"


def test_english_debtor_asks_what_they_can_afford_and_goes_to_an_agent_with_the_statement(
    gateway: Gateway,
) -> None:
    who = sender()
    first = gateway.texts(who, "Hi, can you work out what I can afford each month?")
    assert "claim reference" in first, first
    gateway.texts(who, "260000141")
    opened = plain(gateway.texts(who, "my postcode is 10115"))
    assert "seven short questions" in opened and "net income" in opened, opened
    _check(
        gateway,
        who,
        [
            ("1,650.00", "rent"),
            ("700", "electricity"),
            ("95", "food"),
            ("400", "transport"),
            ("60", "other instalments"),
            ("100", "how many people"),
        ],
    )
    answer = plain(gateway.texts(who, "my wife and 2 kids"))
    # Three dependants: 1,555.00 + 585.23 + 2 x 326.04 = 2,792.31, above the income.
    assert (
        "Protected income under § 850c ZPO (German garnishment limit), as of 1 July 2025, "
        "with 3 dependants: €2,792.31" in answer
    ), answer
    assert "at most €0.00 a month fits" in answer
    assert "below the smallest instalment of €25.00" in answer

    [handoff] = [h for h in gateway.handoffs("queued") if h["sender"] == who]
    assert handoff["reason"] == "policy_limit"
    assert handoff["claim_reference"] == "260000141"
    statement = handoff["statement"]
    assert statement["net_income"] == "1650.00"
    assert statement["outgoings"] == {
        "rent": "700.00",
        "energy": "95.00",
        "food": "400.00",
        "transport": "60.00",
        "other_debts": "100.00",
    }
    assert statement["outgoings_total"] == "1355.00" and statement["left"] == "295.00"
    assert statement["dependants"] == 3
    assert statement["protected_income"]["amount"] == "2792.31"
    assert statement["protected_income"]["valid_from"] == "2025-07-01"
    assert statement["protected_income"]["law"] == "§ 850c ZPO"
    assert statement["affordable"] == "0.00" and statement["minimum_instalment"] == "25.00"
    assert statement["outcome"] == "below_minimum" and statement["claims"] == ["260000141"]

    # The console's detail view shows the same statement to the agent.
    detail = gateway.http.get(
        f"/api/console/handoffs/{handoff['id']}",
        headers={"Authorization": f"Bearer {gateway.token}"},
    )
    assert detail.status_code == 200, detail.text
    assert detail.json()["handoff"]["statement"] == statement
    assert gateway.say(who, "hello?") == []  # a person holds the conversation now


def test_refusing_the_nearest_plan_goes_to_a_person_and_so_does_declining_the_check(
    gateway: Gateway,
) -> None:
    # CONTRACT §4: the nearest plan that fits, then a person (policy_limit) if the debtor
    # still cannot pay it; the check offered beside it, declined, ends the same way.
    for who, after_counter in ((sender(), ["nein, das ist zu viel"]), (sender(), None)):
        for text in ("Hallo", "260000125"):
            gateway.texts(who, text)
        assert "54,92 €" in plain(gateway.texts(who, "28203"))  # verified: the claim explained
        counter = plain(gateway.texts(who, "Ich kann nur 10 Euro im Monat zahlen"))
        assert "25,00 €" in counter and "Einnahmen und Ausgaben" in counter, counter
        if after_counter is None:
            opened = plain(gateway.texts(who, "/ask_affordability"))
            assert "Nettoeinkommen" in opened, opened
            gateway.texts(who, "1400")
            stopped = plain(gateway.texts(who, "lieber nicht"))
            assert "lassen wir die Rechnung" in stopped, stopped
        else:
            for text in after_counter:
                gateway.texts(who, text)
        [handoff] = [h for h in gateway.handoffs("queued") if h["sender"] == who]
        assert handoff["reason"] == "policy_limit" and handoff["statement"] is None
