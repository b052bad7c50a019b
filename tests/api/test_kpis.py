"""`GET /api/kpis` on SQLite and PostgreSQL: exact numbers for a seeded March 2026.

The month holds seven conversations (two more just outside it), promises of every
kind (one over claims of two creditors, one kept by a real payment import, one broken
by the sweep, one cancelled), a payment on a plan's first instalment and handoffs of
four reasons. Times are picked around the period's edges in Europe/Berlin: the
period is whole local days, so 23:30 UTC on 28 February is already 1 March.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.kpis.views import today as clock
from domain.audit.models import AuditEvent
from domain.claims import service as claim_service
from domain.claims.models import Claim
from domain.conversations import service as conversation_service
from domain.handoffs import service as handoff_service
from domain.handoffs.models import HANDOFF_REASONS
from domain.kpis import service as kpi_service
from domain.kpis.errors import BadPeriod
from domain.payments import service as payment_service
from domain.payments.statement import Statement, StatementLine
from domain.promises import service as promise_service
from domain.promises.models import Promise
from policy.config import DEFAULT_POLICY, default_book

D = Decimal
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
# Demo claims (data/demo_claims.json) and one more: Jana Becker also owes Modehaus Nord.
JANA, JANA_SHOP = "260000117", "270000011"  # Stadtwerke 475.68, Modehaus Nord 100.00
MURAT, THOMAS, EMILY = "260000125", "260000133", "260000141"
SABINE, SABINE_TOO, DANIEL = "260000158", "260000166", "260000174"
STADTWERKE, MODEHAUS, FITLINE = "stadtwerke-musterstadt", "modehaus-nord", "fitline-studios"
# Each claim's part of the plan's first instalment of 287.84 (policy.allocation, pro rata
# 475.68 : 100.00), which the payment of 287.84 covers in full.
JANA_FIRST, JANA_SHOP_FIRST = D("237.84"), D("50.00")


def utc(text: str) -> datetime:
    """Return an aware UTC instant from `YYYY-MM-DDTHH:MM`."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Seeder:
    """Writes conversations, verifications, promises and handoffs at chosen times."""

    db: Session

    def conversation(
        self,
        sender: str,
        channel: str,
        language: str,
        *,
        wrote: str,
        verified: tuple[str, str] | None = None,
    ) -> None:
        """Open a conversation with one debtor message; verify it on a claim at a time."""
        conversation_service.get_or_create(
            db_session=self.db, sender_id=sender, channel=channel, language=language
        )
        message = conversation_service.add_message(
            db_session=self.db, sender_id=sender, direction="in", author="debtor", text="Hallo"
        )
        message.created_at = utc(wrote)
        if verified is not None:
            reference, when = verified
            claim = self.db.get(Claim, reference)
            assert claim is not None
            conversation_service.mark_verified(
                db_session=self.db,
                sender_id=sender,
                claim_reference=reference,
                debtor_id=claim.debtor_id,
            )
            # The audit log is append-only: the event is written with its time.
            self.db.add(
                AuditEvent(
                    kind="verification_succeeded",
                    conversation_id=sender,
                    claim_reference=reference,
                    reasons=["identity_verified"],
                    created_at=utc(when),
                )
            )
        self.db.flush()

    def promise(
        self,
        sender: str | None,
        channel: str,
        references: list[str],
        kind: str,
        *,
        at: str,
        amount: str,
        due: str,
        discount: str = "0.00",
        instalments: tuple[tuple[str, str], ...] = (),
        status: str | None = None,
    ) -> Promise:
        """Record a promise as the action server does, at a time (and maybe a status)."""
        promise = promise_service.create(
            db_session=self.db,
            claim_references=references,
            kind=kind,
            amount=D(amount),
            discount=D(discount),
            due_date=date.fromisoformat(due),
            instalments=[
                (n, D(value), date.fromisoformat(day))
                for n, (value, day) in enumerate(instalments, 1)
            ],
            channel=channel,
            conversation_id=sender,
            policy_version=DEFAULT_POLICY.version,
            idempotency_key=None,
        )
        promise.created_at = utc(at)
        if status is not None:
            promise.status = status
        self.db.flush()
        return promise

    def handoff(self, sender: str, channel: str, reason: str, *, at: str) -> None:
        """Hand a conversation to an agent at a time, then close it."""
        handoff = handoff_service.open_handoff(
            db_session=self.db, conversation_id=sender, channel=channel, reason=reason
        )
        handoff.created_at = utc(at)
        handoff.state = "closed"
        self.db.flush()

    def pay(self, transaction_id: str, amount: str, remittance: str, booked: str) -> None:
        """Import one bank credit through the payments import (matching, allocation, sweep)."""
        line = StatementLine(
            transaction_id=transaction_id,
            amount=D(amount),
            currency="EUR",
            booked_on=date.fromisoformat(booked),
            remittance=remittance,
            payer=None,
            where=transaction_id,
        )
        payment_service.import_statement(
            db_session=self.db,
            statement=Statement(source="csv", credits=[line]),
            today=date(2026, 4, 10),
            policy_book=default_book(),
        )


