"""Who is who on import: same name and birthday is one debtor only when a further fact agrees."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from api.db.migrate import downgrade, upgrade
from domain.claims import files, importer
from domain.claims import service as claim_service
from domain.claims.ledger import Ledger
from domain.claims.models import Claim, Debtor
from domain.claims.parallel import CAN_FORK
from domain.db import make_engine, session_scope
from domain.errors import ValidationFailed
from tests.support.postgres import fresh_schema

CREDITORS = [
    {"id": "stadtwerke", "name": "Stadtwerke Süd GmbH", "address": "Hafenstraße 12, Hamburg"}
]
NAME, BORN = "Anna Schmidt", "1990-05-17"
PERSONAL = (NAME, BORN, "17.05.1990", "20249", "80331", "4915112345678", "example.de")


def _debtor(**changes: Any) -> dict[str, Any]:
    """A debtor entry; `changes` replace (or, given None, drop) fields."""
    debtor = {
        "name": NAME,
        "date_of_birth": BORN,
        "postcode": "20249",
        "phone": "+4915112345678",
        "email": "anna@example.de",
    }
    debtor.update(changes)
    return {k: v for k, v in debtor.items() if v is not None}


# Another Anna Schmidt, born the same day, who shares nothing else.
STRANGER = {"postcode": "80331", "phone": "+4917099988877", "email": "a.schmidt@example.com"}


def _claim(reference: str, **debtor: Any) -> dict[str, Any]:
    return {
        "reference": reference,
        "creditor": "stadtwerke",
        "subject": f"Rechnung {reference}",
        "due_date": "2026-04-30",
        "principal": "100.00",
        "debtor": _debtor(**debtor),
    }


def _document(*claims: dict[str, Any]) -> dict[str, Any]:
    return {"format": "quitt-claims/1", "creditors": CREDITORS, "claims": list(claims)}


def _import(db_session: Session, document: dict[str, Any], **kwargs: Any) -> Any:
    return claim_service.import_claims(db_session=db_session, data=document, **kwargs)


def _debtor_of(db_session: Session, reference: str) -> int:
    claim = db_session.get(Claim, reference)
    assert claim is not None
    return claim.debtor_id


def _debtors(db_session: Session) -> int:
    return db_session.scalar(select(func.count()).select_from(Debtor)) or 0


def _no_personal_data(report: Any) -> None:
    """The report names rows and references, never who the debtor is."""
    said = str(report)
    for value in PERSONAL:
        assert value not in said, value


# --- two people, one name and birthday ---------------------------------------------------


def test_two_strangers_with_the_same_name_and_birthday_stay_two_debtors(
    db_session: Session,
) -> None:
    report = _import(db_session, _document(_claim("A-1"), _claim("B-1", **STRANGER)))

    assert report.debtors.created == 2
    assert _debtor_of(db_session, "A-1") != _debtor_of(db_session, "B-1")
    assert report.warnings == [
        "claims[1] (reference B-1): debtor: same name and date of birth as claims[0] but no "
        "postcode, phone, email or debtor id in common; kept as two debtors"
    ]
    _no_personal_data(report)


@pytest.mark.parametrize(
    ("fact", "kept"),
    [
        ("postcode", {"postcode": "20249"}),
        ("postcode", {"postcode": "20 249"}),
        ("phone", {"phone": "+4915112345678"}),
        ("email", {"email": "Anna@Example.DE"}),
        ("external_id", {"external_id": "K-1001"}),
    ],
)
def test_one_agreeing_fact_makes_one_debtor(
    db_session: Session, fact: str, kept: dict[str, str]
) -> None:
    first = _claim("A-1", external_id="K-1001")
    # The same person moved, changed number and address; one fact still agrees.
    later = _claim("A-2", **{**STRANGER, "external_id": "K-2002", **kept})

    report = _import(db_session, _document(first, later))

    assert report.debtors.created == 1
    assert _debtor_of(db_session, "A-1") == _debtor_of(db_session, "A-2")
    [warning] = report.warnings
    assert warning.startswith("claims[1] (reference A-2): debtor: same name and date of birth as")
    assert "one debtor kept (the same" in warning and "with the later details" in warning
    _no_personal_data(report)
    debtor = db_session.get(Debtor, _debtor_of(db_session, "A-1"))
    assert debtor is not None and debtor.external_id == later["debtor"]["external_id"]


def test_a_differing_debtor_id_alone_does_not_tell_people_apart(db_session: Session) -> None:
    """Ids of different creditors may differ for one person; an agreeing fact still counts."""
    report = _import(
        db_session, _document(_claim("A-1", external_id="K-1"), _claim("A-2", external_id="X-9"))
    )

    assert report.debtors.created == 1


def test_a_third_row_joins_the_person_it_shares_a_fact_with(db_session: Session) -> None:
    document = _document(
        _claim("A-1"),
        _claim("B-1", **STRANGER),
        _claim("B-2", **{**STRANGER, "postcode": "10115"}),  # B moved, same phone
        _claim("A-3", phone=None, email=None),  # A, by postcode
    )

    report = _import(db_session, document)

    assert report.debtors.created == 2
    a, b = _debtor_of(db_session, "A-1"), _debtor_of(db_session, "B-1")
    assert a != b
    assert _debtor_of(db_session, "B-2") == b and _debtor_of(db_session, "A-3") == a
    assert report.warning_count == 3  # B-1 kept apart; B-2 and A-3 with other details


def test_reimporting_the_same_file_changes_nothing(db_session: Session) -> None:
    document = _document(
        _claim("A-1"),
        _claim("B-1", **STRANGER),
        _claim("A-2", postcode="10115"),  # A moved: same phone
        _claim("A-3", postcode="10115", phone="+4916000000000"),  # and a new phone: same postcode
        _claim("B-2", **STRANGER),
    )
    first = _import(db_session, document)
    owners = {ref: _debtor_of(db_session, ref) for ref in ("A-1", "A-2", "A-3", "B-1", "B-2")}

    again = _import(db_session, document)

    assert first.debtors.created == 2
    assert not again.changed
    assert again.as_dict()["debtors"] == {"created": 0, "updated": 0, "unchanged": 2}
    assert {ref: _debtor_of(db_session, ref) for ref in owners} == owners
    # A-1's stored debtor now has A-3's details: nothing agrees with A-1's row, yet the
    # claim keeps its debtor (the same person on the same claim).
    assert owners["A-1"] == owners["A-3"] != owners["B-1"] == owners["B-2"]
    assert again.warnings == first.warnings


def test_a_dry_run_counts_as_the_import_would(db_session: Session) -> None:
    document = _document(_claim("A-1"), _claim("B-1", **STRANGER), _claim("A-2"))

    dry = _import(db_session, document, dry_run=True)
    real = _import(db_session, document)

    assert dry.as_dict() == real.as_dict()
    assert dry.warnings == real.warnings
    assert real.debtors.created == 2


def test_a_later_file_meets_the_stored_debtors(db_session: Session) -> None:
    _import(db_session, _document(_claim("A-1", external_id="K-1")))
    stored = _debtor_of(db_session, "A-1")

    report = _import(
        db_session,
        _document(
            _claim("B-1", **STRANGER),  # a stranger
            # A, by the creditor's id, which outweighs B's postcode, phone and email.
            _claim("A-2", **{**STRANGER, "external_id": "K-1"}),
        ),
    )

    assert (report.debtors.created, report.debtors.updated) == (1, 1)
    assert _debtor_of(db_session, "A-2") == stored != _debtor_of(db_session, "B-1")
    assert report.warnings[0] == (
        f"claims[0] (reference B-1): debtor: same name and date of birth as stored debtor "
        f"{stored} but no postcode, phone, email or debtor id in common; kept as two debtors"
    )


def test_a_stored_claim_keeps_its_debtor_when_the_details_change(db_session: Session) -> None:
    _import(db_session, _document(_claim("A-1")))
    stored = _debtor_of(db_session, "A-1")

    report = _import(db_session, _document(_claim("A-1", **STRANGER)))

    assert (report.debtors.created, report.debtors.updated) == (0, 1)
    assert _debtor_of(db_session, "A-1") == stored


def test_a_stored_claim_given_another_name_finds_or_makes_that_person(
    db_session: Session,
) -> None:
    _import(db_session, _document(_claim("A-1"), _claim("C-1", name="Carla Schmidt")))
    anna, carla = _debtor_of(db_session, "A-1"), _debtor_of(db_session, "C-1")

    _import(db_session, _document(_claim("A-1", name="Carla Schmidt", **STRANGER)))

    # No fact agrees with the stored Carla: a third debtor, neither Anna nor Carla.
    assert _debtors(db_session) == 3
    assert _debtor_of(db_session, "A-1") not in (anna, carla)


# --- CSV ----------------------------------------------------------------------------------


HEADER = (
    "reference;creditor;subject;due_date;principal;"
    "debtor_name;date_of_birth;postcode;phone;email;debtor_external_id"
)


def _csv(path: Path, rows: list[str]) -> Path:
    path.write_text("\r\n".join([HEADER, *rows]) + "\r\n", encoding="utf-8")
    return path


def _csv_import(db_session: Session, path: Path, tmp_path: Path) -> Any:
    creditors = tmp_path / "creditors.json"
    creditors.write_text(json.dumps(_document()), encoding="utf-8")
    return claim_service.import_file(db_session=db_session, path=path, creditors_path=creditors)


def test_csv_debtor_external_id_column(db_session: Session, tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "claims.csv",
        [
            f"A-1;stadtwerke;Strom;30.04.2026;100,00;{NAME};17.05.1990;20249;;;K-1",
            f"A-2;stadtwerke;Gas;30.04.2026;50,00;{NAME};17.05.1990;80331;;;K-1",
            f"B-1;stadtwerke;Wasser;30.04.2026;20,00;{NAME};17.05.1990;10115;;;K-2",
        ],
    )

    report = _csv_import(db_session, path, tmp_path)
    again = _csv_import(db_session, path, tmp_path)

    assert report.debtors.created == 2
    assert _debtor_of(db_session, "A-1") == _debtor_of(db_session, "A-2")
    assert _debtor_of(db_session, "B-1") != _debtor_of(db_session, "A-1")
    assert report.warnings[-1] == (
        "row 4 (reference B-1): debtor: same name and date of birth as row 3 but no postcode, "
        "phone, email or debtor id in common; kept as two debtors"
    )
    _no_personal_data(report)
    assert not again.changed


def test_csv_debtor_external_id_is_named_by_its_column(db_session: Session, tmp_path: Path) -> None:
    long_id = "K" * 65
    path = _csv(
        tmp_path / "claims.csv",
        [f"A-1;stadtwerke;Strom;30.04.2026;100,00;{NAME};17.05.1990;20249;;;{long_id}"],
    )

    with pytest.raises(ValidationFailed) as caught:
        _csv_import(db_session, path, tmp_path)

    assert caught.value.errors[0].startswith("row 2 (reference A-1): debtor_external_id: ")


# --- large files: batches, the ledger on disk, validation in a child ------------------------


@pytest.fixture(params=["memory", "disk"])
def ledger_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run with the ledger in memory, and moved to its scratch file early on."""
    if request.param == "disk":
        monkeypatch.setattr(importer, "Ledger", lambda: Ledger(memory_limit=40))
    return str(request.param)


