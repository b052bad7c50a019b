"""Two people with everything Quitt can hold about someone, for the privacy tests.

Erika has two claims, a WhatsApp conversation, a web chat with a promise, a dispute,
a closed handoff with an agent's note, a phone call, a privacy request and audit
entries. Otto, a stranger, has a claim and a web chat of his own. Their details are
found nowhere else, so a scan for them means something.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from domain.agents import service as agent_service
from domain.audit import service as audit_service
from domain.claims import service as claim_service
from domain.claims.models import Claim, Debtor
from domain.conversations import service as conversations_service
from domain.disputes import service as dispute_service
from domain.handoffs import service as handoff_service
from domain.handoffs.models import HandoffNote
from domain.payments.models import Payment, PaymentAllocation
from domain.privacy import requests as privacy_requests
from domain.promises import service as promise_service
from domain.whatsapp import service as whatsapp_service
from voice import service as voice_service

CREDITOR = {
    "id": "privacy-test-creditor",
    "name": "Privatwerke Test GmbH",
    "address": "Teststraße 1, 10115 Berlin",
}


@dataclass(frozen=True)
class Person:
    """What the tests know about one seeded person."""

    name: str
    date_of_birth: date
    postcode: str
    phone: str
    email: str
    references: tuple[str, ...]
    conversations: tuple[str, ...]
    messages: tuple[str, ...]
    debtor_id: int = 0

    @property
    def identity(self) -> dict[str, list[str]]:
        """Return the person's identity data as scan needles."""
        born = self.date_of_birth
        return {
            "name": [self.name],
            "phone": [self.phone, f"0{self.phone[3:]}"],
            "e-mail": [self.email],
            "date of birth": [born.isoformat(), f"{born:%d.%m.%Y}"],
            "postcode": [self.postcode],
        }

    @property
    def needles(self) -> dict[str, list[str]]:
        """Return identity data and every message text of the person."""
        return {**self.identity, "message": list(self.messages)}


@dataclass
class People:
    """The two seeded people and the records made for Erika."""

    erika: Person
    otto: Person
    promise_id: int = 0
    handoff_id: int = 0
    agent_id: int = 0
    extra: dict[str, int] = field(default_factory=dict)


ERIKA = Person(
    name="Erika Privatmann",
    date_of_birth=date(1961, 7, 23),
    postcode="80331",
    phone="+4917099887766",
    email="erika.privatmann@example.org",
    references=("PRIV-A-1", "PRIV-A-2"),
    conversations=("whatsapp:+4917099887766", "web-erika-1", "voice:CAprivacy0001"),
    messages=(
        "Hallo, hier schreibt Erika Privatmann wegen der Rechnung",
        "geboren am 23.07.1961, wohne in 80331",
        "Meine Mail ist erika.privatmann@example.org, bitte dorthin schreiben",
        "Ich kann ab nächstem Monat in zwei Raten zahlen",
        "Die Mahngebühr für den Gartenschlauch bestreite ich",
        "Sprachnachricht: Erika hier, ich rufe morgen wieder an",
    ),
)
OTTO = Person(
    name="Otto Fremdmann",
    date_of_birth=date(1975, 11, 2),
    postcode="50667",
    phone="+4916055544433",
    email="otto.fremdmann@example.net",
    references=("PRIV-B-1",),
    conversations=("web-otto-1",),
    messages=("Otto Fremdmann hier, geboren 02.11.1975, ich zahle nächste Woche alles",),
)


def _claim(reference: str, person: Person, status: str, principal: str) -> dict[str, object]:
    return {
        "reference": reference,
        "creditor": CREDITOR["id"],
        "subject": f"Wasserrechnung {reference}",
        "due_date": "2026-05-31",
        "currency": "EUR",
        "principal": principal,
        "interest": "4.10",
        "fees": "12.00",
        "status": status,
        "debtor": {
            "name": person.name,
            "date_of_birth": person.date_of_birth.isoformat(),
            "postcode": person.postcode,
            "phone": person.phone,
            "email": person.email,
            "language": "de",
        },
    }


