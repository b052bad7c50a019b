"""Tests for policy.config: the default policy, validation and the YAML loader."""

from dataclasses import replace
from datetime import time
from decimal import Decimal
from pathlib import Path

import pytest

from policy.config import (
    DEFAULT_POLICY,
    SHIPPED_POLICY_FILE,
    ContactHours,
    CreditorPolicy,
    default_book,
    load_policies,
)
from policy.errors import InvalidPolicy, InvalidPolicyFile, PolicyError, PolicyNotFound


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "creditors.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_policy_is_contract_section_4() -> None:
    p = DEFAULT_POLICY
    assert (p.name, p.version) == ("default", "default@2026-11-1")
    assert p.min_instalment == Decimal("25.00")
    assert (p.max_months, p.first_instalment_days, p.full_payment_days) == (24, 14, 14)
    assert (p.settlement_max_discount, p.settlement_min_total) == (
        Decimal("0.10"),
        Decimal("100.00"),
    )
    assert (p.settlement_days, p.deferral_max_days, p.max_deferrals) == (14, 30, 1)
    assert (p.max_verification_failures, p.lockout_minutes) == (3, 30)
    hours = p.contact_hours
    assert hours.weekdays == frozenset(range(6))
    assert (hours.start, hours.end) == (time(8), time(20))
    assert (hours.timezone, hours.holiday_country, hours.holiday_subdivision) == (
        "Europe/Berlin",
        "DE",
        None,
    )


def test_shipped_file_spells_out_the_builtin_default() -> None:
    book = load_policies(SHIPPED_POLICY_FILE)
    assert book.get("default") == DEFAULT_POLICY
    assert book.names == ("default",)
    assert book.version == "2026-11-1"


def test_shipped_strict_example_loads_when_uncommented(tmp_path: Path) -> None:
    text = SHIPPED_POLICY_FILE.read_text(encoding="utf-8")
    text = text.replace("  # strict:", "  strict:").replace("  #   ", "    ")
    strict = load_policies(write(tmp_path, text)).get("strict")
    assert strict.max_months == 12
    assert strict.settlement_max_discount == Decimal("0.05")
    assert strict.min_instalment == DEFAULT_POLICY.min_instalment