def seed_march(db_session: Session, demo_data: dict[str, Any]) -> None:
    """Import the demo claims (and Jana's second one) and seed March 2026 (see the docstring)."""
    [jana] = [c for c in demo_data["claims"] if c["reference"] == JANA]
    demo_data["claims"].append(
        {
            **jana,
            "reference": JANA_SHOP,
            "creditor": MODEHAUS,
            "subject": "Bestellung 4711",
            "principal": "90.00",
            "interest": "0.00",
            "fees": "10.00",
        }
    )
    claim_service.import_claims(db_session=db_session, data=demo_data)
    seed = Seeder(db_session)

    # c1: web, Jana. A plan over her claims of two creditors; the first instalment paid.
    seed.conversation(
        "c1-web", "web", "de", wrote="2026-03-02T09:00", verified=(JANA, "2026-03-02T09:01")
    )
    seed.promise(
        "c1-web",
        "web",
        [JANA, JANA_SHOP],
        "instalment_plan",
        at="2026-03-02T09:05",
        amount="575.68",
        due="2026-04-15",
        instalments=(("287.84", "2026-04-15"), ("287.84", "2026-05-15")),
    )
    # c2: WhatsApp, Sabine. Pays in full (kept by the import's sweep); a cancelled one too.
    seed.conversation(
        "c2-wa", "whatsapp", "de", wrote="2026-03-10T12:00", verified=(SABINE, "2026-03-10T12:01")
    )
    seed.promise(
        "c2-wa",
        "whatsapp",
        [SABINE],
        "full",
        at="2026-03-10T12:05",
        amount="1304.27",
        due="2026-03-24",
    )
    seed.promise(
        "c2-wa",
        "whatsapp",
        [SABINE_TOO],
        "full",
        at="2026-03-10T12:06",
        amount="343.25",
        due="2026-03-24",
        status="cancelled",
    )
    # c3: REST, Emily, in English. A settlement, then she asks for a person: not contained.
    seed.conversation(
        "c3-rest", "rest", "en", wrote="2026-03-15T08:00", verified=(EMILY, "2026-03-15T08:01")
    )
    seed.promise(
        "c3-rest",
        "rest",
        [EMILY],
        "settlement",
        at="2026-03-15T08:05",
        amount="270.00",
        discount="25.84",
        due="2026-04-05",
    )
    seed.handoff("c3-rest", "rest", "human_request", at="2026-03-15T08:10")
    # c4: WhatsApp, Daniel, in English. A deferral to 20 March that nobody pays: broken.
    seed.conversation(
        "c4-wa", "whatsapp", "en", wrote="2026-03-05T18:00", verified=(DANIEL, "2026-03-05T18:01")
    )
    seed.promise(
        "c4-wa",
        "whatsapp",
        [DANIEL],
        "deferral",
        at="2026-03-05T18:05",
        amount="210.82",
        due="2026-03-20",
    )
    # c5: web, never verified: locked after three failed checks.
    seed.conversation("c5-web", "web", "de", wrote="2026-03-20T10:00")
    seed.handoff("c5-web", "web", "verification_locked", at="2026-03-20T10:05")
    # c6: a call from Thomas, whose February plan broke: a second break goes to an agent.
    seed.conversation(
        "c6-voice", "voice", "de", wrote="2026-03-31T21:30", verified=(THOMAS, "2026-03-31T21:31")
    )
    seed.promise(
        "c6-voice",
        "voice",
        [THOMAS],
        "instalment_plan",
        at="2026-02-10T10:00",
        amount="4800.00",
        due="2026-02-20",
        instalments=(("200.00", "2026-02-20"),) * 24,
        status="broken",
    )
    seed.handoff("c6-voice", "voice", "broken_promise", at="2026-03-31T21:35")
    # c9: Murat writes at 00:30 Berlin time on 1 March (still 28 February in UTC): inside.
    seed.conversation(
        "c9-web", "web", "de", wrote="2026-02-28T23:30", verified=(MURAT, "2026-02-28T23:31")
    )
    seed.handoff("c9-web", "web", "dispute", at="2026-02-28T23:40")
    # Outside: c7 wrote at 23:30 Berlin on 28 February; c8 at 00:30 Berlin on 1 April.
    seed.conversation(
        "c7-web", "web", "de", wrote="2026-02-28T22:30", verified=(SABINE_TOO, "2026-02-28T22:31")
    )
    seed.promise(
        "c7-web",
        "web",
        [SABINE_TOO],
        "full",
        at="2026-02-28T22:35",
        amount="343.25",
        due="2026-03-10",
        status="kept",
    )
    seed.handoff("c7-web", "web", "negative_sentiment", at="2026-02-28T22:40")
    seed.conversation(
        "c8-rest", "rest", "en", wrote="2026-03-31T22:30", verified=(EMILY, "2026-03-31T22:31")
    )

    # Money in: Sabine's 1,304.27 and the plan's first instalment, named by Jana's reference.
    seed.pay("TX-1", "1304.27", f"AZ {SABINE}", "2026-03-20")
    seed.pay("TX-2", "287.84", f"AZ {JANA}", "2026-04-08")


