"""Returned and reversed payments, on SQLite and PostgreSQL (api/payments/reversal.py).

Jana pays her plan's first instalment (200.00, due 15 May) and the bank takes it back:
a reversal (`RvslInd`) or a plain debit that names the credit's EndToEndId. The
payment is `reversed`, its allocations are gone, the instalment is open again (broken
once it is late), a claim paid in full is open again, and all of it is audited; the
same debit imported twice is booked once.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.audit import service as audit_service
from domain.claims import service as claim_service
from domain.payments import ledger
from domain.payments.camt import read_camt
from domain.payments.models import Payment, PaymentReversal
from domain.promises.models import Promise
from tests.api.test_payments_import import JANA, claim, jana_plan, plan, run, statuses

D = Decimal
NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"


@pytest.fixture(autouse=True)
def _demo(imported: claim_service.ImportReport) -> None:
    """Every test starts from the demo claims."""


def entry(
    amount: str,
    side: str,
    booked: str,
    bank_ref: str,
    end_to_end: str,
    *,
    reversal: bool = False,
    remittance: str = "",
) -> str:
    """One booked camt.053.001.08 entry with one transfer."""
    return f"""
      <Ntry>
        <Amt Ccy="EUR">{amount}</Amt>
        <CdtDbtInd>{side}</CdtDbtInd>
        {"<RvslInd>true</RvslInd>" if reversal else ""}
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>{booked}</Dt></BookgDt>
        <AcctSvcrRef>{bank_ref}</AcctSvcrRef>
        <NtryDtls>
          <TxDtls>
            <Refs><EndToEndId>{end_to_end}</EndToEndId></Refs>
            <RltdPties><Dbtr><Pty><Nm>Jana Becker</Nm></Pty></Dbtr></RltdPties>
            <RmtInf><Ustrd>{remittance}</Ustrd></RmtInf>
          </TxDtls>
        </NtryDtls>
      </Ntry>"""


def statement(tmp_path: Path, name: str, *entries: str) -> Path:
    path = tmp_path / f"{name}.xml"
    path.write_text(
        f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{NS}"><BkToCstmrStmt>
  <GrpHdr><MsgId>{name}</MsgId><CreDtTm>2026-05-20T06:00:00+02:00</CreDtTm></GrpHdr>
  <Stmt><Id>{name}</Id>{"".join(entries)}</Stmt>
</BkToCstmrStmt></Document>""",
        encoding="utf-8",
    )
    return path


CREDIT = entry("200.00", "CRDT", "2026-05-14", "BANK-CR-1", "E2E-BECKER-0514", remittance=JANA)


def paid_first_instalment(db_session: Session, tmp_path: Path) -> Promise:
    promise = jana_plan(db_session)
    report = run(db_session, statement(tmp_path, "credit", CREDIT), "2026-05-15")
    assert report.matched == 1
    assert statuses(promise) == ["kept", "pending", "pending"]
    return promise


def payment(db_session: Session) -> Payment:
    found = db_session.scalar(select(Payment).where(Payment.transaction_id == "BANK-CR-1"))
    assert found is not None
    return found


def test_a_reversal_reopens_the_instalment_once(db_session: Session, tmp_path: Path) -> None:
    promise = paid_first_instalment(db_session, tmp_path)
    assert payment(db_session).end_to_end_id == "E2E-BECKER-0514"
    debit = entry("200.00", "DBIT", "2026-05-18", "BANK-RV-1", "E2E-BECKER-0514", reversal=True)
    path = statement(tmp_path, "reversal", debit)

    report = run(db_session, path, "2026-05-18")
    assert (report.reversed, report.imported, report.skipped) == (1, 0, {})
    assert "taken back by the bank (returned or reversed): 1" in str(report)
    taken = payment(db_session)
    assert (taken.state, taken.allocations, taken.unallocated) == ("reversed", [], D("200.00"))
    # 18 May is within the grace days of 15 May: the instalment is open again.
    assert statuses(promise) == ["pending", "pending", "pending"]
    assert promise.status == "pending"
    assert ledger.balance(db_session=db_session, claim=claim(db_session, JANA)) == D("475.68")
    [booked] = db_session.scalars(select(PaymentReversal)).all()
    assert (booked.payment_id, booked.kind, booked.amount) == (taken.id, "reversal", D("200.00"))
    [event] = audit_service.list_events(db_session=db_session, kind="payment_reversed")
    assert event.claim_reference == JANA and event.reasons == ["reversal"]
    assert event.data is not None
    assert event.data["reversal_transaction_id"] == "BANK-RV-1"
    assert event.data["instalments_reopened"] == [promise.instalments[0].id]
    assert event.data["allocations_removed"][0]["amount"] == "200.00"

    again = run(db_session, path, "2026-05-18")
    assert (again.reversed, again.already_imported) == (0, 1)
    assert len(db_session.scalars(select(PaymentReversal)).all()) == 1
    assert len(audit_service.list_events(db_session=db_session, kind="payment_reversed")) == 1

    # Still unpaid after the grace days: the sweep breaks it.
    late = run(db_session, path, "2026-05-21")
    assert late.sweep is not None and late.sweep.promises_broken == [promise.id]
    assert statuses(promise)[0] == "broken"