def test_named_policies_inherit_from_the_file_default(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
version: "7"
policies:
  default:
    min_instalment: 30
    contact_hours: {start: "09:00", holiday_subdivision: BY}
  strict:
    max_months: 12
    settlement_max_discount: 0.05
    contact_hours: {end: "18:00", weekdays: [mon, tue, wed, thu, fri]}
  same: ~
""",
    )
    book = load_policies(path)
    assert book.names == ("default", "same", "strict")
    assert "strict" in book and "nope" not in book and len(book) == 3
    default, strict = book.get("default"), book["strict"]
    assert default.version == "default@7" and strict.version == "strict@7"
    assert default.min_instalment == Decimal("30.00")
    assert strict.min_instalment == Decimal("30.00")
    assert strict.max_months == 12 and default.max_months == 24
    assert strict.settlement_max_discount == Decimal("0.05")
    assert strict.contact_hours.start == time(9) and strict.contact_hours.end == time(18)
    assert strict.contact_hours.holiday_subdivision == "BY"
    assert strict.contact_hours.weekdays == frozenset(range(5))
    assert book.get("same") == replace(default, name="same", version="same@7")


def test_builtin_default_is_present_when_the_file_has_none(tmp_path: Path) -> None:
    book = load_policies(write(tmp_path, 'version: "x"\npolicies:\n  other: {max_months: 6}\n'))
    assert book.get("default") == replace(DEFAULT_POLICY, version="default@x")
    assert book.get("other").max_months == 6


def test_unknown_policy_name_raises_policy_not_found() -> None:
    with pytest.raises(PolicyNotFound, match="'acme'") as raised:
        default_book().get("acme")
    assert raised.value.known == ("default",)
    assert isinstance(raised.value, PolicyError)


@pytest.mark.parametrize(
    ("body", "policy", "key"),
    [
        ("strict: {max_mnths: 12}", "strict", "max_mnths"),
        ("strict: {max_months: -1}", "strict", "max_months"),
        ("strict: {max_months: 1}", "strict", "max_months"),
        ("strict: {max_months: 12.5}", "strict", "max_months"),
        ("strict: {max_months: true}", "strict", "max_months"),
        ("strict: {deferral_max_days: -30}", "strict", "deferral_max_days"),
        ("strict: {settlement_max_discount: 1}", "strict", "settlement_max_discount"),
        ("strict: {settlement_max_discount: 1.5}", "strict", "settlement_max_discount"),
        ("strict: {settlement_max_discount: -0.1}", "strict", "settlement_max_discount"),
        ("strict: {settlement_max_discount: abc}", "strict", "settlement_max_discount"),
        ("strict: {min_instalment: 0}", "strict", "min_instalment"),
        ("strict: {min_instalment: .nan}", "strict", "min_instalment"),
        ("strict: {settlement_min_total: -100}", "strict", "settlement_min_total"),
        ("default: {max_verification_failures: 0}", "default", "max_verification_failures"),
        ("strict: {contact_hours: {start: 9:00}}", "strict", "contact_hours.start"),
        ("strict: {contact_hours: {end: 20:00}}", "strict", "contact_hours.end"),
        ('strict: {contact_hours: {start: "21:00"}}', "strict", "contact_hours.end"),
        ('strict: {contact_hours: {start: "8 Uhr"}}', "strict", "contact_hours.start"),
        ("strict: {contact_hours: {weekdays: [mon, sun]}}", "strict", "contact_hours.weekdays"),
        ("strict: {contact_hours: {weekdays: [funday]}}", "strict", "contact_hours.weekdays"),
        ("strict: {contact_hours: {weekdays: []}}", "strict", "contact_hours.weekdays"),
        ("strict: {contact_hours: {timezone: Mars/Base}}", "strict", "contact_hours.timezone"),
        (
            "strict: {contact_hours: {holiday_country: XX}}",
            "strict",
            "contact_hours.holiday_country",
        ),
        (
            "strict: {contact_hours: {holiday_subdivision: ZZ}}",
            "strict",
            "contact_hours.holiday_subdivision",
        ),
        ("strict: {contact_hours: {colour: red}}", "strict", "contact_hours.colour"),
        ("strict: [1, 2]", "strict", "-"),
    ],
)
def test_invalid_settings_name_the_policy_and_key(
    tmp_path: Path, body: str, policy: str, key: str
) -> None:
    path = write(tmp_path, f'version: "1"\npolicies:\n  {body}\n')
    with pytest.raises(InvalidPolicyFile) as raised:
        load_policies(path)
    assert (raised.value.policy, raised.value.key) == (policy, key)
    assert raised.value.path == path
    assert f"policy {policy!r}, key {key!r}" in str(raised.value)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("policies: {}\n", "version"),
        ('version: "1"\ncolour: red\n', "colour"),
        ('version: "1"\npolicies: [a]\n', "policies"),
        ("- just a list\n", "-"),
        ("version: [unclosed\n", "-"),
    ],
)
def test_malformed_files_are_refused(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(InvalidPolicyFile) as raised:
        load_policies(write(tmp_path, text))
    assert raised.value.key == key


def test_duplicate_policy_names_are_refused(tmp_path: Path) -> None:
    text = 'version: "1"\npolicies:\n  strict: {max_months: 12}\n  strict: {max_months: 6}\n'
    with pytest.raises(InvalidPolicyFile, match="occurs twice") as raised:
        load_policies(write(tmp_path, text))
    assert raised.value.key == "strict"


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidPolicyFile, match="cannot read"):
        load_policies(tmp_path / "nope.yml")


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"max_months": 0}, "max_months"),
        ({"settlement_max_discount": Decimal("1.00")}, "settlement_max_discount"),
        ({"lockout_minutes": -5}, "lockout_minutes"),
        ({"name": ""}, "name"),
        ({"min_instalment": Decimal("NaN")}, "min_instalment"),
        (
            {"contact_hours": ContactHours(frozenset({0}), time(20), time(8))},
            "contact_hours.end",
        ),
    ],
)
def test_policies_validate_themselves(changes: dict[str, object], key: str) -> None:
    with pytest.raises(InvalidPolicy) as raised:
        replace(DEFAULT_POLICY, **changes)  # type: ignore[arg-type]
    assert raised.value.key == key


def test_policy_money_is_quantised_to_cents() -> None:
    policy = CreditorPolicy(name="x", version="x@1", min_instalment=Decimal("25"))
    assert str(policy.min_instalment) == "25.00"