@pytest.fixture
def march(db_session: Session, demo_data: dict[str, Any]) -> Session:
    """Seed March 2026 into the test's session; return it."""
    seed_march(db_session, demo_data)
    return db_session


@pytest.fixture
def kpis(
    client: TestClient, auth_headers: dict[str, str], march: Session
) -> Callable[..., dict[str, Any]]:
    """Return a function that reads `/api/kpis` for March with extra parameters."""

    def read(**params: str) -> dict[str, Any]:
        response = client.get("/api/kpis", params={**MARCH, **params}, headers=auth_headers)
        assert response.status_code == 200, response.text
        return dict(response.json())

    return read


def reasons(**counts: int) -> dict[str, int]:
    """Return every handoff reason with 0, except those given."""
    return {reason: counts.get(reason, 0) for reason in HANDOFF_REASONS}


def test_every_number_of_the_month(kpis: Any) -> None:
    answer = kpis()
    assert answer["period"] == {
        "from": "2026-03-01",
        "to": "2026-03-31",
        "timezone": "Europe/Berlin",
    }
    assert answer["filters"] == {"creditor": None, "channel": None, "language": None}
    # c1-c6 and c9; c7 and c8 wrote outside the month (Berlin time).
    assert (answer["conversations"], answer["verified"]) == (7, 6)
    # Settled: c1-c4. Contained: not c3, which was handed off after its settlement.
    assert (answer["settled"], answer["contained"]) == (4, 3)
    assert answer["promises"] == {
        "total": 4,
        "by_kind": {"full": 1, "settlement": 1, "instalment_plan": 1, "deferral": 1},
        "by_status": {"pending": 2, "kept": 1, "broken": 1},
        "cancelled": 1,
    }
    # 575.68 + 1,304.27 + 270.00 + 210.82 promised; 1,304.27 + 287.84 received on them.
    assert answer["amounts"] == [{"currency": "EUR", "promised": "2360.77", "received": "1592.11"}]
    assert answer["handoffs"] == {
        "total": 4,
        "by_reason": reasons(human_request=1, verification_locked=1, broken_promise=1, dispute=1),
    }
    assert list(answer["handoffs"]["by_reason"]) == list(HANDOFF_REASONS)
    assert "broken_promise" in answer["handoffs"]["by_reason"]
    assert answer["rates"] == {
        "verified": "0.8571",
        "containment": "0.4286",
        "kept": "0.2500",
        "broken": "0.2500",
    }


