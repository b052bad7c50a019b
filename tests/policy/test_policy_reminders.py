"""Tests for policy.reminders: when reminders are due and whether one may go out now."""

from dataclasses import replace
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from policy.config import DEFAULT_POLICY as P
from policy.errors import InvalidRequest
from policy.reminders import (
    AFTER_MISS,
    BEFORE_DUE,
    DuePayment,
    Facts,
    Reminder,
    choose_channel,
    decide,
    due_reminders,
    next_allowed_moment,
    plan,
    reminder_key,
)

BERLIN = ZoneInfo("Europe/Berlin")
POLICIES = (P,)
# Monday to Friday only, as a stricter creditor might have it.
WEEKDAYS_ONLY = replace(
    P,
    name="weekdays",
    version="weekdays@1",
    contact_hours=replace(P.contact_hours, weekdays=frozenset(range(5))),
)


def berlin(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def payment(
    due: date,
    *,
    promised: datetime | None = None,
    instalment: int | None = 2,
    status: str = "pending",
) -> DuePayment:
    return DuePayment(
        promise_id=7,
        instalment=instalment,
        due_date=due,
        promised_at=promised or berlin(11, 2),
        status=status,
    )


def facts(**changes: object) -> Facts:
    base = Facts(payment_status="pending", promise_status="pending", claim_statuses=("open",))
    return replace(base, **changes)  # type: ignore[arg-type]


def reminder(kind: str = BEFORE_DUE, due: date = date(2026, 12, 21)) -> Reminder:
    return next(r for r in plan(payment(due), policies=POLICIES) if r.kind == kind)


# --- planning -----------------------------------------------------------------------------


def test_a_payment_gets_one_reminder_three_days_before_and_one_the_day_after() -> None:
    reminders = plan(payment(date(2026, 12, 21)), policies=POLICIES)
    assert [(r.kind, r.planned_for) for r in reminders] == [
        (BEFORE_DUE, berlin(12, 18)),
        (AFTER_MISS, berlin(12, 22)),
    ]
    assert [r.key for r in reminders] == ["before_due:7:2", "after_miss:7:2"]


@pytest.mark.parametrize(
    ("promised", "kinds"),
    [
        (berlin(12, 17, 23, 59), (BEFORE_DUE, AFTER_MISS)),  # the day before the reminder's day
        (berlin(12, 18, 8, 0), (AFTER_MISS,)),  # on the reminder's day: the confirmation says it
        (berlin(12, 20, 15, 0), (AFTER_MISS,)),
    ],
)
def test_a_payment_promised_within_three_days_gets_no_before_due_reminder(
    promised: datetime, kinds: tuple[str, ...]
) -> None:
    reminders = plan(payment(date(2026, 12, 21), promised=promised), policies=POLICIES)
    assert tuple(r.kind for r in reminders) == kinds


def test_keys_are_one_per_kind_and_payment() -> None:
    assert reminder_key(BEFORE_DUE, 7, None) == "before_due:7:0"
    assert reminder_key(AFTER_MISS, 7, 3) == "after_miss:7:3"
    with pytest.raises(InvalidRequest):
        reminder_key("threat", 7, 1)


@pytest.mark.parametrize(
    ("now", "keys"),
    [
        (berlin(12, 18, 9, 59), []),
        (berlin(12, 18, 10, 0), ["before_due:7:2"]),
        (berlin(12, 21, 19, 0), ["before_due:7:2"]),  # still true on the due date
        (berlin(12, 22, 9, 0), []),  # before_due too late, after_miss not yet
        (berlin(12, 22, 10, 0), ["after_miss:7:2"]),
        (berlin(12, 26, 18, 0), ["after_miss:7:2"]),  # due + 5 grace days: still worth it
        (berlin(12, 27, 8, 0), []),  # the promise breaks: the re-plan takes over
    ],
)
def test_due_reminders_at_a_moment(now: datetime, keys: list[str]) -> None:
    found = due_reminders([payment(date(2026, 12, 21))], now=now, policies=POLICIES)
    assert [r.key for r in found] == keys


def test_only_open_payments_are_reminded() -> None:
    now = berlin(12, 22, 12)
    payments = [
        payment(date(2026, 12, 21), instalment=1, status="kept"),
        payment(date(2026, 12, 21), instalment=2, status="broken"),
        payment(date(2026, 12, 21), instalment=None),
    ]
    assert [r.key for r in due_reminders(payments, now=now, policies=POLICIES)] == [
        "after_miss:7:0"
    ]


def test_the_longest_grace_of_several_creditors_counts() -> None:
    patient = replace(P, name="patient", version="patient@1", broken_promise_grace_days=10)
    now = berlin(12, 30, 12)
    assert due_reminders([payment(date(2026, 12, 21))], now=now, policies=POLICIES) == []
    found = due_reminders([payment(date(2026, 12, 21))], now=now, policies=(P, patient))
    assert [r.kind for r in found] == [AFTER_MISS]


def test_naive_times_are_refused() -> None:
    with pytest.raises(InvalidRequest):
        due_reminders([payment(date(2026, 12, 21))], now=datetime(2026, 12, 18), policies=POLICIES)
    with pytest.raises(InvalidRequest):
        plan(payment(date(2026, 12, 21), promised=datetime(2026, 11, 2)), policies=POLICIES)


# --- deciding -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "action", "reasons", "not_before"),
    [
        (berlin(12, 18, 10), "send", ("reminder_allowed",), None),  # Friday
        (berlin(12, 19, 19, 59), "send", ("reminder_allowed",), None),  # Saturday
        (berlin(12, 18, 7, 59), "defer", ("outside_contact_hours",), berlin(12, 18, 8)),
        (berlin(12, 19, 20, 0), "defer", ("outside_contact_hours",), berlin(12, 21, 8)),
        (berlin(12, 20, 12), "defer", ("sunday",), berlin(12, 21, 8)),
        (datetime(2026, 12, 20, 11, tzinfo=UTC), "defer", ("sunday",), berlin(12, 21, 8)),
    ],
)
def test_contact_hours(
    now: datetime, action: str, reasons: tuple[str, ...], not_before: datetime | None
) -> None:
    decision = decide(reminder(), facts(), now=now, policies=POLICIES)
    assert (decision.action, decision.reasons, decision.not_before) == (
        action,
        reasons,
        not_before,
    )
    assert decision.policy_version == P.version


