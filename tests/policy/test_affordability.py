"""The affordability check (policy/affordability.py) and the § 850c ZPO table it cites."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from policy.affordability import (
    AFFORDABLE_BELOW_MINIMUM,
    AFFORDABLE_PLAN,
    LIMITED_BY_OUTGOINGS,
    LIMITED_BY_PROTECTED_INCOME,
    Household,
    affordable_amount,
    assess,
)
from policy.config import DEFAULT_POLICY as P
from policy.errors import InvalidAmount, InvalidPolicyFile, InvalidRequest
from policy.pfaendung import (
    SHIPPED_TABLE_FILE,
    TABLE_CURRENT,
    TABLE_STALE,
    load_table,
    parse_table,
)
from policy.plans import propose_plan

D = Decimal
TABLE = load_table()
JULY_2025 = date(2025, 7, 1)


def household(net: str, *, out: str = "0", dependants: int = 0, **kinds: str) -> Household:
    """A household whose outgoings are all rent unless given by kind."""
    values = {"rent": out, "energy": "0", "food": "0", "transport": "0", "other_debts": "0"}
    values.update(kinds)
    return Household(
        net_income=D(net), dependants=dependants, **{k: D(v) for k, v in values.items()}
    )


# -- § 850c ZPO: looked up by date and dependants --------------------------------------------


@pytest.mark.parametrize(
    ("on", "dependants", "amount", "valid_from"),
    [
        # Pfändungsfreigrenzenbekanntmachung 2025: 1555.00 + 585.23 + 4 x 326.04 at most.
        (date(2025, 7, 1), 0, "1555.00", "2025-07-01"),
        (date(2025, 12, 24), 1, "2140.23", "2025-07-01"),
        (date(2026, 3, 1), 2, "2466.27", "2025-07-01"),
        (date(2026, 6, 30), 3, "2792.31", "2025-07-01"),
        (date(2025, 7, 1), 4, "3118.35", "2025-07-01"),
        (date(2025, 7, 1), 5, "3444.39", "2025-07-01"),
        (date(2025, 7, 1), 9, "3444.39", "2025-07-01"),  # no more than five count
        # The day before: the 2024 announcement (1491.75, 561.43, 312.78).
        (date(2025, 6, 30), 0, "1491.75", "2024-07-01"),
        (date(2025, 6, 30), 1, "2053.18", "2024-07-01"),
        (date(2025, 6, 30), 5, "3304.30", "2024-07-01"),
        (date(2024, 7, 1), 2, "2365.96", "2024-07-01"),
    ],
)
def test_protected_income_by_date_and_dependants(
    on: date, dependants: int, amount: str, valid_from: str
) -> None:
    protected = TABLE.lookup(on=on, dependants=dependants)
    assert protected.amount == D(amount)
    assert protected.valid_from.isoformat() == valid_from
    assert protected.dependants == dependants
    assert not protected.stale and protected.reason == TABLE_CURRENT


def test_the_cited_record_names_law_announcement_and_dates() -> None:
    record = TABLE.lookup(on=date(2025, 9, 1), dependants=1).to_record()
    assert record == {
        "law": "§ 850c ZPO",
        "amount": "2140.23",
        "dependants": 1,
        "announcement": "Pfändungsfreigrenzenbekanntmachung 2025",
        "source": "BGBl. 2025 I Nr. 110 vom 11.04.2025",
        "valid_from": "2025-07-01",
        "valid_until": "2026-06-30",
        "looked_up_on": "2025-09-01",
        "stale": False,
    }


def test_a_day_past_the_newest_announcement_keeps_it_but_says_it_is_stale() -> None:
    newest = TABLE.announcements[0]
    protected = TABLE.lookup(on=newest.valid_until + timedelta(days=1), dependants=0)
    assert protected.announcement == newest
    assert protected.stale and protected.reason == TABLE_STALE
    # An older announcement's end is not staleness: the next one took over.
    older = TABLE.announcements[1]
    assert not TABLE.lookup(on=older.valid_until, dependants=0).stale


def test_before_the_oldest_announcement_there_is_no_answer() -> None:
    with pytest.raises(InvalidRequest):
        TABLE.lookup(on=date(2024, 6, 30), dependants=0)


@pytest.mark.parametrize("dependants", [-1, True, 1.5])
def test_dependants_must_be_a_whole_number(dependants: object) -> None:
    with pytest.raises(InvalidRequest):
        TABLE.lookup(on=JULY_2025, dependants=dependants)  # type: ignore[arg-type]


def _document() -> dict[str, object]:
    data = yaml.safe_load(SHIPPED_TABLE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda t: t[0].update(base=1555.0), "base"),  # unquoted: a float
        (lambda t: t[0].update(base="-1"), "base"),
        (lambda t: t[0].update(valid_from="1.7.2025"), "valid_from"),
        (lambda t: t[0].update(valid_until="2025-06-30"), "valid_until"),  # before its start
        (lambda t: t[1].update(valid_until="2025-07-01"), "valid_until"),  # overlaps 2025
        (lambda t: t[0].pop("source"), "source"),
        (lambda t: t[0].update(extra="x"), "extra"),
        (lambda t: t[0].update(max_dependants=0), "max_dependants"),
    ],
)
def test_a_broken_table_is_refused_with_the_key(change: object, key: str) -> None:
    document = _document()
    change(document["tables"])  # type: ignore[operator]
    with pytest.raises(InvalidPolicyFile) as refused:
        parse_table(document, path=Path("pfaendung.yml"))
    assert refused.value.key == key


def test_the_shipped_table_is_dated_and_versioned() -> None:
    assert TABLE.version
    assert [a.valid_from for a in TABLE.announcements] == sorted(
        (a.valid_from for a in TABLE.announcements), reverse=True
    )
    assert TABLE.announcements[0].valid_from == JULY_2025


# -- the assessment ------------------------------------------------------------------------

PROTECTED_0 = TABLE.lookup(on=date(2025, 10, 1), dependants=0)  # 1555.00
PROTECTED_2 = TABLE.lookup(on=date(2025, 10, 1), dependants=2)  # 2466.27


@pytest.mark.parametrize(
    ("net", "out", "expected", "binding"),
    [
        # Left after outgoings is the limit.
        ("2400.00", "2200.00", "200.00", LIMITED_BY_OUTGOINGS),
        # The protected income is the limit: 1700 - 1555 = 145 although 700 are left.
        ("1700.00", "1000.00", "145.00", LIMITED_BY_PROTECTED_INCOME),
        # At the protected income exactly, nothing can be paid.
        ("1555.00", "0.00", "0.00", LIMITED_BY_PROTECTED_INCOME),
        # Below it, and outgoings above the income: never negative.
        ("1200.00", "0.00", "0.00", LIMITED_BY_PROTECTED_INCOME),
        ("3000.00", "3100.00", "0.00", LIMITED_BY_OUTGOINGS),
        # One cent above the protected income.
        ("1555.01", "0.00", "0.01", LIMITED_BY_PROTECTED_INCOME),
    ],
)
def test_affordable_is_the_smaller_of_left_and_above_the_protected_income(
    net: str, out: str, expected: str, binding: str
) -> None:
    home = household(net, out=out)
    assert affordable_amount(home, PROTECTED_0) == D(expected)
    decision = assess(household=home, protected=PROTECTED_0, total=D("475.68"), policy=P)
    assert decision.affordable == D(expected)
    assert binding in decision.reasons


def test_outgoings_add_up_by_kind() -> None:
    home = household(
        "2000", rent="650", energy="95.50", food="400", transport="58", other_debts="120"
    )
    assert home.total_outgoings == D("1323.50")
    assert home.left == D("676.50")
    assert list(home.outgoings) == ["rent", "energy", "food", "transport", "other_debts"]


@pytest.mark.parametrize(
    ("net", "out", "total", "monthly", "reason"),
    [
        # Fits: the affordable amount rounded down to whole euros.
        ("1700.00", "1000.00", "475.68", "145.00", AFFORDABLE_PLAN),
        ("2400.00", "2210.40", "475.68", "189.00", AFFORDABLE_PLAN),
        # Exactly the floor (25.00) fits.
        ("1580.00", "0.00", "475.68", "25.00", AFFORDABLE_PLAN),
        # 25.50 affordable against a floor of 25.17 (604 / 24): rounding down to 25 would
        # fall below the floor, so the floor itself (still within 25.50) is proposed.
        ("1580.50", "0.00", "604.00", "25.17", AFFORDABLE_PLAN),
        # One cent below the floor: a person decides.
        ("1579.99", "0.00", "475.68", None, AFFORDABLE_BELOW_MINIMUM),
        ("1500.00", "200.00", "475.68", None, AFFORDABLE_BELOW_MINIMUM),
    ],
)
def test_a_plan_is_proposed_only_from_the_floor_up(
    net: str, out: str, total: str, monthly: str | None, reason: str
) -> None:
    decision = assess(
        household=household(net, out=out), protected=PROTECTED_0, total=D(total), policy=P
    )
    assert decision.reasons[0] == reason
    assert decision.monthly == (None if monthly is None else D(monthly))
    assert decision.fits is (monthly is not None)
    assert decision.handoff_reason == (None if monthly else "policy_limit")
    assert decision.policy_version == P.version


def test_dependants_raise_the_protected_income_and_lower_what_fits() -> None:
    alone = household("2600.00", out="1500.00", dependants=0)
    family = household("2600.00", out="1500.00", dependants=2)
    total = D("1304.70")
    assert assess(household=alone, protected=PROTECTED_0, total=total, policy=P).monthly == D(
        "1045.00"
    )
    # 2600.00 - 2466.27 = 133.73: the protected income is the limit.
    with_family = assess(household=family, protected=PROTECTED_2, total=total, policy=P)
    assert with_family.affordable == D("133.73")
    assert with_family.monthly == D("133.00")


def test_the_protected_income_must_be_for_the_same_household() -> None:
    with pytest.raises(InvalidRequest):
        assess(
            household=household("3000", dependants=1),
            protected=PROTECTED_0,
            total=D("500"),
            policy=P,
        )


@pytest.mark.parametrize(
    "bad",
    [{"net_income": D("-1")}, {"rent": D("2000000")}, {"food": "abc"}],
)
def test_bad_amounts_are_refused(bad: dict[str, object]) -> None:
    values: dict[str, object] = {
        "net_income": D("1000"),
        "rent": D("0"),
        "energy": D("0"),
        "food": D("0"),
        "transport": D("0"),
        "other_debts": D("0"),
        "dependants": 0,
    }
    values.update(bad)
    with pytest.raises(InvalidAmount):
        Household(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("dependants", [-1, 21, True])
def test_bad_dependants_are_refused(dependants: object) -> None:
    with pytest.raises(InvalidRequest):
        household("1000", dependants=dependants)  # type: ignore[arg-type]


def test_the_statement_holds_every_figure_and_the_dated_table() -> None:
    home = household(
        "1650", rent="700", energy="90", food="380", transport="49", other_debts="0", dependants=1
    )
    protected = TABLE.lookup(on=date(2025, 8, 15), dependants=1)
    statement = assess(
        household=home, protected=protected, total=D("475.68"), policy=P
    ).to_statement(currency="EUR")
    assert statement["net_income"] == "1650.00"
    assert statement["outgoings"] == {
        "rent": "700.00",
        "energy": "90.00",
        "food": "380.00",
        "transport": "49.00",
        "other_debts": "0.00",
    }
    assert statement["outgoings_total"] == "1219.00" and statement["left"] == "431.00"
    assert statement["above_protected"] == "-490.23"  # 1650.00 - 2140.23
    assert statement["affordable"] == "0.00" and statement["outcome"] == "below_minimum"
    assert statement["minimum_instalment"] == "25.00"
    assert statement["proposed_instalment"] is None
    cited = statement["protected_income"]
    assert isinstance(cited, dict)
    assert (cited["amount"], cited["valid_from"]) == ("2140.23", "2025-07-01")


@settings(max_examples=300, deadline=None)
@given(
    net=st.decimals(min_value=0, max_value=8000, places=2),
    spent=st.lists(st.decimals(min_value=0, max_value=1500, places=2), min_size=5, max_size=5),
    dependants=st.integers(min_value=0, max_value=7),
    total=st.decimals(min_value=50, max_value=20000, places=2),
)
def test_no_instalment_ever_leaves_less_than_the_protected_income(
    net: Decimal, spent: list[Decimal], dependants: int, total: Decimal
) -> None:
    home = Household(net, *spent, dependants=dependants)
    protected = TABLE.lookup(on=date(2025, 11, 1), dependants=dependants)
    decision = assess(household=home, protected=protected, total=total, policy=P)
    if not decision.fits:
        assert decision.affordable < decision.floor
        return
    assert decision.monthly is not None
    plan = propose_plan(total=total, today=date(2025, 11, 1), policy=P, monthly=decision.monthly)
    assert plan.offer is not None
    largest = max((i.amount for i in plan.offer.instalments), default=plan.offer.amount)
    # Every payment fits what is left and keeps the protected income.
    assert largest <= decision.affordable
    assert net - largest >= protected.amount
    assert net - home.total_outgoings - largest >= 0
