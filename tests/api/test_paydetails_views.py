"""`/pay/qr/{token}.png` and `/pay/agreement/{token}.html|pdf`: the right data, or a plain 404."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from domain.claims import service as claim_service
from domain.claims.models import Creditor
from domain.config import get_settings
from domain.paydetails import links
from domain.paydetails.accounts import agency_account
from domain.paydetails.details import for_promise
from domain.promises import service as promise_service
from domain.promises.models import Promise
from tests.paydetails.qr import epc_fields

pytestmark = pytest.mark.usefixtures("imported")

OWN_IBAN = "DE02120300000000202051"


def full_payment(db_session: Session, reference: str = "260000117") -> Promise:
    claim = claim_service.get_by_reference(db_session=db_session, reference=reference)
    assert claim is not None
    return promise_service.create(
        db_session=db_session,
        claim_references=[reference],
        kind="full",
        amount=claim.total,
        due_date=date(2026, 12, 21),
        channel="rest",
        conversation_id="pay-test",
        policy_version="default@test",
        idempotency_key=None,
    )


def plan_over_two_claims(db_session: Session) -> Promise:
    # Sabine Krüger: 1,304.27 + 343.25 = 1,647.52 in 16 x 100.00 and 47.52.
    amounts = [Decimal("100.00")] * 16 + [Decimal("47.52")]
    return promise_service.create(
        db_session=db_session,
        claim_references=["260000158", "260000166"],
        kind="instalment_plan",
        amount=Decimal("1647.52"),
        due_date=date(2027, 1, 5),
        instalments=[
            (k + 1, value, date(2027 + (k // 12), k % 12 + 1, 5)) for k, value in enumerate(amounts)
        ],
        channel="rest",
        conversation_id="pay-test",
        policy_version="default@test",
        idempotency_key=None,
    )


def token(promise: Promise, purpose: links.Purpose = "qr", **changes: object) -> str:
    values: dict[str, object] = {
        "purpose": purpose,
        "promise_id": promise.id,
        "language": "de",
        "block": 0,
        "expires": datetime.now(UTC) + timedelta(days=30),
    }
    values.update(changes)
    return links.make_token(links.link_key(get_settings()), links.Link(**values))  # type: ignore[arg-type]


def test_the_qr_code_is_a_png_with_the_payment_data(
    client: TestClient, db_session: Session
) -> None:
    promise = full_payment(db_session)
    response = client.get(f"/pay/qr/{token(promise)}.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    fields = epc_fields(response.content)
    assert fields[:8] == [
        "BCD",
        "002",
        "1",
        "SCT",
        "COBADEFFXXX",
        "Quitt Inkasso GmbH (Testkonto)",
        "DE89370400440532013000",
        "EUR475.68",
    ]
    assert fields[10] == "260000117"


def test_a_creditors_own_account_and_each_payee_its_own_code(
    client: TestClient, db_session: Session
) -> None:
    creditor = db_session.get(Creditor, "stadtwerke-musterstadt")
    assert creditor is not None
    creditor.iban, creditor.bic = OWN_IBAN, "BYLADEM1001"
    promise = plan_over_two_claims(db_session)
    # Both claims are Stadtwerke's: one payee, one transfer a month for both references.
    fields = epc_fields(client.get(f"/pay/qr/{token(promise)}.png").content)
    assert (fields[4], fields[5], fields[6]) == (
        "BYLADEM1001",
        "Stadtwerke Musterstadt GmbH",
        OWN_IBAN,
    )
    assert (fields[7], fields[10]) == ("EUR100", "260000158 260000166")
    assert client.get(f"/pay/qr/{token(promise, block=1)}.png").status_code == 404


def test_a_plan_over_two_payees_splits_every_instalment(db_session: Session) -> None:
    creditor = db_session.get(Creditor, "stadtwerke-musterstadt")
    assert creditor is not None
    creditor.iban = OWN_IBAN
    claim = claim_service.get_by_reference(db_session=db_session, reference="260000166")
    assert claim is not None
    claim.creditor_id = "modehaus-nord"  # paid to the agency
    db_session.flush()
    db_session.expire_all()
    promise = plan_over_two_claims(db_session)
    details = for_promise(
        db_session=db_session, promise_id=promise.id, agency=agency_account(get_settings())
    )
    assert details is not None
    own, agency = details.blocks
    assert (own.account.iban, own.references) == (OWN_IBAN, ("260000158",))
    assert (agency.account.iban, agency.references) == (
        "DE89370400440532013000",
        ("260000166",),
    )
    assert own.amount == Decimal("1304.27") and agency.amount == Decimal("343.25")
    for k, scheduled in enumerate(details.schedule):
        assert own.instalments[k] + agency.instalments[k] == scheduled.amount
    assert own.first_amount + agency.first_amount == Decimal("100.00")


def test_the_agreement_page_has_schedule_breakdown_and_payment_details(
    client: TestClient, db_session: Session
) -> None:
    promise = plan_over_two_claims(db_session)
    response = client.get(f"/pay/agreement/{token(promise, 'agreement')}.html")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    page = response.text.replace("\u00a0", " ")
    for expected in (
        "Ratenzahlungsvereinbarung",
        "Stadtwerke Musterstadt GmbH",
        "1.180,00 €",  # principal, interest and fees apart
        "31,27 €",
        "93,00 €",
        "1.304,27 €",
        "1.647,52 €",
        "17 Monatsraten",
        "05.05.2028",
        "47,52 €",
        "DE89 3704 0044 0532 0130 00",
        "COBADEFFXXX",
        "260000158 260000166",
        'src="data:image/png;base64,',
        ".pdf",
    ):
        assert expected in page, expected
    # Nothing about the person: no name, no date of birth, no postcode.
    for private in ("Krüger", "Sabine", "1962", "22085", "Geburt"):
        assert private not in page


def test_the_agreement_in_english_and_as_a_pdf(client: TestClient, db_session: Session) -> None:
    promise = plan_over_two_claims(db_session)
    code = token(promise, "agreement", language="en")
    page = client.get(f"/pay/agreement/{code}.html").text.replace("\u00a0", " ")
    assert "Instalment agreement" in page and "€1,647.52" in page and "5 May 2028" in page
    response = client.get(f"/pay/agreement/{code}.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert b"/Image" in response.content  # the QR code is drawn into it
    assert 'filename="agreement-' in response.headers["content-disposition"]


def test_forged_expired_and_wrong_links_all_get_the_same_404(
    client: TestClient, db_session: Session
) -> None:
    promise = full_payment(db_session)
    good = token(promise)
    forged = good[:-2] + ("aa" if good[-2:] != "aa" else "bb")
    expired = token(promise, expires=datetime.now(UTC) - timedelta(seconds=1))
    unknown = token(promise, promise_id=promise.id + 1000)
    for path in (
        f"/pay/qr/{forged}.png",
        f"/pay/qr/{expired}.png",
        f"/pay/qr/{unknown}.png",
        f"/pay/qr/{token(promise, 'agreement')}.png",  # an agreement token opens no QR code
        f"/pay/agreement/{good}.html",  # nor a QR token the agreement
        f"/pay/agreement/{good}.pdf",
        "/pay/qr/nonsense.png",
        f"/pay/agreement/{expired}.pdf",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "no such link"}, path
    assert client.get(f"/pay/qr/{good}.png").status_code == 200


def test_a_cancelled_promise_has_no_payment_links(client: TestClient, db_session: Session) -> None:
    promise = full_payment(db_session)
    promise_service.set_status(db_session=db_session, promise_id=promise.id, status="cancelled")
    assert client.get(f"/pay/qr/{token(promise)}.png").status_code == 404


def test_the_links_are_not_in_the_api_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith("/pay")]
