"""An agent assigns an unmatched payment to a claim, on SQLite and PostgreSQL.

`POST /api/payments/{id}/assign` allocates through the import's own allocation (oldest
instalment first), then sweeps: instalments and the promise move to kept, the claim to
paid; the assignment is audited with the agent's id. A second assignment is a 409, an
unknown claim a 404 that changes nothing, and without a token it is a 401.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.payments.views import today as clock
from domain.agents.models import Agent
from domain.audit import service as audit_service
from domain.claims import service as claim_service
from domain.payments.models import Payment
from policy.masking import mask_name
from tests.api.test_payments_import import JANA, claim, csv_statement, jana_plan, run, statuses


@pytest.fixture(autouse=True)
def _demo(imported: claim_service.ImportReport) -> None:
    """Every test starts from the demo claims."""


@pytest.fixture
def unmatched(db_session: Session, tmp_path: Path) -> Payment:
    """Jana's plan (200, 200, 75.68 from 15 May) and her 475.68 in full, without a reference."""
    jana_plan(db_session)
    path = csv_statement(tmp_path, ("U-475", "2026-05-14", "475.68", "Strom Becker alles"))
    assert run(db_session, path, "2026-05-15").unmatched == 1
    [payment] = [p for p in db_session.query(Payment) if p.transaction_id == "U-475"]
    return payment


@pytest.fixture
def on_15_may(app: FastAPI) -> None:
    app.dependency_overrides[clock] = lambda: date(2026, 5, 15)


def test_assigning_pays_the_plan_and_the_claim(
    client: TestClient,
    auth_headers: dict[str, str],
    agent: Agent,
    db_session: Session,
    unmatched: Payment,
    on_15_may: None,
) -> None:
    [listed] = client.get("/api/payments/unmatched", headers=auth_headers).json()
    assert (listed["id"], listed["transaction_id"], listed["booked_on"]) == (
        unmatched.id,
        "U-475",
        "2026-05-14",
    )
    assert (listed["payer"], listed["payer_masked"]) == ("Erika Muster", "E*** M***")
    assert listed["remittance"] == "Strom Becker alles"

    answer = client.post(
        f"/api/payments/{unmatched.id}/assign",
        json={"reference": f" {JANA} "},
        headers=auth_headers,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["state"], body["claim_reference"], body["unallocated"]) == (
        "assigned",
        JANA,
        "0.00",
    )
    # Oldest instalment first: 200, 200 and 75.68.
    assert [a["amount"] for a in body["allocations"]] == ["200.00", "200.00", "75.68"]
    [promise] = claim(db_session, JANA).promises
    assert statuses(promise) == ["kept", "kept", "kept"]
    assert promise.status == "kept"
    assert claim(db_session, JANA).status == "paid"
    assert unmatched.assigned_by == agent.id
    [event] = audit_service.list_events(db_session=db_session, kind="payment_assigned")
    assert event.data is not None
    assert (event.claim_reference, event.data["agent_id"]) == (JANA, agent.id)
    assert event.data["payment_id"] == unmatched.id
    kinds = {e.kind for e in audit_service.list_events(db_session=db_session)}
    assert {"instalment_kept", "promise_kept", "claim_paid"} <= kinds
    assert client.get("/api/payments/unmatched", headers=auth_headers).json() == []


def test_a_second_assignment_is_a_conflict(
    client: TestClient, auth_headers: dict[str, str], unmatched: Payment, on_15_may: None
) -> None:
    first = client.post(
        f"/api/payments/{unmatched.id}/assign", json={"reference": JANA}, headers=auth_headers
    )
    assert first.status_code == 200, first.text
    second = client.post(
        f"/api/payments/{unmatched.id}/assign",
        json={"reference": "260000125"},
        headers=auth_headers,
    )
    assert second.status_code == 409, second.text
    assert f"payment {unmatched.id} is assigned, not unmatched" in second.text
    assert unmatched.claim_reference == JANA


def test_the_claim_may_be_named_claim_reference(
    client: TestClient, auth_headers: dict[str, str], unmatched: Payment, on_15_may: None
) -> None:
    answer = client.post(
        f"/api/payments/{unmatched.id}/assign",
        json={"claim_reference": JANA},
        headers=auth_headers,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["claim_reference"] == JANA
    missing = client.post(
        f"/api/payments/{unmatched.id}/assign", json={"claim": JANA}, headers=auth_headers
    )
    assert missing.status_code == 422
    assert "reference" in missing.text


def test_an_unknown_claim_is_not_found_and_changes_nothing(
    client: TestClient,
    auth_headers: dict[str, str],
    db_session: Session,
    unmatched: Payment,
    on_15_may: None,
) -> None:
    answer = client.post(
        f"/api/payments/{unmatched.id}/assign",
        json={"reference": "999999999"},
        headers=auth_headers,
    )
    assert answer.status_code == 404, answer.text
    assert "claim 999999999 not found" in answer.text
    db_session.refresh(unmatched)
    assert (unmatched.state, unmatched.claim_reference, unmatched.allocations) == (
        "unmatched",
        None,
        [],
    )
    assert audit_service.list_events(db_session=db_session, kind="payment_assigned") == []
    unknown = client.post(
        "/api/payments/424242/assign", json={"reference": JANA}, headers=auth_headers
    )
    assert unknown.status_code == 404
    assert "payment 424242 not found" in unknown.text


@pytest.mark.parametrize("reference", ["", "26 00 117; DROP", "x" * 41])
def test_a_malformed_reference_is_refused(
    client: TestClient, auth_headers: dict[str, str], unmatched: Payment, reference: str
) -> None:
    answer = client.post(
        f"/api/payments/{unmatched.id}/assign", json={"reference": reference}, headers=auth_headers
    )
    assert answer.status_code == 422, answer.text
    assert "reference" in answer.text


def test_only_agents_see_and_assign_payments(
    client: TestClient, db_session: Session, unmatched: Payment
) -> None:
    assert client.get("/api/payments/unmatched").status_code == 401
    answer = client.post(f"/api/payments/{unmatched.id}/assign", json={"reference": JANA})
    assert answer.status_code == 401
    forged = {"Authorization": "Bearer forged"}
    answer = client.post(
        f"/api/payments/{unmatched.id}/assign", json={"reference": JANA}, headers=forged
    )
    assert answer.status_code == 401
    db_session.refresh(unmatched)
    assert unmatched.state == "unmatched"


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("Erika Muster", "E*** M***"),
        ("Murat Yılmaz", "M*** Y***"),
        ("  Jean-Luc   de la Tour ", "J*** d*** l*** T***"),
        ("", "***"),
    ],
)
def test_a_payer_s_name_is_masked_to_initials(name: str, masked: str) -> None:
    assert mask_name(name) == masked
