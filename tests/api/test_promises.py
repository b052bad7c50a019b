"""Promises: several claims at once, instalments, idempotency keys."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.claims import service as claim_service
from domain.errors import NotFound, ValidationFailed
from domain.promises import service as promise_service
from domain.promises.models import Instalment, Promise


def _settlement(db_session: Session, key: str | None, amount: str = "1499.68") -> Promise:
    return promise_service.create(
        db_session=db_session,
        claim_references=["260000158", "260000166"],
        kind="settlement",
        amount=Decimal(amount),
        discount=Decimal("147.84"),
        due_date=date(2026, 6, 1),
        instalments=[],
        channel="whatsapp",
        conversation_id="whatsapp:+4917011122233",
        policy_version="default@1",
        idempotency_key=key,
    )


def test_one_promise_covers_several_claims(
    db_session: Session, imported: claim_service.ImportReport
) -> None:
    promise = _settlement(db_session, "k1")
    assert {c.reference for c in promise.claims} == {"260000158", "260000166"}
    assert promise.status == "pending"
    assert promise.discount == Decimal("147.84")
    assert promise.created_at.tzinfo is not None
    for reference in ("260000158", "260000166"):
        found = promise_service.list_for_claim(db_session=db_session, claim_reference=reference)
        assert [p.id for p in found] == [promise.id]
    assert promise_service.list_for_claim(db_session=db_session, claim_reference="260000117") == []


def test_idempotency_key_returns_the_existing_promise(
    db_session: Session, imported: claim_service.ImportReport
) -> None:
    first = _settlement(db_session, "conv-1:settlement")
    second = _settlement(db_session, "conv-1:settlement", amount="1.00")
    assert second.id == first.id
    assert second.amount == Decimal("1499.68")
    assert db_session.scalar(select(func.count()).select_from(Promise)) == 1


def test_without_key_each_call_creates_a_promise(
    db_session: Session, imported: claim_service.ImportReport
) -> None:
    _settlement(db_session, None)
    _settlement(db_session, None)
    assert db_session.scalar(select(func.count()).select_from(Promise)) == 2


def test_instalments_are_stored_in_order(
    db_session: Session, imported: claim_service.ImportReport
) -> None:
    promise = promise_service.create(
        db_session=db_session,
        claim_references=["260000133"],
        kind="instalment_plan",
        amount=Decimal("4800.00"),
        discount=Decimal("0"),
        due_date=date(2026, 6, 1),
        instalments=[
            (2, Decimal("2400.00"), date(2026, 7, 1)),
            (1, Decimal("2400.00"), date(2026, 6, 1)),
        ],
        channel="web",
        conversation_id=None,
        policy_version="default@1",
        idempotency_key=None,
    )
    db_session.expire_all()
    stored = db_session.get(Promise, promise.id)
    assert stored is not None
    assert [(i.number, i.amount, i.due_date) for i in stored.instalments] == [
        (1, Decimal("2400.00"), date(2026, 6, 1)),
        (2, Decimal("2400.00"), date(2026, 7, 1)),
    ]
    assert db_session.scalar(select(func.count()).select_from(Instalment)) == 2


def test_unknown_claim_or_kind_is_refused(
    db_session: Session, imported: claim_service.ImportReport
) -> None:
    common: dict[str, Any] = {
        "amount": Decimal("1"),
        "discount": Decimal("0"),
        "due_date": date(2026, 6, 1),
        "instalments": [],
        "channel": "web",
        "conversation_id": None,
        "policy_version": None,
        "idempotency_key": None,
    }
    with pytest.raises(NotFound):
        promise_service.create(
            db_session=db_session, claim_references=["nope"], kind="full", **common
        )
    with pytest.raises(ValidationFailed):
        promise_service.create(
            db_session=db_session, claim_references=["260000117"], kind="maybe", **common
        )
    assert db_session.scalar(select(func.count()).select_from(Promise)) == 0


def test_set_status(db_session: Session, imported: claim_service.ImportReport) -> None:
    promise = _settlement(db_session, "k2")
    assert (
        promise_service.set_status(
            db_session=db_session, promise_id=promise.id, status="kept"
        ).status
        == "kept"
    )
    with pytest.raises(ValidationFailed):
        promise_service.set_status(db_session=db_session, promise_id=promise.id, status="lost")
