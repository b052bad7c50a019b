"""A promise over several claims shows each claim its own part (CONTRACT §3)."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from api.db.migrate import upgrade
from domain.claims import service as claim_service
from domain.db import make_engine
from domain.errors import ValidationFailed
from domain.promises import service as promise_service
from domain.promises.models import InstalmentPart, Promise, PromiseClaim
from domain.promises.schemas import PromiseOut
from policy.config import DEFAULT_POLICY
from policy.decisions import Offer
from policy.payments import propose_full, propose_settlement
from policy.plans import propose_plan

D = Decimal
TODAY = date(2026, 3, 10)
# Sabine Krüger owes Stadtwerke Musterstadt 1,304.27 (260000158, due 2026-02-10) and, in
# these tests, Fitline Studios 477.20 (260000300, due 2026-03-01): 1,781.47 together.
WATER, GYM = "260000158", "260000300"
TOTALS = {WATER: D("1304.27"), GYM: D("477.20")}


@pytest.fixture
def two_creditors(db_session: Session, demo_data: dict[str, Any]) -> claim_service.ImportReport:
    """Import the demo claims plus a claim of another creditor on Sabine Krüger."""
    [water] = [c for c in demo_data["claims"] if c["reference"] == WATER]
    gym = copy.deepcopy(water)
    gym.update(
        reference=GYM,
        creditor="fitline-studios",
        subject="Mitgliedsbeitrag 2025",
        due_date="2026-03-01",
        principal="420.00",
        interest="12.20",
        fees="45.00",
    )
    demo_data["claims"].append(gym)
    return claim_service.import_claims(db_session=db_session, data=demo_data)


def record(db_session: Session, offer: Offer, references: list[str]) -> Promise:
    """Record an accepted offer the way the action server does."""
    return promise_service.create(
        db_session=db_session,
        claim_references=references,
        kind=offer.kind,
        amount=offer.amount,
        discount=offer.discount,
        due_date=offer.due_date,
        instalments=[(i.number, i.amount, i.due_date) for i in offer.instalments],
        channel="web",
        conversation_id="web-parts",
        policy_version=DEFAULT_POLICY.version,
        idempotency_key=None,
    )


def claim_promises(client: TestClient, headers: dict[str, str], reference: str) -> Any:
    response = client.get(f"/api/claims/{reference}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["promises"]


def test_a_plan_over_two_creditors_shows_each_claim_its_part(
    client: TestClient,
    auth_headers: dict[str, str],
    db_session: Session,
    two_creditors: claim_service.ImportReport,
) -> None:
    total = sum(TOTALS.values())
    decision = propose_plan(total=total, today=TODAY, policy=DEFAULT_POLICY, monthly=D("100"))
    assert decision.allowed and decision.offer is not None
    plan = decision.offer
    assert [i.amount for i in plan.instalments] == [D("100.00")] * 17 + [D("81.47")]
    # The caller's order does not matter: the oldest claim comes first either way.
    promise = record(db_session, plan, [GYM, WATER])

    [water] = claim_promises(client, auth_headers, WATER)
    [gym] = claim_promises(client, auth_headers, GYM)
    assert water["id"] == gym["id"] == promise.id
    for part, reference in ((water, WATER), (gym, GYM)):
        assert part["kind"] == "instalment_plan"
        assert part["claim_references"] == [WATER, GYM]
        assert part["promise_amount"] == "1781.47"
        # Each claim's part is that claim's total: every creditor's books add up.
        assert D(part["amount"]) == TOTALS[reference]
        assert part["discount"] == "0.00"
        assert sum(D(i["amount"]) for i in part["instalments"]) == TOTALS[reference]
        assert part["due_date"] == plan.due_date.isoformat()
        assert [i["number"] for i in part["instalments"]] == list(range(1, 19))
    for k, instalment in enumerate(plan.instalments):
        pair = (water["instalments"][k], gym["instalments"][k])
        assert {p["due_date"] for p in pair} == {instalment.due_date.isoformat()}
        assert D(pair[0]["amount"]) + D(pair[1]["amount"]) == instalment.amount
    # Pro rata: 1,304.27 / 1,781.47 of 100.00 is 73.21 (73.2133...), the rest is 26.79.
    assert (water["instalments"][0]["amount"], gym["instalments"][0]["amount"]) == (
        "73.21",
        "26.79",
    )
    # Principal, interest and fees stay apart on the claim.
    body = client.get(f"/api/claims/{GYM}", headers=auth_headers).json()
    assert (body["principal"], body["interest"], body["fees"], body["total"]) == (
        "420.00",
        "12.20",
        "45.00",
        "477.20",
    )


def test_a_settlement_over_two_claims_splits_amount_and_discount(
    client: TestClient,
    auth_headers: dict[str, str],
    db_session: Session,
    two_creditors: claim_service.ImportReport,
) -> None:
    decision = propose_settlement(total=sum(TOTALS.values()), today=TODAY, policy=DEFAULT_POLICY)
    assert decision.allowed and decision.offer is not None
    offer = decision.offer
    assert (offer.amount, offer.discount) == (D("1603.33"), D("178.14"))
    record(db_session, offer, [WATER, GYM])

    [water] = claim_promises(client, auth_headers, WATER)
    [gym] = claim_promises(client, auth_headers, GYM)
    assert D(water["amount"]) + D(gym["amount"]) == offer.amount
    assert D(water["discount"]) + D(gym["discount"]) == offer.discount
    for part, reference in ((water, WATER), (gym, GYM)):
        assert part["kind"] == "settlement"
        assert D(part["amount"]) + D(part["discount"]) == TOTALS[reference]
        assert part["instalments"] == []
        assert part["due_date"] == offer.due_date.isoformat()
        assert part["promise_amount"] == "1603.33"
    # The discount falls on each claim pro rata, to the nearest cent (130.4218..., 47.7181...).
    assert (water["discount"], gym["discount"]) == ("130.42", "47.72")
    assert (water["amount"], gym["amount"]) == ("1173.85", "429.48")


def test_a_full_payment_over_two_claims_is_each_claims_total(
    client: TestClient,
    auth_headers: dict[str, str],
    db_session: Session,
    two_creditors: claim_service.ImportReport,
) -> None:
    decision = propose_full(total=sum(TOTALS.values()), today=TODAY, policy=DEFAULT_POLICY)
    assert decision.offer is not None
    record(db_session, decision.offer, [WATER, GYM])
    for reference, total in TOTALS.items():
        [part] = claim_promises(client, auth_headers, reference)
        assert (part["kind"], D(part["amount"]), part["discount"]) == ("full", total, "0.00")
        assert part["instalments"] == []
        assert part["due_date"] == (TODAY + timedelta(days=14)).isoformat()


def test_the_parts_are_stored(
    db_session: Session, two_creditors: claim_service.ImportReport
) -> None:
    decision = propose_plan(total=sum(TOTALS.values()), today=TODAY, policy=DEFAULT_POLICY)
    assert decision.offer is not None
    promise = record(db_session, decision.offer, [WATER, GYM])
    db_session.expire_all()
    parts = db_session.scalars(
        select(PromiseClaim).where(PromiseClaim.promise_id == promise.id)
    ).all()
    assert {p.claim_reference: p.amount for p in parts} == TOTALS
    shares = db_session.scalars(select(InstalmentPart)).all()
    assert len(shares) == 2 * len(decision.offer.instalments)
    assert sum(s.amount for s in shares) == sum(TOTALS.values())
    stored = db_session.get(Promise, promise.id)
    assert stored is not None and stored.claim_references == [WATER, GYM]


def test_one_claim_shows_the_whole_promise(
    db_session: Session, imported: claim_service.ImportReport
) -> None:
    decision = propose_plan(total=D("475.68"), today=TODAY, policy=DEFAULT_POLICY, monthly=D("50"))
    assert decision.offer is not None
    promise = record(db_session, decision.offer, ["260000117"])
    view = PromiseOut.for_claim(promise, "260000117")
    assert view.amount == D("475.68") and view.promise_amount == D("475.68")
    assert [i.amount for i in view.instalments] == [D("50.00")] * 9 + [D("25.68")]
    assert view.claim_references == ["260000117"]


def test_instalments_that_do_not_add_up_are_refused(
    db_session: Session, imported: claim_service.ImportReport
) -> None:
    with pytest.raises(ValidationFailed):
        promise_service.create(
            db_session=db_session,
            claim_references=["260000117"],
            kind="instalment_plan",
            amount=D("475.68"),
            due_date=TODAY,
            instalments=[(1, D("200.00"), TODAY), (2, D("200.00"), TODAY)],
            channel="web",
            conversation_id=None,
            policy_version=None,
            idempotency_key=None,
        )


def test_the_migration_splits_promises_recorded_before(tmp_path: Path) -> None:
    """Promises recorded before revision 0005 get their parts when it runs."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0004")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO creditors (id, name, address, policy) VALUES "
                "('a', 'A GmbH', 'Weg 1', 'default'), ('b', 'B AG', 'Weg 2', 'default')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO debtors (id, name, date_of_birth, postcode, language) "
                "VALUES (1, 'Max Muster', '1980-01-02', '10115', 'de')"
            )
        )
        for reference, creditor, due, principal in (
            ("N1", "b", "2026-03-01", "100.00"),
            ("O1", "a", "2026-01-01", "200.01"),
        ):
            conn.execute(
                text(
                    "INSERT INTO claims (reference, creditor_id, debtor_id, subject, due_date, "
                    "currency, principal, interest, fees, status, created_at, updated_at) "
                    "VALUES (:r, :c, 1, 's', :d, 'EUR', :p, 0, 0, 'open', "
                    "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                ),
                {"r": reference, "c": creditor, "d": due, "p": principal},
            )
        conn.execute(
            text(
                "INSERT INTO promises (id, kind, amount, discount, due_date, status, channel, "
                "created_at) VALUES (7, 'instalment_plan', 300.01, 0, '2026-04-01', 'pending', "
                "'web', '2026-03-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO instalments (id, promise_id, number, amount, due_date) VALUES "
                "(1, 7, 1, 100.00, '2026-04-01'), (2, 7, 2, 100.00, '2026-05-01'), "
                "(3, 7, 3, 100.01, '2026-06-01')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO promise_claims (promise_id, claim_reference) "
                "VALUES (7, 'N1'), (7, 'O1')"
            )
        )
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        promise = session.get(Promise, 7)
        assert promise is not None
        assert promise.claim_references == ["O1", "N1"]
        assert {p.claim_reference: (p.amount, p.discount) for p in promise.parts} == {
            "O1": (D("200.01"), D("0.00")),
            "N1": (D("100.00"), D("0.00")),
        }
        old = PromiseOut.for_claim(promise, "O1")
        new = PromiseOut.for_claim(promise, "N1")
        assert [i.amount for i in old.instalments] == [D("66.67"), D("66.67"), D("66.67")]
        assert [i.amount for i in new.instalments] == [D("33.33"), D("33.33"), D("33.34")]
    engine.dispose()