@pytest.fixture(params=["here", "in-child"])
def validated(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Validate in this process, and in a forked child (as large files are)."""
    if request.param == "in-child":
        if not CAN_FORK:
            pytest.skip("no fork on this platform")
        monkeypatch.setattr(importer, "PARALLEL_FROM_BYTES", 0)
    return str(request.param)


def _twins(count: int) -> dict[str, Any]:
    """`count` pairs of strangers sharing a name and birthday; each person on two claims.

    Each person's second claim comes far later in the file (another batch); the first
    twin's brings a new phone (the postcode still agrees).
    """
    claims = []
    for round_ in range(2):
        for n in range(count):
            same = {"name": f"Person {n}", "date_of_birth": f"19{60 + n % 40}-0{1 + n % 9}-15"}
            phone = f"+49151{n:08d}" if round_ == 0 else f"+49170{n:08d}"
            first = {**same, "postcode": f"{10000 + n}", "phone": phone}
            second = {**same, "postcode": f"{50000 + n}", "email": f"twin{n}@example.org"}
            claims.append(_claim(f"T{round_}-{n}-a") | {"debtor": first})
            claims.append(_claim(f"T{round_}-{n}-b") | {"debtor": second})
    return _document(*claims)


def test_many_batches_keep_strangers_apart_and_reimport_changes_nothing(
    db_session: Session, tmp_path: Path, ledger_kind: str, validated: str
) -> None:
    path = tmp_path / "claims.json"
    path.write_text(json.dumps(_twins(60)), encoding="utf-8")

    dry = importer.run_import(
        db_session=db_session, source=files.open_claims(path), batch_size=16, dry_run=True
    )
    report = importer.run_import(
        db_session=db_session, source=files.open_claims(path), batch_size=16
    )
    again = importer.run_import(
        db_session=db_session, source=files.open_claims(path), batch_size=16
    )

    assert dry.as_dict() == report.as_dict() and dry.warnings == report.warnings
    assert report.as_dict()["debtors"] == {"created": 120, "updated": 0, "unchanged": 0}
    assert report.as_dict()["claims"]["created"] == 240
    # 60 twins kept apart, 60 people met again with a new phone.
    assert report.warning_count == 120
    assert _debtors(db_session) == 120
    for n in range(60):
        assert _debtor_of(db_session, f"T0-{n}-a") == _debtor_of(db_session, f"T1-{n}-a")
        assert _debtor_of(db_session, f"T0-{n}-b") == _debtor_of(db_session, f"T1-{n}-b")
        assert _debtor_of(db_session, f"T0-{n}-a") != _debtor_of(db_session, f"T0-{n}-b")
    assert not again.changed
    assert again.as_dict()["debtors"] == {"created": 0, "updated": 0, "unchanged": 120}


# --- the migration ----------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Return the URL of an empty database (a new schema on PostgreSQL)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'quitt.db'}"
        return
    with fresh_schema("quitt_identity") as url:  # skips (or fails in CI) without the server
        yield url


def test_migration_0006_keeps_stored_debtors_both_ways(fresh_url: str) -> None:
    upgrade(fresh_url, "0005")
    engine = make_engine(fresh_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO creditors (id, name, address, policy) "
                    "VALUES ('stadtwerke', 'S', 'Weg 1', 'default')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO debtors (id, name, date_of_birth, postcode, language) "
                    "VALUES (7, 'Max Muster', '1980-01-02', '10115', 'de')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO claims (reference, creditor_id, debtor_id, subject, due_date, "
                    "currency, principal, interest, fees, status, created_at, updated_at) "
                    "VALUES ('R-1', 'stadtwerke', 7, 's', '2026-01-01', 'EUR', 10, 0, 0, "
                    "'open', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
        upgrade(fresh_url)  # the debtors table is rebuilt on SQLite while a claim refers to it
        with session_scope(engine) as db_session:
            debtor = db_session.get(Debtor, 7)
            assert debtor is not None and debtor.external_id is None
            assert _debtor_of(db_session, "R-1") == 7
        downgrade(fresh_url, "0005")
        upgrade(fresh_url)
        with session_scope(engine) as db_session:
            assert _debtor_of(db_session, "R-1") == 7
            _import(db_session, _document(_claim("A-1"), _claim("B-1", **STRANGER)))
        # Going down would have to merge the two Anna Schmidts: refused, nothing changed.
        with pytest.raises(RuntimeError, match="more than one debtor"):
            downgrade(fresh_url, "0005")
        with session_scope(engine) as db_session:
            assert _debtors(db_session) == 3
    finally:
        engine.dispose()
