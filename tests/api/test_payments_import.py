"""Payments in, on SQLite and PostgreSQL: import once, allocate, kept or broken, claims paid."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.payments.views import today as clock
from domain.audit import service as audit_service
from domain.claims import service as claim_service
from domain.claims.models import Claim
from domain.errors import ValidationFailed
from domain.payments import ledger
from domain.payments import service as payment_service
from domain.payments.models import Payment, PaymentAllocation
from domain.payments.sweep import sweep
from domain.promises import service as promise_service
from domain.promises.models import Promise
from policy.config import DEFAULT_POLICY, default_book

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "payments"
D = Decimal
BOOK = default_book()
JANA, MURAT, EMILY, DANIEL = "260000117", "260000125", "260000141", "260000174"
# Sabine Krüger's two claims at the same creditor: 1,304.27 and 343.25.
SABINE_OLD, SABINE_NEW = "260000158", "260000166"


@pytest.fixture(autouse=True)
def _demo(imported: claim_service.ImportReport) -> None:
    """Every test starts from the demo claims."""


def plan(
    db_session: Session,
    references: list[str],
    instalments: list[tuple[str, str]],
    kind: str = "instalment_plan",
    discount: str = "0.00",
) -> Promise:
    """Record a promise: instalments as (amount, due date) pairs, or one (amount, due)."""
    schedule = [
        (n, D(amount), date.fromisoformat(due)) for n, (amount, due) in enumerate(instalments, 1)
    ]
    return promise_service.create(
        db_session=db_session,
        claim_references=references,
        kind=kind,
        amount=sum((amount for _, amount, _ in schedule), D("0.00")),
        discount=D(discount),
        due_date=schedule[0][2],
        instalments=schedule if kind == "instalment_plan" else (),
        channel="web",
        conversation_id="web-payments",
        policy_version=DEFAULT_POLICY.version,
        idempotency_key=None,
    )


def jana_plan(db_session: Session) -> Promise:
    """Jana Becker's 475.68 in three instalments: 200, 200, 75.68 (15 May, June, July)."""
    return plan(
        db_session,
        [JANA],
        [("200.00", "2026-05-15"), ("200.00", "2026-06-15"), ("75.68", "2026-07-15")],
    )


def csv_statement(tmp_path: Path, *rows: tuple[str, str, str, str]) -> Path:
    """Write a CSV statement of (transaction id, booking date, amount, remittance) rows."""
    lines = ["transaction_id;booking_date;amount;remittance;payer"]
    lines += [f"{tid};{day};{amount};{text};Erika Muster" for tid, day, amount, text in rows]
    path = tmp_path / f"statement-{len(list(tmp_path.iterdir()))}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(db_session: Session, path: Path, today: str) -> payment_service.PaymentsReport:
    return payment_service.import_file(
        db_session=db_session, path=path, today=date.fromisoformat(today), policy_book=BOOK
    )


def count(db_session: Session, model: Any) -> int:
    return db_session.scalar(select(func.count()).select_from(model)) or 0


def statuses(promise: Promise) -> list[str]:
    return [instalment.status for instalment in promise.instalments]


def claim(db_session: Session, reference: str) -> Claim:
    found = db_session.get(Claim, reference)
    assert found is not None
    return found


def test_a_camt_statement_imported_twice_leaves_one_payment_and_a_paid_first_instalment(
    db_session: Session,
) -> None:
    promise = jana_plan(db_session)
    report = run(db_session, FIXTURES / "camt053_001_02.xml", "2026-05-16")
    assert (report.credits, report.imported, report.matched, report.unmatched) == (3, 3, 2, 1)
    assert report.skipped == {"debit": 1, "not booked (PDNG)": 1}
    payments = {p.transaction_id: p for p in db_session.scalars(select(Payment))}
    first = payments["2026051500000101"]
    assert (first.claim_reference, first.state, first.match_reason) == (
        JANA,
        "matched",
        "reference",
    )
    [allocation] = first.allocations
    assert (allocation.instalment_id, allocation.amount) == (promise.instalments[0].id, D("200"))
    assert statuses(promise) == ["kept", "pending", "pending"]
    assert promise.status == "pending"
    assert ledger.balance(db_session=db_session, claim=claim(db_session, JANA)) == D("275.68")
    # A reference with a digit left out, and the claim's whole amount: matched, claim paid.
    typo = payments["2026051500000104"]
    assert (typo.claim_reference, typo.match_reason) == (MURAT, "reference_typo_and_amount")
    assert claim(db_session, MURAT).status == "paid"
    assert payments["NtryRef:2026-05-15:5"].state == "unmatched"

    audits = len(audit_service.list_events(db_session=db_session))
    again = run(db_session, FIXTURES / "camt053_001_02.xml", "2026-05-16")
    assert (again.imported, again.already_imported) == (0, 3)
    assert count(db_session, Payment) == 3
    assert count(db_session, PaymentAllocation) == 2
    assert statuses(promise) == ["kept", "pending", "pending"]
    # Only the import summary is new: no payment, allocation or status event twice.
    kinds = [e.kind for e in audit_service.list_events(db_session=db_session)[audits:]]
    assert kinds == ["payments_imported"]