def test_a_reminder_planned_on_a_public_holiday_waits_for_the_next_working_day() -> None:
    # Due Monday 28 December: planned for Christmas Day (Friday), then the Second Day of
    # Christmas (Saturday), then Sunday: it goes on Monday at 08:00, the due date itself.
    late = reminder(BEFORE_DUE, date(2026, 12, 28))
    assert late.planned_for == berlin(12, 25)
    decision = decide(late, facts(), now=berlin(12, 25, 10), policies=POLICIES)
    assert decision.action == "defer"
    assert decision.reasons == ("public_holiday:Christmas Day",)
    assert decision.not_before == berlin(12, 28, 8)
    assert decide(late, facts(), now=berlin(12, 28, 8), policies=POLICIES).send


def test_a_miss_reminder_on_new_years_day_waits_for_the_next_day() -> None:
    missed = reminder(AFTER_MISS, date(2026, 12, 31))
    decision = decide(missed, facts(), now=missed.planned_for, policies=POLICIES)
    assert decision.reasons == ("public_holiday:New Year's Day",)
    assert decision.not_before == datetime(2027, 1, 2, 8, tzinfo=BERLIN)  # a Saturday


def test_every_creditors_hours_must_allow_it() -> None:
    saturday = berlin(12, 19, 12)
    decision = decide(reminder(), facts(), now=saturday, policies=(P, WEEKDAYS_ONLY))
    assert decision.action == "defer"
    assert decision.reasons == ("outside_contact_days",)
    assert decision.not_before == berlin(12, 21, 8)
    assert next_allowed_moment(berlin(12, 18, 21), (P, WEEKDAYS_ONLY)) == berlin(12, 21, 8)