def seed(db_session: Session) -> People:
    """Create Erika and Otto with their records; return what the tests need."""
    claim_service.import_claims(
        db_session=db_session,
        data={
            "format": "quitt-claims/1",
            "creditors": [CREDITOR],
            "claims": [
                _claim("PRIV-A-1", ERIKA, "paid", "240.00"),
                _claim("PRIV-A-2", ERIKA, "open", "180.50"),
                _claim("PRIV-B-1", OTTO, "open", "99.90"),
            ],
        },
    )
    erika_id = db_session.get(Claim, "PRIV-A-1").debtor_id  # type: ignore[union-attr]
    otto_id = db_session.get(Claim, "PRIV-B-1").debtor_id  # type: ignore[union-attr]
    agent = agent_service.create_agent(
        db_session=db_session, email="privacy-agent@quitt.example", password="a-long-password"
    )
    whatsapp, web, _voice = ERIKA.conversations
    say = ERIKA.messages

    # WhatsApp: verified on the open claim; a voice note; an opt-out.
    conversations_service.get_or_create(
        db_session=db_session, sender_id=whatsapp, channel="whatsapp"
    )
    whatsapp_service.touch_contact(
        db_session=db_session, address=whatsapp, our_address="whatsapp:+4930123"
    )
    _debtor_says(db_session, whatsapp, say[0])
    _debtor_says(db_session, whatsapp, say[1])
    conversations_service.mark_verified(
        db_session=db_session, sender_id=whatsapp, claim_reference="PRIV-A-2", debtor_id=erika_id
    )
    _debtor_says(db_session, whatsapp, say[2])
    conversations_service.add_message(
        db_session=db_session, sender_id=whatsapp, direction="out", author="agent",
        text="Guten Tag Frau Privatmann, wir melden uns per Mail.",
    )  # fmt: skip
    whatsapp_service.add_attachment(
        db_session=db_session, address=whatsapp, external_id="MEprivacy1",
        media_url="https://api.twilio.com/Media/MEprivacy1", content_type="audio/ogg",
        transcript=say[5],
    )  # fmt: skip
    whatsapp_service.opt_out(db_session=db_session, address=whatsapp)

    # Web chat: verified on the paid claim, a promise, a dispute, a closed handoff.
    conversations_service.get_or_create(db_session=db_session, sender_id=web, channel="rest")
    conversations_service.mark_verified(
        db_session=db_session, sender_id=web, claim_reference="PRIV-A-1", debtor_id=erika_id
    )
    audit_service.record(
        db_session=db_session, kind="verification_succeeded", conversation_id=web,
        claim_reference="PRIV-A-1", reasons=("identity_verified",),
    )  # fmt: skip
    _debtor_says(db_session, web, say[3])
    promise = promise_service.create(
        db_session=db_session, claim_references=["PRIV-A-1"], kind="instalment_plan",
        amount=Decimal("256.10"), due_date=date(2026, 6, 15),
        instalments=[
            (1, Decimal("128.05"), date(2026, 6, 15)), (2, Decimal("128.05"), date(2026, 7, 15))
        ],
        channel="rest", conversation_id=web, policy_version="default@test",
        idempotency_key="privacy-test-promise",
    )  # fmt: skip
    audit_service.record(
        db_session=db_session, kind="promise_recorded", conversation_id=web,
        claim_reference="PRIV-A-1", reasons=("plan_accepted",), policy_version="default@test",
        data={"promise_id": promise.id, "claims": ["PRIV-A-1"], "note": f"for {ERIKA.name}"},
    )  # fmt: skip
    _debtor_says(db_session, web, say[4])
    dispute_service.create(
        db_session=db_session, claim_reference="PRIV-A-2", conversation_id=web, reason_text=say[4]
    )
    handoff = handoff_service.open_handoff(
        db_session=db_session, conversation_id=web, channel="rest", reason="dispute",
        claim_reference="PRIV-A-2",
        # What an affordability check attaches: her income and outgoings, for the agent.
        statement={"kind": "affordability", "net_income": "1834.56", "left": "12.34"},
    )  # fmt: skip
    db_session.add(
        HandoffNote(handoff_id=handoff.id, agent_id=agent.id, text="Erika Privatmann ruft zurück")
    )
    handoff_service.close(
        db_session=db_session, handoff_id=handoff.id, outcome="Frau Privatmann angerufen"
    )
    privacy_requests.record(
        db_session=db_session, kind="access", conversation_id=web, channel="rest", language="de"
    )

    # Her first instalment, booked from a bank statement in her name.
    _paid(db_session, "TX-PRIV-1", "PRIV-A-1", "128.05", ERIKA.name, promise.id)

    # A phone call from her number.
    voice_service.take_call(
        db_session=db_session, call_sid="CAprivacy0001", caller=ERIKA.phone, language="de"
    )
    voice_service.store_answer(
        db_session=db_session,
        call_sid="CAprivacy0001",
        answer="<Response><Say>Hallo</Say></Response>",
    )

    # Otto, a stranger.
    (otto_web,) = OTTO.conversations
    conversations_service.get_or_create(db_session=db_session, sender_id=otto_web, channel="rest")
    conversations_service.mark_verified(
        db_session=db_session, sender_id=otto_web, claim_reference="PRIV-B-1", debtor_id=otto_id
    )
    _debtor_says(db_session, otto_web, OTTO.messages[0])
    _paid(db_session, "TX-PRIV-2", "PRIV-B-1", "20.00", OTTO.name, None)
    db_session.flush()
    assert db_session.get(Debtor, erika_id) is not None
    return People(
        erika=Person(**{**ERIKA.__dict__, "debtor_id": erika_id}),
        otto=Person(**{**OTTO.__dict__, "debtor_id": otto_id}),
        promise_id=promise.id,
        handoff_id=handoff.id,
        agent_id=agent.id,
    )


