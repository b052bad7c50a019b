"""Exports (CLI and `GET /api/privacy/export`): everything about one person, no one else."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from domain.agents import service as agent_service
from domain.audit import service as audit_service
from domain.conversations import service as conversations_service
from domain.privacy.export import export_person
from domain.privacy.person import find_person, holdings
from tests.api.conftest import PASSWORD
from tests.api.privacy_people import (
    OTTO_ABOUT_ERIKA,
    People,
    otto_writes_erikas_contact,
    seed,
    seed_other_payments,
    share_the_household_phone,
)


@pytest.fixture
def people(db_session: Session) -> People:
    """Seed Erika and Otto in the test transaction."""
    return seed(db_session)


def _export(db_session: Session, **who: Any) -> dict[str, Any]:
    debtor = find_person(db_session=db_session, **who)
    return export_person(
        db_session=db_session, holdings=holdings(db_session=db_session, debtor=debtor)
    )


def test_the_export_holds_everything_about_the_person(db_session: Session, people: People) -> None:
    erika = people.erika
    document = _export(db_session, reference="PRIV-A-2")

    assert document["format"] == "quitt-privacy-export/1"
    debtor = document["debtor"]
    assert (debtor["id"], debtor["name"], debtor["date_of_birth"]) == (
        erika.debtor_id, erika.name, "1961-07-23",
    )  # fmt: skip
    assert (debtor["phone"], debtor["email"], debtor["postcode"]) == (
        erika.phone, erika.email, erika.postcode,
    )  # fmt: skip
    claims = {c["reference"]: c for c in document["claims"]}
    assert set(claims) == {"PRIV-A-1", "PRIV-A-2"}
    assert {k: claims["PRIV-A-2"][k] for k in ("principal", "interest", "fees", "total")} == {
        "principal": "180.50", "interest": "4.10", "fees": "12.00", "total": "196.60",
    }  # fmt: skip
    (promise,) = document["promises"]
    assert promise["amount"] == "256.10"
    assert [i["amount"] for i in promise["instalments"]] == ["128.05", "128.05"]
    assert [p["claim_reference"] for p in promise["parts"]] == ["PRIV-A-1"]
    (payment,) = document["payments"]
    assert (payment["amount"], payment["payer"], payment["transaction_id"]) == (
        "128.05", erika.name, "TX-PRIV-1",
    )  # fmt: skip
    assert [a["amount"] for a in payment["allocations"]] == ["128.05"]
    assert "candidates" not in payment and "assigned_by" not in payment
    (dispute,) = document["disputes"]
    assert dispute["reason_text"] == erika.messages[4]
    (handoff,) = document["handoffs"]
    assert handoff["outcome"] == "Frau Privatmann angerufen"
    assert [n["text"] for n in handoff["notes"]] == ["Erika Privatmann ruft zurück"]
    assert "assigned_agent_id" not in handoff and "agent_id" not in handoff["notes"][0]

    conversations = {c["id"]: c for c in document["conversations"]}
    assert set(conversations) == set(erika.conversations)
    assert conversations["web-erika-1"]["linked_by"] == "verified"
    assert conversations["voice:CAprivacy0001"]["linked_by"] == "phone"
    said = [m["text"] for c in conversations.values() for m in c["messages"]]
    for text in erika.messages[:5]:
        assert text in said
    whatsapp = conversations["whatsapp:+4917099887766"]
    assert whatsapp["attachments"][0]["transcript"] == erika.messages[5]
    assert whatsapp["whatsapp_contact"]["opted_out_at"] is not None
    assert "debtor_hint_ids" not in whatsapp["whatsapp_contact"]
    assert conversations["voice:CAprivacy0001"]["voice_calls"][0]["caller"] == erika.phone

    assert [r["kind"] for r in document["privacy_requests"]] == ["access"]
    kinds = {e["kind"] for e in document["audit_events"]}
    assert {"verification_succeeded", "promise_recorded", "whatsapp_opt_out"} <= kinds
    json.dumps(document)  # plain JSON all the way down


def test_the_export_holds_nothing_about_anyone_else(db_session: Session, people: People) -> None:
    text = json.dumps(_export(db_session, debtor_id=people.erika.debtor_id), ensure_ascii=False)
    otto = people.otto
    for needle in [*otto.references, *otto.conversations, *otto.messages]:
        assert needle not in text
    for values in otto.identity.values():
        for needle in values:
            assert needle not in text, needle
    # And the other way round.
    text = json.dumps(_export(db_session, reference="PRIV-B-1"), ensure_ascii=False)
    for values in people.erika.needles.values():
        for needle in values:
            assert needle not in text, needle


def test_a_person_is_named_by_debtor_id_or_by_any_of_their_references(
    db_session: Session, people: People
) -> None:
    by_id = _export(db_session, debtor_id=people.erika.debtor_id)
    for reference in people.erika.references:
        by_reference = _export(db_session, reference=reference)
        assert {**by_reference, "generated_at": None} == {**by_id, "generated_at": None}


def _headers(client: TestClient, email: str) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_agents_open_a_masked_export_and_every_opening_is_audited(
    db_session: Session, people: People, client: TestClient, auth_headers: dict[str, str]
) -> None:
    erika = people.erika
    response = client.get(
        "/api/privacy/export", params={"reference": "PRIV-A-1"}, headers=auth_headers
    )
    assert response.status_code == 200, response.text
    document = response.json()
    debtor = document["debtor"]
    assert debtor["name"] == erika.name
    assert debtor["date_of_birth"] == "**.**.1961"
    assert debtor["postcode"] == "80***"
    assert debtor["email"] == "e***@example.org"
    assert debtor["phone"] != erika.phone and debtor["phone"].endswith("66")
    ids = [c["id"] for c in document["conversations"]]
    assert "whatsapp:+4917099887766" not in ids and "web-erika-1" in ids

    (opened,) = audit_service.list_events(db_session=db_session, kind="privacy_export_opened")
    agent = agent_service.get_by_email(db_session=db_session, email="agent@quitt.example")
    assert opened.data == {
        "debtor_id": erika.debtor_id,
        "actor": f"agent:{agent.id}",
        "masked": True,
    }  # type: ignore[union-attr]
    assert opened.created_at is not None


def test_only_a_supervisor_opens_an_unmasked_export(
    db_session: Session, people: People, client: TestClient, auth_headers: dict[str, str]
) -> None:
    params = {"debtor_id": people.erika.debtor_id, "unmasked": "true"}
    assert client.get("/api/privacy/export", params=params, headers=auth_headers).status_code == 403
    agent_service.create_agent(
        db_session=db_session, email="boss@quitt.example", password=PASSWORD, role="supervisor"
    )
    response = client.get(
        "/api/privacy/export", params=params, headers=_headers(client, "boss@quitt.example")
    )
    assert response.status_code == 200, response.text
    assert response.json()["debtor"]["date_of_birth"] == "1961-07-23"
    events = audit_service.list_events(db_session=db_session, kind="privacy_export_opened")
    assert [e.data["masked"] for e in events] == [False]  # type: ignore[index]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({}, 400),
        ({"debtor_id": 1, "reference": "PRIV-A-1"}, 400),
        ({"reference": "NO-SUCH-CLAIM"}, 404),
        ({"debtor_id": 2**31 - 1}, 404),
        ({"debtor_id": 2**40}, 422),
    ],
)
def test_the_export_names_one_existing_person(
    people: People,
    client: TestClient,
    auth_headers: dict[str, str],
    params: dict[str, Any],
    status: int,
) -> None:
    response = client.get("/api/privacy/export", params=params, headers=auth_headers)
    assert response.status_code == status, response.text


def test_the_export_needs_an_agent(people: People, client: TestClient) -> None:
    assert client.get("/api/privacy/export", params={"reference": "PRIV-A-1"}).status_code == 401


def test_agents_list_privacy_requests_and_mark_them_done(
    db_session: Session, people: People, client: TestClient, auth_headers: dict[str, str]
) -> None:
    listed = client.get("/api/privacy/requests", params={"status": "open"}, headers=auth_headers)
    assert listed.status_code == 200, listed.text
    (request,) = [r for r in listed.json() if r["conversation_id"] == "web-erika-1"]
    assert (request["kind"], request["debtor_id"], request["claim_reference"]) == (
        "access", people.erika.debtor_id, "PRIV-A-1",
    )  # fmt: skip
    done = client.post(f"/api/privacy/requests/{request['id']}/done", headers=auth_headers)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done"
    again = client.post(f"/api/privacy/requests/{request['id']}/done", headers=auth_headers)
    assert again.status_code == 409
    kinds = [
        e.kind
        for e in audit_service.list_events(db_session=db_session, conversation_id="web-erika-1")
    ]
    assert kinds.count("privacy_request_recorded") == 1
    assert kinds.count("privacy_request_done") == 1


# --- review of issue 15 -------------------------------------------------------------------


def _texts_of(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False)


def test_a_household_phone_does_not_hand_over_the_other_persons_whatsapp_chat(
    db_session: Session, people: People
) -> None:
    share_the_household_phone(db_session, people)
    held = holdings(
        db_session=db_session, debtor=find_person(db_session=db_session, reference="PRIV-B-1")
    )
    whatsapp = people.erika.conversations[0]
    assert whatsapp not in held.conversations  # it verified Erika: hers
    assert held.not_touched == {whatsapp: "phone"}
    document = _export(db_session, reference="PRIV-B-1")
    assert whatsapp not in [c["id"] for c in document["conversations"]]
    text = _texts_of(document)
    for said in people.erika.messages[:3]:
        assert said not in text


def test_another_debtor_typing_her_details_in_his_chat_is_not_her_data(
    db_session: Session, people: People
) -> None:
    otto_writes_erikas_contact(db_session)
    held = holdings(
        db_session=db_session, debtor=find_person(db_session=db_session, reference="PRIV-A-1")
    )
    assert "web-otto-1" not in held.conversations
    assert held.not_touched == {"web-otto-1": "content"}
    text = _texts_of(_export(db_session, debtor_id=people.erika.debtor_id))
    assert OTTO_ABOUT_ERIKA not in text and people.otto.messages[0] not in text


def test_the_export_holds_her_unmatched_and_misallocated_payments_and_only_her_part(
    db_session: Session, people: People
) -> None:
    ids = seed_other_payments(db_session)
    document = _export(db_session, debtor_id=people.erika.debtor_id)
    payments = {p["transaction_id"]: p for p in document["payments"]}
    assert set(payments) == {
        "TX-PRIV-1",
        ids.by_name,
        ids.by_reference,
        ids.split,
        ids.misallocated,
    }
    assert payments[ids.by_name]["payer"] == "  ERIKA   privatmann "
    assert payments[ids.by_reference]["remittance"] == "Zahlung priv a 2 danke"
    split = payments[ids.split]
    assert [(a["claim_reference"], a["amount"]) for a in split["allocations"]] == [
        ("PRIV-A-1", "30.00")
    ]
    # Otto paid it: his name and his words are his.
    assert (split["payer"], split["remittance"], split["claim_reference"]) == (None, None, None)
    assert split["paid_other_claims"] is True
    wrong = payments[ids.misallocated]
    assert (wrong["payer"], wrong["claim_reference"], wrong["allocations"]) == (
        people.erika.name, None, [],
    )  # fmt: skip
    assert payments["TX-PRIV-1"]["paid_other_claims"] is False
    text = _texts_of(document)
    for needle in [*people.otto.references, *people.otto.identity["name"]]:
        assert needle not in text, needle
    # In Otto's export, her payment booked to his claim does not name her.
    (hers,) = [
        p
        for p in _export(db_session, reference="PRIV-B-1")["payments"]
        if p["transaction_id"] == ids.misallocated
    ]
    assert (hers["payer"], hers["remittance"]) == (None, None)
    assert [a["amount"] for a in hers["allocations"]] == ["15.00"]


def test_the_masked_export_masks_her_identity_inside_every_text(
    db_session: Session, people: People, client: TestClient, auth_headers: dict[str, str]
) -> None:
    """Masked: the transcripts stay in, her date of birth, postcode, phone and e-mail not."""
    erika = people.erika
    conversations_service.add_message(
        db_session=db_session, sender_id="web-erika-1", direction="in", author="debtor",
        text="Nochmal: 23.7.61, Tel. 0170 998 877 66, PLZ 80331",
    )  # fmt: skip
    response = client.get(
        "/api/privacy/export", params={"reference": "PRIV-A-1"}, headers=auth_headers
    )
    assert response.status_code == 200, response.text
    document = response.json()
    text = _texts_of(document)
    for kind in ("date of birth", "phone", "e-mail"):
        for needle in erika.identity[kind]:
            assert needle.casefold() not in text.casefold(), needle
    assert not re.search(r"(?<!\d)80331(?!\d)", text)
    assert "0170 998" not in text and "23.7.61" not in text
    said = [m["text"] for c in document["conversations"] for m in c["messages"]]
    assert "geboren am **.**.1961, wohne in 80***" in said
    assert "Meine Mail ist e***@example.org, bitte dorthin schreiben" in said
    assert "Nochmal: **.**.1961, Tel. +49******66, PLZ 80***" in said
    assert erika.messages[3] in said  # what proves nothing stays as written
    # The person's own copy is unmasked.
    agent_service.create_agent(
        db_session=db_session, email="boss@quitt.example", password=PASSWORD, role="supervisor"
    )
    full = client.get(
        "/api/privacy/export",
        params={"reference": "PRIV-A-1", "unmasked": "true"},
        headers=_headers(client, "boss@quitt.example"),
    ).json()
    said = [m["text"] for c in full["conversations"] for m in c["messages"]]
    assert erika.messages[1] in said