def test_a_creditor_sees_its_own_part_of_a_promise_over_two_creditors(kpis: Any) -> None:
    water = kpis(creditor=STADTWERKE)
    # Jana (c1) and Sabine (c2) owe Stadtwerke; the locked c5 belongs to no creditor.
    assert (water["conversations"], water["verified"], water["settled"], water["contained"]) == (
        2,
        2,
        2,
        2,
    )
    assert water["promises"]["total"] == 2
    assert water["promises"]["by_kind"] == {
        "full": 1,
        "settlement": 0,
        "instalment_plan": 1,
        "deferral": 0,
    }
    assert water["promises"]["by_status"] == {"pending": 1, "kept": 1, "broken": 0}
    assert water["promises"]["cancelled"] == 1  # Sabine's other claim is Stadtwerke's too
    assert water["amounts"] == [
        {"currency": "EUR", "promised": "1779.95", "received": str(D("1304.27") + JANA_FIRST)}
    ]
    assert water["handoffs"] == {"total": 0, "by_reason": reasons()}

    shop = kpis(creditor=MODEHAUS)
    # Jana (her second claim), Emily and Murat owe Modehaus Nord.
    assert (shop["conversations"], shop["verified"], shop["settled"], shop["contained"]) == (
        3,
        3,
        2,
        1,
    )
    assert shop["promises"]["by_kind"] == {
        "full": 0,
        "settlement": 1,
        "instalment_plan": 1,
        "deferral": 0,
    }
    # The plan's part on Modehaus Nord's claim: 100.00 of 575.68, and its part of the payment.
    assert shop["amounts"] == [
        {"currency": "EUR", "promised": "370.00", "received": str(JANA_SHOP_FIRST)}
    ]
    assert shop["handoffs"]["by_reason"] == reasons(human_request=1, dispute=1)

    gym = kpis(creditor=FITLINE)
    assert (gym["conversations"], gym["settled"]) == (2, 1)  # Thomas and Daniel
    assert gym["promises"]["by_status"] == {"pending": 0, "kept": 0, "broken": 1}
    assert gym["amounts"] == [{"currency": "EUR", "promised": "210.82", "received": "0.00"}]
    assert gym["handoffs"]["by_reason"] == reasons(broken_promise=1)
    assert gym["rates"]["broken"] == "1.0000"


def test_channel_and_language_filters(kpis: Any) -> None:
    whatsapp = kpis(channel="whatsapp")
    assert (whatsapp["conversations"], whatsapp["settled"], whatsapp["contained"]) == (2, 2, 2)
    assert whatsapp["promises"]["by_kind"] == {
        "full": 1,
        "settlement": 0,
        "instalment_plan": 0,
        "deferral": 1,
    }
    assert whatsapp["handoffs"]["total"] == 0

    rest = kpis(channel="rest")
    assert (rest["conversations"], rest["settled"], rest["contained"]) == (1, 1, 0)
    assert rest["handoffs"]["by_reason"] == reasons(human_request=1)
    assert rest["rates"]["containment"] == "0.0000"

    english = kpis(language="en")
    assert (english["conversations"], english["verified"], english["settled"]) == (2, 2, 2)
    assert english["promises"]["by_status"] == {"pending": 1, "kept": 0, "broken": 1}
    assert english["amounts"] == [{"currency": "EUR", "promised": "480.82", "received": "0.00"}]
    assert english["handoffs"]["by_reason"] == reasons(human_request=1)

    voice = kpis(channel="voice", language="de", creditor=FITLINE)
    assert (voice["conversations"], voice["verified"], voice["settled"]) == (1, 1, 0)
    assert voice["promises"]["total"] == 0  # Thomas's plan is February's
    assert voice["amounts"] == []
    assert voice["rates"] == {
        "verified": "1.0000",
        "containment": "0.0000",
        "kept": None,
        "broken": None,
    }

    both = kpis(creditor=MODEHAUS, language="en")
    assert (both["conversations"], both["settled"], both["contained"]) == (1, 1, 0)


def test_the_period_is_whole_days_in_berlin(kpis: Any) -> None:
    first = kpis(**{"from": "2026-03-01", "to": "2026-03-01"})
    assert first["conversations"] == 1  # only Murat, at 00:30 on 1 March
    assert first["handoffs"]["by_reason"] == reasons(dispute=1)
    february = kpis(**{"from": "2026-02-01", "to": "2026-02-28"})
    assert february["conversations"] == 1  # c7 at 23:30 on 28 February
    assert february["promises"]["by_kind"]["instalment_plan"] == 1  # Thomas's first plan
    assert february["promises"]["by_status"] == {"pending": 0, "kept": 1, "broken": 1}
    april = kpis(**{"from": "2026-04-01", "to": "2026-04-30"})
    assert april["conversations"] == 1  # c8 at 00:30 on 1 April
    assert april["promises"]["total"] == 0
    empty = kpis(**{"from": "2025-01-01", "to": "2025-12-31"})
    assert (empty["conversations"], empty["promises"]["total"], empty["amounts"]) == (0, 0, [])
    assert empty["rates"] == {"verified": None, "containment": None, "kept": None, "broken": None}