def test_camt_001_08_batch_transfers_each_pay_their_claim(db_session: Session) -> None:
    promise = jana_plan(db_session)
    run(db_session, FIXTURES / "camt053_001_02.xml", "2026-05-16")
    report = run(db_session, FIXTURES / "camt053_001_08.xml", "2026-06-16")
    assert (report.imported, report.matched, report.skipped) == (3, 3, {"reversal": 1})
    assert statuses(promise) == ["kept", "kept", "pending"]
    assert claim(db_session, EMILY).status == "paid"
    daniel = claim(db_session, DANIEL)
    assert (daniel.status, ledger.balance(db_session=db_session, claim=daniel)) == (
        "open",
        D("156.66"),
    )


def test_one_payment_pays_several_instalments_then_the_plan_is_kept_and_the_claim_paid(
    db_session: Session, tmp_path: Path
) -> None:
    promise = jana_plan(db_session)
    run(
        db_session,
        csv_statement(tmp_path, ("T1", "10.05.2026", "450,00", "AZ 260000117")),
        "2026-05-10",
    )
    assert statuses(promise) == ["kept", "kept", "pending"]
    [payment] = db_session.scalars(select(Payment))
    assert [(a.instalment_id, a.amount) for a in payment.allocations] == [
        (promise.instalments[0].id, D("200.00")),
        (promise.instalments[1].id, D("200.00")),
        (promise.instalments[2].id, D("50.00")),
    ]
    run(
        db_session,
        csv_statement(tmp_path, ("T2", "01.07.2026", "25,68", "260000117")),
        "2026-07-01",
    )
    assert statuses(promise) == ["kept", "kept", "kept"]
    assert promise.status == "kept"
    jana = claim(db_session, JANA)
    assert (jana.status, ledger.balance(db_session=db_session, claim=jana)) == ("paid", D("0"))
    kinds = {e.kind for e in audit_service.list_events(db_session=db_session, claim_reference=JANA)}
    assert {"payment_received", "instalment_kept", "promise_kept", "claim_paid"} <= kinds


def test_a_payment_for_a_promise_over_two_claims_reaches_each_claim_s_part(
    db_session: Session, tmp_path: Path
) -> None:
    promise = plan(
        db_session,
        [SABINE_OLD, SABINE_NEW],
        [("600.00", "2026-05-15"), ("600.00", "2026-06-15"), ("447.52", "2026-07-15")],
    )
    first = promise.instalments[0]
    parts = {part.claim_reference: part.amount for part in first.parts}
    # The remittance names only one of the two claims: the promise covers both.
    run(
        db_session,
        csv_statement(tmp_path, ("S1", "2026-05-14", "700.00", "260000166")),
        "2026-05-15",
    )
    [payment] = db_session.scalars(select(Payment))
    assert payment.claim_reference == SABINE_NEW
    on_first = {
        a.claim_reference: a.amount for a in payment.allocations if a.instalment_id == first.id
    }
    assert on_first == parts  # the first instalment in full, each claim its part
    assert sum(a.amount for a in payment.allocations) == D("700.00")
    second = [a for a in payment.allocations if a.instalment_id == promise.instalments[1].id]
    assert {a.claim_reference for a in second} == {SABINE_OLD, SABINE_NEW}
    assert statuses(promise) == ["kept", "pending", "pending"]


def test_an_instalment_still_short_after_the_grace_days_breaks_the_promise(
    db_session: Session, tmp_path: Path
) -> None:
    promise = jana_plan(db_session)
    run(
        db_session,
        csv_statement(tmp_path, ("T1", "2026-05-15", "200.00", "260000117")),
        "2026-05-16",
    )
    run(
        db_session,
        csv_statement(tmp_path, ("T2", "2026-06-18", "150.00", "260000117")),
        "2026-06-18",
    )
    # Due 15 June, 5 days' grace: still pending on 20 June, broken from 21 June.
    sweep(db_session=db_session, today=date(2026, 6, 20), policies=BOOK)
    assert (promise.status, statuses(promise)) == ("pending", ["kept", "pending", "pending"])
    report = sweep(db_session=db_session, today=date(2026, 6, 21), policies=BOOK)
    assert report.promises_broken == [promise.id]
    assert (promise.status, statuses(promise)) == ("broken", ["kept", "broken", "pending"])
    [event] = audit_service.list_events(db_session=db_session, kind="promise_broken")
    assert (event.claim_reference, event.reasons) == (JANA, ["short_after_grace_days"])
    assert event.policy_version == BOOK.get("default").version
    # Later money goes to the balance: a broken plan expects nothing more.
    run(
        db_session,
        csv_statement(tmp_path, ("T3", "2026-06-25", "50.00", "260000117")),
        "2026-06-25",
    )
    [late] = db_session.scalars(select(Payment).where(Payment.transaction_id == "T3"))
    assert [(a.promise_id, a.instalment_id) for a in late.allocations] == [(None, None)]
    assert ledger.balance(db_session=db_session, claim=claim(db_session, JANA)) == D("75.68")


