"""The `quitt-claims/1` import and the claims API."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.claims import service as claim_service
from domain.claims.models import Claim, Creditor, Debtor
from domain.conversations import service as conversation_service
from domain.disputes import service as dispute_service
from domain.errors import ValidationFailed
from domain.handoffs import service as handoff_service
from domain.promises import service as promise_service


def _count(db_session: Session, model: type[Any]) -> int:
    return db_session.scalar(select(func.count()).select_from(model)) or 0


def test_import_demo_fixture(db_session: Session, imported: claim_service.ImportReport) -> None:
    assert imported.as_dict() == {
        "creditors": {"created": 3, "updated": 0, "unchanged": 0},
        "debtors": {"created": 9, "updated": 0, "unchanged": 0},
        "claims": {"created": 10, "updated": 0, "unchanged": 0},
    }
    assert (_count(db_session, Creditor), _count(db_session, Debtor)) == (3, 9)
    assert _count(db_session, Claim) == 10

    first = claim_service.get_by_reference(db_session=db_session, reference="260000158")
    second = claim_service.get_by_reference(db_session=db_session, reference="260000166")
    assert first is not None and second is not None
    assert first.debtor_id == second.debtor_id
    assert first.debtor.name == "Sabine Krüger"
    claims = claim_service.list_for_debtor(db_session=db_session, debtor_id=first.debtor_id)
    assert {c.reference for c in claims} == {"260000158", "260000166"}

    jana = claim_service.get_by_reference(db_session=db_session, reference="260000117")
    assert jana is not None
    assert (jana.principal, jana.interest, jana.fees) == (
        Decimal("412.50"),
        Decimal("9.18"),
        Decimal("54.00"),
    )
    assert jana.total == Decimal("475.68")
    assert jana.debtor.date_of_birth == date(1987, 3, 14)
    assert jana.creditor.name == "Stadtwerke Musterstadt GmbH"
    statuses = {c.reference: c.status for c in db_session.scalars(select(Claim))}
    assert statuses["260000182"] == "disputed"
    assert statuses["260000190"] == "insolvency"
    assert statuses["260000204"] == "paid"


def test_reimport_is_idempotent(
    db_session: Session, demo_data: dict[str, Any], imported: claim_service.ImportReport
) -> None:
    again = claim_service.import_claims(db_session=db_session, data=demo_data)
    assert not again.changed
    assert again.as_dict() == {
        "creditors": {"created": 0, "updated": 0, "unchanged": 3},
        "debtors": {"created": 0, "updated": 0, "unchanged": 9},
        "claims": {"created": 0, "updated": 0, "unchanged": 10},
    }
    assert _count(db_session, Claim) == 10


def test_reimport_with_changed_amount_updates_the_claim(
    db_session: Session, demo_data: dict[str, Any], imported: claim_service.ImportReport
) -> None:
    changed = copy.deepcopy(demo_data)
    changed["claims"][0]["fees"] = "60.00"
    report = claim_service.import_claims(db_session=db_session, data=changed)
    assert (report.claims.updated, report.claims.unchanged, report.claims.created) == (1, 9, 0)
    claim = claim_service.get_by_reference(db_session=db_session, reference="260000117")
    assert claim is not None and claim.fees == Decimal("60.00")


def test_broken_claim_in_the_middle_writes_nothing(
    db_session: Session, demo_data: dict[str, Any]
) -> None:
    demo_data["claims"][3]["principal"] = "12,x"
    with pytest.raises(ValidationFailed) as caught:
        claim_service.import_claims(db_session=db_session, data=demo_data)
    assert caught.value.errors == [
        "claims[3] (reference 260000141): principal: not a decimal amount: '12,x'"
    ]
    assert "claims[3] (reference 260000141): principal" in caught.value.message
    assert _count(db_session, Claim) == 0
    assert _count(db_session, Creditor) == 0
    assert _count(db_session, Debtor) == 0


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("interest",), "1.234", "claims[2] (reference 260000133): interest: more than 2 decimal"),
        (("fees",), "-1.00", "claims[2] (reference 260000133): fees: must not be negative"),
        (("principal",), 12.5, "claims[2] (reference 260000133): principal: amounts are decimal"),
        (("due_date",), "30.04.2026", "claims[2] (reference 260000133): due_date: not an ISO date"),
        (("status",), "closed", "claims[2] (reference 260000133): status: Input should be"),
        (("currency",), "euro", "claims[2] (reference 260000133): currency: String should match"),
        (("creditor",), "nobody", "claims[2] (reference 260000133): creditor: unknown creditor"),
        (("reference",), "260000117", "claims[2] (reference 260000117): reference: duplicate of"),
        (("debtor", "phone"), "0151 123", "claims[2] (reference 260000133): debtor.phone: not an"),
        (("debtor", "language"), "fr", "claims[2] (reference 260000133): debtor.language: Input"),
    ],
)
def test_each_kind_of_error_names_claim_and_field(
    db_session: Session,
    demo_data: dict[str, Any],
    path: tuple[str, ...],
    value: Any,
    expected: str,
) -> None:
    target = demo_data["claims"][2]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValidationFailed) as caught:
        claim_service.import_claims(db_session=db_session, data=demo_data)
    assert any(line.startswith(expected) for line in caught.value.errors), caught.value.errors
    assert _count(db_session, Claim) == 0


def test_errors_never_echo_a_date_of_birth_or_phone(
    db_session: Session, demo_data: dict[str, Any]
) -> None:
    demo_data["claims"][0]["debtor"]["date_of_birth"] = "1987-13-14"
    demo_data["claims"][1]["debtor"]["phone"] = "+49-176-2223"
    with pytest.raises(ValidationFailed) as caught:
        claim_service.import_claims(db_session=db_session, data=demo_data)
    text = "\n".join(caught.value.errors)
    assert "claims[0] (reference 260000117): debtor.date_of_birth" in text
    assert "1987-13-14" not in text and "2223" not in text


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([], "top level must be a JSON object"),
        ({"format": "quitt-claims/2", "creditors": [], "claims": []}, "format is 'quitt-claims/2'"),
        ({"creditors": [], "claims": []}, "format is None"),
        ({"format": "quitt-claims/1", "creditors": []}, "claims: Field required"),
    ],
)
def test_wrong_format_is_refused(db_session: Session, data: Any, expected: str) -> None:
    with pytest.raises(ValidationFailed, match=expected):
        claim_service.import_claims(db_session=db_session, data=data)


def test_malformed_json_file_is_refused(db_session: Session, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "quitt-claims/1",\n  "claims": [,]}', encoding="utf-8")
    with pytest.raises(ValidationFailed, match=r"malformed JSON at line 2, column"):
        claim_service.import_file(db_session=db_session, path=broken)
    assert _count(db_session, Claim) == 0


def test_import_file_reads_the_fixture(db_session: Session, demo_claims_path: Path) -> None:
    report = claim_service.import_file(db_session=db_session, path=demo_claims_path)
    assert report.claims.created == 10
    assert json.loads(demo_claims_path.read_text())["format"] == "quitt-claims/1"


# --- HTTP ----------------------------------------------------------------------------


def test_claim_api_shape(
    client: TestClient,
    auth_headers: dict[str, str],
    db_session: Session,
    imported: claim_service.ImportReport,
) -> None:
    conversation_service.get_or_create(db_session=db_session, sender_id="web-1", channel="web")
    promise_service.create(
        db_session=db_session,
        claim_references=["260000117"],
        kind="instalment_plan",
        amount=Decimal("475.68"),
        discount=Decimal("0"),
        due_date=date(2026, 6, 1),
        instalments=[
            (1, Decimal("158.56"), date(2026, 6, 1)),
            (2, Decimal("158.56"), date(2026, 7, 1)),
            (3, Decimal("158.56"), date(2026, 8, 1)),
        ],
        channel="web",
        conversation_id="web-1",
        policy_version="default@1",
        idempotency_key="web-1:plan",
    )
    dispute_service.create(
        db_session=db_session,
        claim_reference="260000117",
        conversation_id="web-1",
        reason_text="Zähler falsch abgelesen",
    )
    handoff_service.open_handoff(
        db_session=db_session,
        conversation_id="web-1",
        channel="web",
        reason="dispute",
        claim_reference="260000117",
    )

    response = client.get("/api/claims/260000117", headers=auth_headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["creditor"] == {
        "id": "stadtwerke-musterstadt",
        "name": "Stadtwerke Musterstadt GmbH",
    }
    assert body["debtor"] == {"name": "Jana Becker", "language": "de", "phone": "+49******78"}
    assert "1987" not in response.text and "+4915112345678" not in response.text
    assert (body["principal"], body["interest"], body["fees"], body["total"]) == (
        "412.50",
        "9.18",
        "54.00",
        "475.68",
    )
    assert body["status"] == "open"
    assert body["currency"] == "EUR"
    assert body["due_date"] == "2026-04-30"
    [promise] = body["promises"]
    assert promise["kind"] == "instalment_plan"
    assert (promise["amount"], promise["discount"]) == ("475.68", "0.00")
    assert promise["due_date"] == "2026-06-01"
    assert promise["status"] == "pending"
    assert promise["channel"] == "web"
    assert promise["created_at"]
    assert promise["instalments"] == [
        {"number": 1, "amount": "158.56", "due_date": "2026-06-01", "status": "pending"},
        {"number": 2, "amount": "158.56", "due_date": "2026-07-01", "status": "pending"},
        {"number": 3, "amount": "158.56", "due_date": "2026-08-01", "status": "pending"},
    ]
    assert (body["balance"], body["payments"]) == ("475.68", [])
    [dispute] = body["disputes"]
    assert dispute["reason_text"] == "Zähler falsch abgelesen"
    assert dispute["status"] == "open"
    [handoff] = body["handoffs"]
    assert (handoff["sender"], handoff["reason"], handoff["state"]) == (
        "web-1",
        "dispute",
        "queued",
    )


def test_claim_api_unknown_reference_is_404(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    response = client.get("/api/claims/999999999", headers=auth_headers)
    assert response.status_code == 404
    assert response.json() == {"detail": "claim 999999999 not found"}


@pytest.mark.parametrize("header", [None, "Bearer nonsense", "Basic YWxhZGRpbjpvcGVuc2VzYW1l"])
def test_claim_api_needs_a_valid_token(
    client: TestClient, imported: claim_service.ImportReport, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/claims/260000117", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
