"""Whole conversations through the gateway's REST channel, on the real Rasa core."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from tests.integration.conftest import Gateway

# What must never appear in a bot turn before the debtor has proved who they are.
SECRETS = {
    "260000117": ["412", "475", "Stadtwerke", "Strom", "Becker"],
    "260000141": ["249", "295", "Modehaus", "Carter", "90411"],
    "260000174": ["179", "210", "FitLine", "O'Brien"],
    "260000133": ["4374", "4.800", "4800", "FitLine", "Wagner"],
    "260000158": ["1180", "1.180", "1.304", "Krüger", "Stadtwerke"],
}


def today() -> date:
    """Return today in the service's time zone."""
    return datetime.now(ZoneInfo("Europe/Berlin")).date()


def sender() -> str:
    """Return a fresh conversation id."""
    return f"it-{uuid.uuid4().hex[:12]}"


def plain(text: str) -> str:
    """Normalise the non-breaking spaces of locale formatting."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def assert_no_detail(text: str, reference: str) -> None:
    """Fail when a bot turn leaks claim data before verification."""
    for secret in SECRETS[reference]:
        assert secret not in text, f"leaked {secret!r} before verification: {text!r}"


def verify(gateway: Gateway, who: str, reference: str, proof: str, opening: str) -> str:
    """Open a conversation, pass the identity check, and return the answer after it."""
    first = gateway.texts(who, opening)
    assert_no_detail(first, reference)
    second = gateway.texts(who, reference)
    assert_no_detail(second, reference)
    return plain(gateway.texts(who, proof))


def test_german_debtor_agrees_an_instalment_plan(gateway: Gateway) -> None:
    # The session stack is shared: other tests may agree plans on this claim too.
    earlier = {p["id"] for p in gateway.claim("260000117")["promises"]}
    who = sender()
    first = gateway.texts(who, "Hallo")
    assert "automatisiert" in first  # AI disclosure in the first turn
    assert "Datenschutz" in first
    assert "Aktenzeichen" in first
    assert_no_detail(first, "260000117")
    asked = gateway.texts(who, "260000117")
    assert "Geburtsdatum" in asked
    assert_no_detail(asked, "260000117")
    details = plain(gateway.texts(who, "14.03.1987"))
    for part in ("412,50 €", "9,18 €", "54,00 €", "475,68 €", "Stadtwerke Musterstadt"):
        assert part in details, details
    offer = plain(gateway.texts(who, "Ich kann höchstens 50 im Monat zahlen"))
    # As German agreements are written: 9 x 50.00 and a final instalment (Schlussrate).
    assert "10 Monatsraten" in offer, offer
    assert "50,00 €" in offer and "25,68 €" in offer
    done = plain(gateway.texts(who, "ja, passt"))
    assert "festgehalten" in done

    claim = gateway.claim("260000117")
    assert (claim["principal"], claim["interest"], claim["fees"], claim["total"]) == (
        "412.50",
        "9.18",
        "54.00",
        "475.68",
    )
    plans = [
        p for p in claim["promises"] if p["kind"] == "instalment_plan" and p["id"] not in earlier
    ]
    assert len(plans) == 1, plans
    plan = plans[0]
    amounts = [Decimal(i["amount"]) for i in plan["instalments"]]
    assert plan["amount"] == "475.68" and plan["status"] == "pending" and plan["channel"] == "rest"
    assert amounts == [Decimal("50.00")] * 9 + [Decimal("25.68")]
    assert plan["due_date"] == (today() + timedelta(days=14)).isoformat()


def test_english_debtor_takes_the_settlement(gateway: Gateway) -> None:
    who = sender()
    first = gateway.texts(who, "Hi there, I got a letter from you")
    assert "automated" in first and "claim reference" in first
    details = verify(gateway, who, "260000141", "my postcode is 10115", "hello")
    assert "£" not in details and "€295.84" in details, details
    offer = plain(gateway.texts(who, "Can I get a discount if I pay it all at once?"))
    assert "€29.58" in offer and "€266.26" in offer, offer
    assert "record" in gateway.texts(who, "yes please").lower()
    promises = gateway.claim("260000141")["promises"]
    assert [(p["kind"], p["amount"], p["discount"]) for p in promises] == [
        ("settlement", "266.26", "29.58")
    ]


def test_offer_below_the_floor_gets_nearest_plan_then_a_human(gateway: Gateway) -> None:
    who = sender()
    verify(gateway, who, "260000133", "30.06.1979", "Guten Tag")
    counter = plain(gateway.texts(who, "Ich kann nur 100 € im Monat zahlen"))
    assert "200,00 €" in counter and "24 Monatsraten" in counter, counter
    # The income and outgoings check is offered beside it (issue 13); still too much: a
    # person (CONTRACT §4).
    assert "Einnahmen und Ausgaben" in counter, counter
    gateway.texts(who, "nein, das schaffe ich nicht")
    reasons = {h["reason"] for h in gateway.handoffs("queued") if h["sender"] == who}
    assert reasons == {"policy_limit"}
    assert gateway.claim("260000133")["promises"] == []
    assert gateway.say(who, "hallo?") == []  # a human holds it now: the bot stays silent


def test_dispute_is_recorded_and_handed_off(gateway: Gateway) -> None:
    who = sender()
    verify(gateway, who, "260000174", "09/04/1984", "hello")
    answer = gateway.texts(who, "I never signed up at that gym, this is not my debt")
    assert "objection" in answer and "won't ask for payment" in answer, answer
    claim = gateway.claim("260000174")
    assert len(claim["disputes"]) == 1
    assert [h["reason"] for h in claim["handoffs"]] == ["dispute"]
    assert claim["promises"] == []


def test_crisis_gets_help_at_once(gateway: Gateway) -> None:
    who = sender()
    answer = gateway.texts(who, "ich kann nicht mehr, ich will nicht mehr leben")
    assert "0800 111 0 111" in answer
    queued = [h for h in gateway.handoffs("queued") if h["sender"] == who]
    assert [h["reason"] for h in queued] == ["crisis"]


def test_human_request_before_verification(gateway: Gateway) -> None:
    who = sender()
    answer = gateway.texts(who, "I want to talk to a real person please")
    assert "automated" in answer and "member of staff" in answer
    reasons = [h["reason"] for h in gateway.handoffs("queued") if h["sender"] == who]
    assert reasons == ["human_request"]


def test_insolvency_claim_is_never_collected(gateway: Gateway) -> None:
    who = sender()
    gateway.texts(who, "Hallo")
    gateway.texts(who, "260000190")
    answer = plain(gateway.texts(who, "22765"))
    assert "Insolvenz" in answer and "860" not in answer and "€" not in answer
    reasons = [h["reason"] for h in gateway.handoffs("queued") if h["sender"] == who]
    assert reasons == ["insolvency"]


def test_paid_and_disputed_claims_ask_for_nothing(gateway: Gateway) -> None:
    paid = sender()
    gateway.texts(paid, "Hallo")
    gateway.texts(paid, "260000204")
    assert "nichts mehr offen" in gateway.texts(paid, "09.09.1999")
    disputed = sender()
    gateway.texts(disputed, "Moin")
    gateway.texts(disputed, "260000182")
    answer = gateway.texts(disputed, "50667")
    assert "geprüft" in answer and "keine Zahlung" in answer
    assert gateway.claim("260000182")["promises"] == []


def test_debtor_with_two_claims_settles_both(gateway: Gateway) -> None:
    who = sender()
    gateway.texts(who, "Guten Abend")
    gateway.texts(who, "Aktenzeichen 260000158")
    overview = gateway.say(who, "05.12.1962")
    text = plain("\n".join(m.get("text", "") for m in overview))
    assert "260000158" in text and "260000166" in text
    buttons = [b["title"] for m in overview for b in m.get("buttons", [])]
    assert "Alle zusammen" in buttons
    chosen = plain(gateway.texts(who, "/choose_all"))
    assert "1.647,52 €" in chosen, chosen  # 1,304.27 + 343.25
    offer = plain(gateway.texts(who, "Ich möchte das gern in Raten abbezahlen"))
    assert "Ratenzahlung über 1.647,52 €" in offer, offer
    gateway.texts(who, "ja")
    first, second = gateway.claim("260000158"), gateway.claim("260000166")
    assert len(first["promises"]) == len(second["promises"]) == 1
    # One promise, and each claim shows its own part of it (CONTRACT §3).
    one, two = first["promises"][0], second["promises"][0]
    assert one["id"] == two["id"]
    assert one["promise_amount"] == two["promise_amount"] == "1647.52"
    assert (one["amount"], two["amount"]) == ("1304.27", "343.25")
    for part, claim_total in ((one, "1304.27"), (two, "343.25")):
        assert sum(Decimal(i["amount"]) for i in part["instalments"]) == Decimal(claim_total)


def test_verification_locks_after_three_failures(gateway: Gateway) -> None:
    who = sender()
    gateway.texts(who, "Hallo")
    for _attempt in range(3):
        gateway.texts(who, "260000117")
        answer = gateway.texts(who, "01.01.1970")
        assert_no_detail(answer, "260000117")
    assert "gesperrt" in answer
    queued = [h for h in gateway.handoffs("queued") if h["sender"] == who]
    assert [h["reason"] for h in queued] == ["verification_locked"]
    assert queued[0]["claim_reference"] is None


def test_crisis_while_a_human_holds_the_conversation_gets_help_at_once(gateway: Gateway) -> None:
    who = sender()
    gateway.texts(who, "Ich möchte bitte mit einem Mitarbeiter sprechen")
    assert gateway.say(who, "Hallo? Ist da jemand?") == []  # held: the bot stays silent
    answer = gateway.texts(who, "ich kann nicht mehr, ich will nicht mehr leben")
    assert "0800 111 0 111" in answer


def test_an_abusive_debtor_is_offered_a_human_and_handed_over_on_yes(gateway: Gateway) -> None:
    who = sender()
    gateway.texts(who, "hello")
    first = gateway.texts(who, "You useless pack of idiots, I'm sick to death of your letters!")
    # Mood changes the tone: acknowledged, and nobody is handed over without a yes.
    assert "I understand that you're annoyed" in first, first
    assert not [h for h in gateway.handoffs("queued") if h["sender"] == who]
    answers = [first]
    for insult in ("Are you deaf? You bunch of crooks and thieves!", "Screw you, you scammers!"):
        if "member of staff" in answers[-1]:
            break
        answers.append(gateway.texts(who, insult))
    assert "Would you rather talk to a member of staff?" in answers[-1], answers
    assert not [h for h in gateway.handoffs("queued") if h["sender"] == who]
    assert "member of staff" in gateway.texts(who, "yes")
    queued = [h for h in gateway.handoffs("queued") if h["sender"] == who]
    assert [h["reason"] for h in queued] == ["negative_sentiment"]
    trail = queued[0]["sentiment_trail"]
    assert trail and any(t["label"] == "negative_angry" for t in trail)


def test_money_is_tight_gets_understanding_and_the_identity_check(gateway: Gateway) -> None:
    who = sender()
    answer = gateway.say(who, "Hallo, ich bin gerade knapp bei Kasse.")
    texts = [m.get("text", "") for m in answer]
    joined = "\n".join(texts)
    # One question for the reference, no "that is no reference", nobody handed over.
    assert sum("Aktenzeichen" in t for t in texts) == 1, texts
    assert "nicht nach einem Aktenzeichen" not in joined
    assert not [h for h in gateway.handoffs("queued") if h["sender"] == who]


def test_an_agent_writes_closes_the_case_and_the_bot_answers_again(gateway: Gateway) -> None:
    who = sender()
    gateway.texts(who, "I want to talk to a real person please")
    handoff = next(h for h in gateway.handoffs("queued") if h["sender"] == who)
    headers = {"Authorization": f"Bearer {gateway.token}"}
    base = f"/api/console/handoffs/{handoff['id']}"
    assert gateway.http.post(f"{base}/take", headers=headers).status_code == 200
    reply = {"text": "Hello, this is Anna from Quitt. How can I help?"}
    assert gateway.http.post(f"{base}/reply", json=reply, headers=headers).status_code == 200
    # A REST debtor receives the agent's words with their next message; the bot stays out.
    assert gateway.say(who, "thanks Anna") == [
        {"recipient_id": who, "text": reply["text"], "custom": {"author": "agent"}}
    ]
    closed = gateway.http.post(f"{base}/close", json={"outcome": "resolved"}, headers=headers)
    assert closed.status_code == 200
    assert "claim reference" in gateway.texts(who, "hello again")