def test_the_csv_export_has_the_same_numbers(
    client: TestClient, auth_headers: dict[str, str], march: Session
) -> None:
    response = client.get("/api/kpis.csv", params=MARCH, headers=auth_headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "quitt-kpis-2026-03-01-2026-03-31.csv" in response.headers["content-disposition"]
    rows = dict(csv.reader(io.StringIO(response.text)))
    assert rows["metric"] == "value"
    assert rows["conversations"] == "7"
    assert rows["promises.by_kind.instalment_plan"] == "1"
    assert rows["amounts.EUR.promised"] == "2360.77"
    assert rows["handoffs.by_reason.broken_promise"] == "1"
    assert rows["rates.containment"] == "0.4286"
    assert rows["period.from"] == "2026-03-01"
    assert rows["filters.creditor"] == ""


def test_without_dates_the_last_30_days_up_to_today(
    app: FastAPI, client: TestClient, auth_headers: dict[str, str], march: Session
) -> None:
    app.dependency_overrides[clock] = lambda: date(2026, 3, 31)
    answer = client.get("/api/kpis", headers=auth_headers).json()
    assert answer["period"]["from"] == "2026-03-02" and answer["period"]["to"] == "2026-03-31"
    assert answer["conversations"] == 6  # not Murat (1 March)
    only_to = client.get("/api/kpis", params={"to": "2026-03-01"}, headers=auth_headers).json()
    assert only_to["period"]["from"] == "2026-01-31"


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        (
            {"from": "2026-03-31", "to": "2026-03-01"},
            400,
            "from (2026-03-31) is after to (2026-03-01)",
        ),
        ({"from": "0001-01-01", "to": "2026-03-01"}, 400, "from: 0001-01-01 is out of range"),
        ({"from": "2026-03-01", "to": "9999-12-31"}, 400, "to: 9999-12-31 is out of range"),
        (
            {"creditor": "no-such-creditor"},
            400,
            "creditor: no creditor with the id 'no-such-creditor'",
        ),
        ({"creditor": "stadtwerke\x00"}, 400, "creditor: no creditor"),
        ({"from": "March"}, 422, "from"),
        ({"to": "2026-02-30"}, 422, "to"),
        ({"channel": "fax"}, 422, "channel"),
        ({"language": "fr"}, 422, "language"),
        ({"creditor": "x" * 65}, 422, "creditor"),
    ],
)
def test_bad_parameters_are_refused_with_a_clear_message(
    client: TestClient,
    auth_headers: dict[str, str],
    params: dict[str, str],
    status: int,
    words: str,
) -> None:
    response = client.get("/api/kpis", params=params, headers=auth_headers)
    assert response.status_code == status, response.text
    assert words in response.text


def test_only_agents_read_kpis(client: TestClient) -> None:
    assert client.get("/api/kpis", params=MARCH).status_code == 401
    assert client.get("/api/kpis.csv", params=MARCH).status_code == 401
    bad = {"Authorization": "Bearer forged"}
    assert client.get("/api/kpis", params=MARCH, headers=bad).status_code == 401


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [
        (0, 0, None),
        (0, 5, D("0.0000")),
        (1, 3, D("0.3333")),
        (2, 3, D("0.6667")),
        (1, 8, D("0.1250")),
    ],
)
def test_rate(part: int, whole: int, expected: Decimal | None) -> None:
    assert kpi_service.rate(part, whole) == expected


def test_period_bounds_follow_the_clock_change() -> None:
    # Berlin moves to summer time on 29 March 2026: 1 March starts at 23:00 UTC the day
    # before, the midnight after 31 March is 22:00 UTC.
    period = kpi_service.make_period(
        start=date(2026, 3, 1), end=date(2026, 3, 31), timezone="Europe/Berlin"
    )
    first, after = period.bounds()
    assert first.astimezone(UTC) == utc("2026-02-28T23:00")
    assert after.astimezone(UTC) == utc("2026-03-31T22:00")
    with pytest.raises(BadPeriod, match="after"):
        kpi_service.make_period(start=date(2026, 3, 2), end=date(2026, 3, 1), timezone="UTC")


def test_sums_stay_exact_in_cents(db_session: Session, demo_data: dict[str, Any]) -> None:
    """Many small amounts add up to the cent on SQLite's floats too."""
    claim_service.import_claims(db_session=db_session, data=demo_data)
    seed = Seeder(db_session)
    for _ in range(30):
        seed.promise(
            None, "web", [JANA], "full", at="2026-03-02T09:00", amount="0.10", due="2026-03-10"
        )
    period = kpi_service.make_period(
        start=date(2026, 3, 1), end=date(2026, 3, 31), timezone="Europe/Berlin"
    )
    [eur] = kpi_service.amounts(db_session=db_session, period=period, filters=kpi_service.Filters())
    assert eur.promised == D("3.00")