def _debtor_says(db_session: Session, sender_id: str, text: str) -> None:
    conversations_service.add_message(
        db_session=db_session,
        sender_id=sender_id,
        direction="in",
        author="debtor",
        text=text,
        data={"sentiment": {"label": "neutral", "score": 0.9}},
    )


def _paid(
    db_session: Session,
    transaction_id: str,
    reference: str,
    amount: str,
    payer: str,
    promise_id: int | None,
) -> None:
    payment = Payment(
        transaction_id=transaction_id,
        amount=Decimal(amount),
        booked_on=date(2026, 6, 14),
        remittance=f"{reference} {payer} Wasser",
        payer=payer,
        claim_reference=reference,
        state="matched",
        match_reason="reference_and_amount",
        source="csv",
    )
    db_session.add(payment)
    db_session.flush()
    db_session.add(
        PaymentAllocation(
            payment_id=payment.id,
            claim_reference=reference,
            promise_id=promise_id,
            amount=Decimal(amount),
        )
    )
    db_session.flush()


# --- what reviewers found missing: other people's data next to Erika's ------------------


def share_the_household_phone(db_session: Session, people: People) -> None:
    """Give Otto's claim Erika's phone as his contact (a household number).

    Her WhatsApp conversation and her call are then linked to him by phone; the
    WhatsApp conversation verified her, so it stays hers.
    """
    otto = db_session.get(Debtor, people.otto.debtor_id)
    assert otto is not None
    otto.phone = ERIKA.phone
    db_session.flush()


OTTO_ABOUT_ERIKA = f"Schreiben Sie meiner Nachbarin unter {ERIKA.email}, Tel. {ERIKA.phone}"


def otto_writes_erikas_contact(db_session: Session) -> None:
    """Have Otto, verified in his own chat, type Erika's e-mail address and phone."""
    _debtor_says(db_session, OTTO.conversations[0], OTTO_ABOUT_ERIKA)


@dataclass(frozen=True)
class OtherPayments:
    """Transaction ids of the payments `seed_other_payments` adds."""

    by_name: str = "TX-PRIV-NAME"  # unmatched, her name spelt as a bank does
    by_reference: str = "TX-PRIV-REF"  # unmatched, a stranger's account, her reference
    split: str = "TX-PRIV-SPLIT"  # Otto pays his claim and part of hers
    misallocated: str = "TX-PRIV-MIS"  # hers, booked to Otto's claim by mistake


def seed_other_payments(db_session: Session) -> OtherPayments:
    """Add Erika's unmatched and misallocated payments, and one Otto split with her."""
    ids = OtherPayments()
    rows = [
        (ids.by_name, "10.00", "  ERIKA   privatmann ", "Wasser Juni", None, "unmatched", []),
        (ids.by_reference, "11.00", "Konto 4711", "Zahlung priv a 2 danke", None, "unmatched",
         []),
        (ids.split, "50.00", OTTO.name, f"PRIV-A-1 PRIV-B-1 fuer Erika und mich {ERIKA.name}",
         "PRIV-B-1", "assigned", [("PRIV-A-1", "30.00"), ("PRIV-B-1", "20.00")]),
        (ids.misallocated, "15.00", ERIKA.name, "Wasserrechnung Juni", "PRIV-B-1", "assigned",
         [("PRIV-B-1", "15.00")]),
    ]  # fmt: skip
    for transaction_id, amount, payer, remittance, reference, state, parts in rows:
        payment = Payment(
            transaction_id=transaction_id,
            amount=Decimal(amount),
            booked_on=date(2026, 6, 20),
            remittance=remittance,
            payer=payer,
            claim_reference=reference,
            state=state,
            match_reason="no_reference" if state == "unmatched" else "agent",
            source="csv",
        )
        db_session.add(payment)
        db_session.flush()
        for claim_reference, part in parts:
            db_session.add(
                PaymentAllocation(
                    payment_id=payment.id, claim_reference=claim_reference, amount=Decimal(part)
                )
            )
        db_session.flush()
    return ids
