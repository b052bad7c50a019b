"""Creditors' bank details in claims files (JSON and `--creditors` CSV), and migration 0009."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from api.db.migrate import downgrade, upgrade
from domain.claims import service as claim_service
from domain.claims.models import Creditor
from domain.config import Settings
from domain.db import make_engine
from domain.errors import ValidationFailed

IBAN = "DE02120300000000202051"


def with_bank(data: dict[str, Any], **details: str) -> dict[str, Any]:
    """Return the demo document with bank details on its first creditor (stadtwerke)."""
    document = copy.deepcopy(data)
    document["creditors"][0].update(details)
    return document


def test_bank_details_are_imported_compact_and_a_reimport_changes_nothing(
    db_session: Session, demo_data: dict[str, Any]
) -> None:
    document = with_bank(
        demo_data,
        iban="de02 1203 0000 0000 2020 51",
        bic="byladem1001",
        account_holder="Stadtwerke Musterstadt GmbH",
    )
    claim_service.import_claims(db_session=db_session, data=document)
    creditor = db_session.get(Creditor, "stadtwerke-musterstadt")
    assert creditor is not None
    assert (creditor.iban, creditor.bic, creditor.account_holder) == (
        IBAN,
        "BYLADEM1001",
        "Stadtwerke Musterstadt GmbH",
    )
    other = db_session.get(Creditor, "modehaus-nord")
    assert other is not None and (other.iban, other.bic, other.account_holder) == (None,) * 3

    again = claim_service.import_claims(db_session=db_session, data=document)
    assert again.creditors.unchanged == 3


@pytest.mark.parametrize(
    ("details", "error"),
    [
        (
            {"iban": "DE02120300000000202052"},
            "creditors[0] (id stadtwerke-musterstadt): iban: the IBAN's check digits do not "
            "match (a typo?): DE02********2052",
        ),
        (
            {"iban": IBAN, "bic": "BYLADEM10"},
            "creditors[0] (id stadtwerke-musterstadt): bic: not a BIC",
        ),
        (
            {"bic": "BYLADEM1001"},
            "creditors[0] (id stadtwerke-musterstadt): bic: bic given without an iban",
        ),
        (
            {"iban": IBAN, "account_holder": "x" * 71},
            "creditors[0] (id stadtwerke-musterstadt): account_holder: String should have at "
            "most 70",
        ),
    ],
)
def test_wrong_bank_details_reject_the_file_naming_creditor_and_field(
    db_session: Session, demo_data: dict[str, Any], details: dict[str, str], error: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        claim_service.import_claims(db_session=db_session, data=with_bank(demo_data, **details))
    assert caught.value.errors[0].startswith(error), caught.value.errors
    assert db_session.get(Creditor, "stadtwerke-musterstadt") is None  # nothing written


def test_creditors_csv_carries_bank_details(
    db_session: Session, tmp_path: Path, demo_data: dict[str, Any]
) -> None:
    creditors = tmp_path / "creditors.csv"
    creditors.write_bytes(
        (
            "id;name;address;iban;bic;account_holder\n"
            f"stadtwerke;Stadtwerke GmbH;Hafenstraße 12;{IBAN};BYLADEM1001;Stadtwerke\n"
            "modehaus;Modehaus Nord;Speicherweg 3, 28195 Bremen;;;\n"
        ).encode("cp1252")
    )
    claims = tmp_path / "claims.csv"
    claims.write_text(
        "reference;creditor;subject;due_date;principal;debtor_name;date_of_birth;postcode\n"
        "900000001;stadtwerke;Strom;30.04.2026;100,00;Erika Muster;01.01.1970;20249\n",
        encoding="utf-8",
    )
    claim_service.import_file(db_session=db_session, path=claims, creditors_path=creditors)
    stadtwerke = db_session.get(Creditor, "stadtwerke")
    modehaus = db_session.get(Creditor, "modehaus")
    assert stadtwerke is not None and modehaus is not None
    assert (stadtwerke.iban, stadtwerke.bic, stadtwerke.account_holder) == (
        IBAN,
        "BYLADEM1001",
        "Stadtwerke",
    )
    assert modehaus.iban is None

    creditors.write_text(
        "id;name;address;iban\nstadtwerke;Stadtwerke GmbH;Hafenstraße 12;DE0212030000000020205\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationFailed) as caught:
        claim_service.import_file(db_session=db_session, path=claims, creditors_path=creditors)
    assert caught.value.errors == [
        "row 2 (id stadtwerke): iban: an IBAN of DE has 22 characters, this one 21: "
        "DE02********0205"
    ]


def test_the_demo_file_still_imports_without_bank_details(tmp_path: Path) -> None:
    # Bank details are optional: the demo creditors have none (the agency's account pays).
    document = json.loads((Path(__file__).parents[2] / "data" / "demo_claims.json").read_text())
    assert all("iban" not in creditor for creditor in document["creditors"])


@pytest.mark.parametrize(
    ("environment", "iban", "problem"),
    [
        ("production", "DE89370400440532013000", "QUITT_AGENCY_IBAN is the example account"),
        ("development", "DE89370400440532013001", "check digits do not match"),
        ("production", "DE02120300000000202051", None),
        ("production", "", None),
    ],
)
def test_the_agency_account_is_checked_and_the_example_refused_in_production(
    environment: str, iban: str, problem: str | None
) -> None:
    secret = "x" * 40
    if problem is None:
        settings = Settings(environment=environment, secret_key=secret, agency_iban=iban)  # type: ignore[arg-type]
        assert settings.agency_iban == (iban or None)
        return
    with pytest.raises(ValueError, match=problem):
        Settings(environment=environment, secret_key=secret, agency_iban=iban)  # type: ignore[arg-type]


def _creditor_columns(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {c["name"] for c in inspect(conn).get_columns("creditors")}
    finally:
        engine.dispose()


def test_migration_0009_goes_down_and_up_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/bank.db"
    upgrade(url)
    assert {"iban", "bic", "account_holder"} <= _creditor_columns(url)
    downgrade(url, "0008")
    assert not {"iban", "bic", "account_holder"} & _creditor_columns(url)
    upgrade(url)
    assert {"iban", "bic", "account_holder"} <= _creditor_columns(url)


@pytest.mark.postgres
def test_migration_0009_goes_down_and_up_on_postgresql(postgres_url: str) -> None:
    downgrade(postgres_url, "0008")
    try:
        assert not {"iban", "bic", "account_holder"} & _creditor_columns(postgres_url)
    finally:
        upgrade(postgres_url)
    assert {"iban", "bic", "account_holder"} <= _creditor_columns(postgres_url)