def test_a_kept_settlement_grants_its_discount_and_pays_the_claim(
    db_session: Session, tmp_path: Path
) -> None:
    # Emily Carter owes 295.84; a settlement of 266.26 (29.58 off) due 20 May.
    promise = plan(db_session, [EMILY], [("266.26", "2026-05-20")], "settlement", "29.58")
    emily = claim(db_session, EMILY)
    assert ledger.balance(db_session=db_session, claim=emily) == D("295.84")
    run(
        db_session,
        csv_statement(tmp_path, ("E1", "2026-05-19", "266,26", "Ref 260000141")),
        "2026-05-19",
    )
    assert promise.status == "kept"
    assert (emily.status, ledger.balance(db_session=db_session, claim=emily)) == ("paid", D("0"))


def test_a_broken_settlement_leaves_the_whole_total_owed(db_session: Session) -> None:
    promise = plan(db_session, [EMILY], [("266.26", "2026-05-20")], "settlement", "29.58")
    sweep(db_session=db_session, today=date(2026, 5, 26), policies=BOOK)
    assert promise.status == "broken"
    emily = claim(db_session, EMILY)
    assert ledger.balance(db_session=db_session, claim=emily) == D("295.84")


def test_a_malformed_statement_writes_nothing(db_session: Session, tmp_path: Path) -> None:
    path = csv_statement(
        tmp_path,
        ("T1", "2026-05-15", "200.00", "260000117"),
        ("T2", "2026-05-15", "zweihundert", "260000117"),
    )
    with pytest.raises(ValidationFailed, match=r"row 3 \(transaction_id T2\): amount"):
        run(db_session, path, "2026-05-16")
    assert count(db_session, Payment) == 0
    assert audit_service.list_events(db_session=db_session, kind="payments_imported") == []


def test_an_unmatched_payment_is_listed_and_an_agent_assigns_it(
    app: FastAPI,
    client: TestClient,
    auth_headers: dict[str, str],
    db_session: Session,
    tmp_path: Path,
) -> None:
    app.dependency_overrides[clock] = lambda: date(2026, 5, 15)
    jana_plan(db_session)
    path = csv_statement(tmp_path, ("U1", "2026-05-14", "200.00", "Zahlung Becker Strom"))
    assert run(db_session, path, "2026-05-15").unmatched == 1
    assert client.get("/api/payments/unmatched").status_code == 401
    listed = client.get("/api/payments/unmatched", headers=auth_headers)
    assert listed.status_code == 200, listed.text
    [item] = listed.json()
    assert item["remittance"] == "Zahlung Becker Strom"
    assert (item["amount"], item["state"], item["allocations"]) == ("200.00", "unmatched", [])
    assert item["payer"] == "Erika Muster"

    answer = client.post(
        f"/api/payments/{item['id']}/assign", json={"reference": JANA}, headers=auth_headers
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["state"], body["claim_reference"], body["unallocated"]) == (
        "assigned",
        JANA,
        "0.00",
    )
    assert [a["amount"] for a in body["allocations"]] == ["200.00"]
    assert client.get("/api/payments/unmatched", headers=auth_headers).json() == []
    again = client.post(
        f"/api/payments/{item['id']}/assign", json={"reference": JANA}, headers=auth_headers
    )
    assert again.status_code == 409
    unknown = client.post(
        "/api/payments/999999/assign", json={"reference": JANA}, headers=auth_headers
    )
    assert unknown.status_code == 404
    [event] = audit_service.list_events(db_session=db_session, kind="payment_assigned")
    assert event.claim_reference == JANA

    seen = client.get(f"/api/claims/{JANA}", headers=auth_headers).json()
    assert seen["balance"] == "275.68"
    [payment] = seen["payments"]
    assert (payment["amount"], payment["booked_on"], payment["transaction_id"]) == (
        "200.00",
        "2026-05-14",
        "U1",
    )
    assert payment["allocations"][0]["claim_reference"] == JANA
    [promise] = seen["promises"]
    assert [i["status"] for i in promise["instalments"]] == ["kept", "pending", "pending"]


def test_a_claim_without_payments_shows_its_total_as_balance(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    seen = client.get(f"/api/claims/{JANA}", headers=auth_headers).json()
    assert (seen["balance"], seen["payments"]) == ("475.68", [])
    paid = client.get("/api/claims/260000204", headers=auth_headers).json()
    assert paid["balance"] == "0.00"  # paid by the creditor's own records