@pytest.mark.parametrize(
    ("changes", "reasons"),
    [
        ({"opted_out": True}, ("opted_out",)),
        ({"debtor_in_insolvency": True}, ("claim_insolvency",)),
        ({"claim_statuses": ("open", "insolvency")}, ("claim_insolvency",)),
        ({"payment_status": "kept"}, ("payment_kept",)),
        ({"promise_status": "cancelled"}, ("promise_not_pending",)),
        ({"promise_status": "broken"}, ("promise_not_pending",)),
        ({"claim_statuses": ("paid", "paid")}, ("claim_paid",)),
        (
            {"opted_out": True, "open_dispute": True, "held_by_agent": True},
            ("opted_out",),
        ),
    ],
)
def test_skipped_for_good(changes: dict[str, object], reasons: tuple[str, ...]) -> None:
    decision = decide(reminder(), facts(**changes), now=berlin(12, 20, 12), policies=POLICIES)
    assert (decision.action, decision.reasons, decision.not_before) == ("skip", reasons, None)


@pytest.mark.parametrize(
    ("changes", "reasons"),
    [
        ({"open_dispute": True}, ("claim_disputed",)),
        ({"claim_statuses": ("open", "disputed")}, ("claim_disputed",)),
        ({"held_by_agent": True}, ("held_by_agent",)),
        ({"held_by_agent": True, "open_dispute": True}, ("claim_disputed", "held_by_agent")),
    ],
)
def test_waits_while_disputed_or_held_by_an_agent(
    changes: dict[str, object], reasons: tuple[str, ...]
) -> None:
    decision = decide(reminder(), facts(**changes), now=berlin(12, 18, 10), policies=POLICIES)
    assert (decision.action, decision.reasons, decision.not_before) == ("defer", reasons, None)
    # On a Sunday it waits for both: the next allowed moment, and the hold to end.
    sunday = decide(reminder(), facts(**changes), now=berlin(12, 20, 10), policies=POLICIES)
    assert sunday.reasons == (*reasons, "sunday")
    assert sunday.not_before == berlin(12, 21, 8)


def test_a_reminder_that_waited_too_long_is_skipped() -> None:
    before = reminder(BEFORE_DUE)
    decision = decide(before, facts(held_by_agent=True), now=berlin(12, 22, 9), policies=POLICIES)
    assert (decision.action, decision.reasons) == ("skip", ("reminder_too_late",))
    missed = reminder(AFTER_MISS)
    assert decide(missed, facts(), now=berlin(12, 24, 19), policies=POLICIES).send
    late = decide(missed, facts(), now=berlin(12, 27, 8), policies=POLICIES)
    assert late.reasons == ("reminder_too_late",)


# --- channels -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last_used", "reachable", "channel"),
    [
        ("whatsapp", {"whatsapp", "sms", "email"}, "whatsapp"),
        ("whatsapp", {"sms", "email"}, "sms"),
        ("voice", {"whatsapp", "sms", "email"}, "sms"),
        ("voice", {"email"}, "email"),
        ("web", {"whatsapp", "sms", "email"}, "email"),
        ("web", {"whatsapp", "sms"}, "whatsapp"),
        ("rest", {"sms"}, "sms"),
        (None, {"sms", "email"}, "email"),
        ("web", set(), None),
    ],
)
def test_the_channel_the_debtor_last_used_comes_first(
    last_used: str | None, reachable: set[str], channel: str | None
) -> None:
    assert choose_channel(last_used=last_used, reachable=reachable) == channel


def test_planned_time_is_mid_morning_local() -> None:
    before = reminder()
    assert before.planned_for.timetz().replace(tzinfo=None) == time(10, 0)
    assert before.planned_for.utcoffset() == berlin(12, 18).utcoffset()