def test_a_returned_full_payment_reopens_the_paid_claim(
    db_session: Session, tmp_path: Path
) -> None:
    full = plan(db_session, [JANA], [("475.68", "2026-05-15")], kind="full")
    credit = entry("475.68", "CRDT", "2026-05-14", "BANK-CR-2", "E2E-FULL", remittance=JANA)
    run(db_session, statement(tmp_path, "credit", credit), "2026-05-15")
    assert (full.status, claim(db_session, JANA).status) == ("kept", "paid")

    # A plain debit (no reversal indicator) naming the credit's EndToEndId: a return.
    returned = entry("475.68", "DBIT", "2026-05-19", "BANK-RT-2", "E2E-FULL")
    report = run(db_session, statement(tmp_path, "return", returned), "2026-05-19")
    assert report.reversed == 1
    assert (full.status, claim(db_session, JANA).status) == ("pending", "open")
    [booked] = db_session.scalars(select(PaymentReversal)).all()
    assert booked.kind == "return"
    [reopened] = audit_service.list_events(db_session=db_session, kind="claim_reopened")
    assert reopened.claim_reference == JANA


def test_other_debits_are_left_out(db_session: Session, tmp_path: Path) -> None:
    promise = paid_first_instalment(db_session, tmp_path)
    path = statement(
        tmp_path,
        "debits",
        # Another EndToEndId, another amount, and a debit without any reference.
        entry("200.00", "DBIT", "2026-05-18", "BANK-DB-1", "E2E-RENT"),
        entry("199.99", "DBIT", "2026-05-18", "BANK-DB-2", "E2E-BECKER-0514"),
        entry("200.00", "DBIT", "2026-05-18", "BANK-DB-3", "NOTPROVIDED"),
    )
    report = run(db_session, path, "2026-05-18")
    assert (report.reversed, report.skipped) == (0, {"debit": 3})
    assert payment(db_session).state == "matched"
    assert statuses(promise) == ["kept", "pending", "pending"]
    assert db_session.scalars(select(PaymentReversal)).all() == []


def test_a_credit_and_its_reversal_in_one_statement(db_session: Session, tmp_path: Path) -> None:
    promise = jana_plan(db_session)
    debit = entry("200.00", "DBIT", "2026-05-14", "BANK-RV-3", "E2E-BECKER-0514", reversal=True)
    report = run(db_session, statement(tmp_path, "both", CREDIT, debit), "2026-05-15")
    assert (report.imported, report.reversed) == (1, 1)
    assert payment(db_session).state == "reversed"
    assert statuses(promise) == ["pending", "pending", "pending"]


def test_the_reader_keeps_what_a_reversal_needs(tmp_path: Path) -> None:
    debit = entry("200.00", "DBIT", "2026-05-18", "BANK-RV-1", "E2E-BECKER-0514", reversal=True)
    read = read_camt(statement(tmp_path, "read", CREDIT, debit))
    [credit] = read.credits
    assert (credit.end_to_end_id, credit.tx_id) == ("E2E-BECKER-0514", None)
    [skipped] = read.skipped
    assert skipped.reason == "debit" and skipped.debit is not None
    assert skipped.debit.transaction_id == "BANK-RV-1"
    assert skipped.debit.references == ("E2E-BECKER-0514",)
    assert skipped.debit.reversal is True
