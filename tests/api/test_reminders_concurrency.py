"""Two sweepers at once on one outbox: every reminder goes out exactly once.

Two gateway processes each sweep on their own timer. Here two sweepers (their own
engines, connections and Twilio clients, in two threads) run the same sweep at the
same moment over 21 due reminders, in batches of 3, while the Twilio stand-in counts
what arrives. On PostgreSQL the claim is `FOR UPDATE SKIP LOCKED`; on SQLite the
unit of work's write lock. The same holds with a sweeper that starts late.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select

from api.reminders.sweeper import SweepReport
from domain.claims.models import Claim
from domain.db import make_engine, session_scope
from tests.api.reminders_support import (
    berlin,
    make_promise,
    reminder_audit,
    reminders,
    settings_for,
    sweep,
)
from tests.support.twilio_standin import TwilioStandIn

SWEEPERS = 2


def _open_claims(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with session_scope(engine) as db_session:
            return list(
                db_session.scalars(
                    select(Claim.reference).where(Claim.status == "open").order_by(Claim.reference)
                )
            )
    finally:
        engine.dispose()


@pytest.mark.parametrize("stagger", [False, True])
def test_two_sweepers_send_each_reminder_exactly_once(
    outbox_url: str, standin: TwilioStandIn, stagger: bool
) -> None:
    setup = make_engine(outbox_url)
    claims = _open_claims(outbox_url)
    expected = 3 * len(claims)  # 21: seven open demo claims
    try:
        # Every open demo claim has three promises of a payment due on 21 December.
        for reference in claims:
            for n in range(3):
                make_promise(setup, reference, [(f"{20 + n}.00", date(2026, 12, 21))], kind="full")
    finally:
        setup.dispose()
    settings = settings_for(standin)
    now = berlin(12, 18, 10)
    start = threading.Barrier(SWEEPERS)
    reports: list[SweepReport] = []
    errors: list[BaseException] = []

    def run(index: int) -> None:
        engine = make_engine(outbox_url)
        try:
            start.wait()
            if stagger and index:
                # The second sweeper comes in while the first is under way.
                deadline = time.monotonic() + 30
                while len(standin.messages) < 3 and time.monotonic() < deadline:
                    time.sleep(0.01)
            reports.append(sweep(engine, settings, now))
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(SWEEPERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(reports) == SWEEPERS

    engine = make_engine(outbox_url)
    try:
        rows = reminders(engine)
        sent = [e for e in reminder_audit(engine) if e.kind == "reminder_sent"]
    finally:
        engine.dispose()
    assert len(rows) == expected
    assert {r.state for r in rows} == {"sent"}
    assert len({r.key for r in rows}) == expected
    # One message per reminder at the stand-in: no reminder twice, none lost.
    assert len(standin.messages) == expected
    assert len({m["Body"] + m["To"] for m in standin.messages}) == expected
    assert sum(r.sent for r in reports) == expected
    assert sum(r.planned for r in reports) == expected
    assert len(sent) == expected
    per_debtor = Counter(m["To"] for m in standin.messages)
    assert set(per_debtor.values()) <= {3, 6}  # Sabine Krüger has two claims
