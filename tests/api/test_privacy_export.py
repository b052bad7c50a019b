"""Exports (CLI and `GET /api/privacy/export`): everything about one person, no one else."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.agents import service as agent_service
from api.audit import service as audit_service
from api.privacy.export import export_person
from api.privacy.person import find_person, holdings
from tests.api.conftest import PASSWORD
from tests.api.privacy_people import People, seed


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
