"""Claims from CSV as spreadsheets export it (CONTRACT §2), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.claims import csvfile
from domain.claims import service as claim_service
from domain.claims.models import Claim, Creditor, Debtor
from domain.errors import ValidationFailed

HEADER = [
    "reference",
    "creditor",
    "subject",
    "contract_date",
    "invoice_date",
    "due_date",
    "currency",
    "principal",
    "interest",
    "fees",
    "status",
    "debtor_name",
    "date_of_birth",
    "postcode",
    "phone",
    "email",
    "language",
]


def _row(**changes: str) -> dict[str, str]:
    """A German spreadsheet row; `changes` replace cells."""
    row = {
        "reference": "260000117",
        "creditor": "stadtwerke",
        "subject": "Stromabrechnung Q1/2026",
        "contract_date": "01.09.2023",
        "invoice_date": "02.04.2026",
        "due_date": "30.04.2026",
        "currency": "EUR",
        "principal": "1.412,50",
        "interest": "9,18",
        "fees": "54,00",
        "status": "open",
        "debtor_name": "Jürgen Müller",
        "date_of_birth": "14.03.1987",
        "postcode": "20249",
        "phone": "+4915112345678",
        "email": "juergen.mueller@example.de",
        "language": "de",
    }
    row.update(changes)
    return row


def _write(
    path: Path,
    rows: list[dict[str, str]],
    *,
    delimiter: str = ";",
    encoding: str = "cp1252",
    header: list[str] = HEADER,
) -> Path:
    """Write rows as a spreadsheet would (quoting cells that hold the delimiter)."""

    def cell(value: str) -> str:
        return f'"{value}"' if delimiter in value or '"' in value else value

    lines = [delimiter.join(header)]
    lines += [delimiter.join(cell(row.get(c.lower(), "")) for c in header) for row in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


@pytest.fixture
def creditors_csv(tmp_path: Path) -> Path:
    """A creditors file in CSV, as `--creditors` takes it."""
    path = tmp_path / "creditors.csv"
    path.write_bytes(
        "id;name;address\r\nstadtwerke;Stadtwerke Süd GmbH;Hafenstraße 12, 20457 Hamburg\r\n"
        "modehaus;Modehaus Nord GmbH;Speicherweg 3, 28195 Bremen\r\n".encode("cp1252")
    )
    return path


def _count(db_session: Session, model: type[Any]) -> int:
    return db_session.scalar(select(func.count()).select_from(model)) or 0


def _import(db_session: Session, path: Path, creditors: Path | None, **kwargs: Any) -> Any:
    return claim_service.import_file(
        db_session=db_session, path=path, creditors_path=creditors, **kwargs
    )


# --- the formats spreadsheets write ----------------------------------------------------


def test_german_windows_1252_csv_with_semicolons_and_decimal_comma(
    db_session: Session, tmp_path: Path, creditors_csv: Path
) -> None:
    path = _write(
        tmp_path / "forderungen.csv",
        [
            _row(),
            _row(
                reference="260000125",
                creditor="modehaus",
                principal="38,9",
                interest="",
                fees="15",
                contract_date="",
                debtor_name="Zoë Weiß",
                date_of_birth="1995-11-02",
                phone="",
                email="",
            ),
        ],
    )
    assert b"\xfc" in path.read_bytes()  # ü as Windows-1252 writes it

    report = _import(db_session, path, creditors_csv)

    assert report.as_dict() == {
        "creditors": {"created": 2, "updated": 0, "unchanged": 0},
        "debtors": {"created": 2, "updated": 0, "unchanged": 0},
        "claims": {"created": 2, "updated": 0, "unchanged": 0},
    }
    assert report.warning_count == 0
    first = claim_service.get_by_reference(db_session=db_session, reference="260000117")
    assert first is not None
    assert (first.principal, first.interest, first.fees) == (
        Decimal("1412.50"),
        Decimal("9.18"),
        Decimal("54.00"),
    )
    assert (first.contract_date, first.invoice_date, first.due_date) == (
        date(2023, 9, 1),
        date(2026, 4, 2),
        date(2026, 4, 30),
    )
    assert first.debtor.name == "Jürgen Müller"
    assert first.debtor.date_of_birth == date(1987, 3, 14)
    assert first.creditor.name == "Stadtwerke Süd GmbH"
    second = claim_service.get_by_reference(db_session=db_session, reference="260000125")
    assert second is not None
    assert (second.principal, second.interest, second.fees) == (
        Decimal("38.90"),
        Decimal("0.00"),
        Decimal("15.00"),
    )
    assert second.contract_date is None
    assert (second.debtor.name, second.debtor.phone, second.debtor.email) == (
        "Zoë Weiß",
        None,
        None,
    )
    assert second.debtor.date_of_birth == date(1995, 11, 2)


def test_utf8_with_bom_commas_and_decimal_point(
    db_session: Session, tmp_path: Path, demo_claims_path: Path
) -> None:
    # The creditors are stored already (from the demo file), so no --creditors.
    claim_service.import_file(db_session=db_session, path=demo_claims_path)
    header = [name.upper() if name == "reference" else name for name in HEADER]  # any case
    path = _write(
        tmp_path / "claims.csv",
        [
            _row(
                reference="270000001",
                creditor="fitline-studios",
                subject="Beitrag, Januar bis März",  # a comma inside quotes
                principal="1,234.56",
                interest="0.5",
                fees="0",
                contract_date="2023-09-01",
                invoice_date="2026-04-02",
                due_date="2026-04-30",
                debtor_name="Åsa Øberg",
                date_of_birth="1990-01-31",
                language="en",
            )
        ],
        delimiter=",",
        encoding="utf-8-sig",
        header=header,
    )
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")

    report = _import(db_session, path, None)

    assert report.claims.created == 1
    claim = claim_service.get_by_reference(db_session=db_session, reference="270000001")
    assert claim is not None
    assert claim.subject == "Beitrag, Januar bis März"
    assert (claim.principal, claim.interest, claim.fees) == (
        Decimal("1234.56"),
        Decimal("0.50"),
        Decimal("0.00"),
    )
    assert (claim.debtor.name, claim.debtor.language) == ("Åsa Øberg", "en")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("412,50", "412.50"),
        ("412.50", "412.50"),
        ("1.234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("1.234.567", "1234567"),
        ("1,234", "1.234"),  # one mark is the decimal mark: refused for 3 places
        ("1,234,567", "1234567"),
        ("12,x", "12,x"),
        ("-3,00", "-3.00"),
    ],
)
def test_spreadsheet_amounts(cell: str, expected: str) -> None:
    assert csvfile.normalise_amount(cell) == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("30.04.2026", date(2026, 4, 30)),
        ("1.4.2026", date(2026, 4, 1)),
        ("2026-04-30", date(2026, 4, 30)),
        ("31.02.2026", None),
        ("04/30/2026", None),
        ("2026-4-30", None),
    ],
)
def test_spreadsheet_dates(cell: str, expected: date | None) -> None:
    assert csvfile.parse_date(cell) == expected


def test_encoding_is_recognised(tmp_path: Path) -> None:
    text = "reference;debtor_name\r\n1;Jürgen Müller\r\n"
    for encoding, expected in (
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("cp1252", "cp1252"),
        ("utf-16", "utf-16"),
    ):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(text.encode(encoding))
        assert csvfile.sniff_encoding(path) == expected


# --- real data is inconsistent -----------------------------------------------------------


def test_same_person_with_another_phone_is_one_debtor_and_a_warning(
    db_session: Session, tmp_path: Path, creditors_csv: Path
) -> None:
    path = _write(
        tmp_path / "claims.csv",
        [
            _row(reference="1001"),
            _row(reference="1002", phone="+4917099887766"),
            _row(reference="1003", phone="+4917099887766", email="jm@example.de"),
            _row(reference="1004", debtor_name="Anna Schmidt"),
        ],
    )

    report = _import(db_session, path, creditors_csv)

    assert report.debtors.created == 2 and report.claims.created == 4
    assert report.warning_count == 2
    assert report.warnings[0].startswith(
        "row 3 (reference 1002): debtor: same name and date of birth as row 2 but another phone"
    )
    assert report.warnings[1].startswith(
        "row 4 (reference 1003): debtor: same name and date of birth as row 3 but another email"
    )
    assert "99887766" not in "\n".join(report.warnings)  # no contact details in reports
    assert "warnings: 2" in str(report)
    debtors = list(db_session.scalars(select(Debtor).where(Debtor.name == "Jürgen Müller")))
    assert len(debtors) == 1
    assert (debtors[0].phone, debtors[0].email) == ("+4917099887766", "jm@example.de")
    references = {c.reference for c in debtors[0].claims}
    assert references == {"1001", "1002", "1003"}


def test_a_stored_debtor_with_new_details_is_updated_without_a_warning(
    db_session: Session, tmp_path: Path, creditors_csv: Path
) -> None:
    _import(db_session, _write(tmp_path / "a.csv", [_row(reference="1001")]), creditors_csv)
    path = _write(tmp_path / "b.csv", [_row(reference="1002", postcode="10115")])

    report = _import(db_session, path, None)

    assert (report.debtors.created, report.debtors.updated) == (0, 1)
    assert report.warning_count == 0
    debtor = db_session.scalar(select(Debtor).where(Debtor.name == "Jürgen Müller"))
    assert debtor is not None and debtor.postcode == "10115"


# --- malformed data is refused whole ------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"principal": "12,x"}, "row 3 (reference 1002): principal: not a decimal amount: '12,x'"),
        ({"fees": "1,234"}, "row 3 (reference 1002): fees: more than 2 decimal places: '1,234'"),
        ({"interest": "-1,00"}, "row 3 (reference 1002): interest: must not be negative"),
        ({"reference": ""}, "row 3: reference: Field required"),
        ({"creditor": "nobody"}, "row 3 (reference 1002): creditor: unknown creditor 'nobody'"),
        (
            {"due_date": "31.02.2026"},
            "row 3 (reference 1002): due_date: not a date (YYYY-MM-DD or DD.MM.YYYY): '31.02.2026'",
        ),
        ({"date_of_birth": "31.13.1987"}, "row 3 (reference 1002): date_of_birth: not a date"),
        ({"status": "closed"}, "row 3 (reference 1002): status: Input should be"),
        ({"phone": "0151 123"}, "row 3 (reference 1002): phone: not an E.164 phone number"),
        ({"debtor_name": ""}, "row 3 (reference 1002): debtor_name: Field required"),
        ({"reference": "1001"}, "row 3 (reference 1001): reference: duplicate of row 2"),
    ],
)
def test_malformed_row_is_refused_naming_row_and_field_and_nothing_is_written(
    db_session: Session,
    tmp_path: Path,
    creditors_csv: Path,
    changes: dict[str, str],
    expected: str,
) -> None:
    rows = [
        _row(reference="1001"),
        _row(**{"reference": "1002", **changes}),
        _row(reference="1003"),
    ]
    path = _write(tmp_path / "claims.csv", rows)

    with pytest.raises(ValidationFailed) as caught:
        _import(db_session, path, creditors_csv)

    assert caught.value.errors[0].startswith(expected), caught.value.errors
    assert len(caught.value.errors) == 1
    assert expected in caught.value.message
    assert "31.13.1987" not in "\n".join(caught.value.errors)  # never a date of birth
    assert (_count(db_session, Claim), _count(db_session, Debtor)) == (0, 0)
    assert _count(db_session, Creditor) == 0  # not even the creditors of --creditors


def test_every_bad_row_is_named(db_session: Session, tmp_path: Path, creditors_csv: Path) -> None:
    rows = [_row(reference=str(1000 + n), principal="x" if n % 2 else "1,00") for n in range(9)]
    with pytest.raises(ValidationFailed) as caught:
        _import(db_session, _write(tmp_path / "claims.csv", rows), creditors_csv)
    assert caught.value.message.startswith("claims file rejected, nothing imported (4 error(s))")
    assert [line.split(":")[0] for line in caught.value.errors] == [
        f"row {n + 2} (reference {1000 + n})" for n in (1, 3, 5, 7)
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ([*HEADER, "zinsen"], "header (row 1): unknown column 'zinsen'"),
        ([c for c in HEADER if c != "principal"], "header (row 1): column 'principal' is missing"),
        ([*HEADER, "fees"], "header (row 1): column 'fees' appears twice"),
    ],
)
def test_header_must_name_the_contract_columns(
    db_session: Session, tmp_path: Path, creditors_csv: Path, header: list[str], expected: str
) -> None:
    path = _write(tmp_path / "claims.csv", [_row()], header=header)
    with pytest.raises(ValidationFailed) as caught:
        _import(db_session, path, creditors_csv)
    assert expected in caught.value.errors
    assert _count(db_session, Claim) == 0


def test_a_file_neither_utf8_nor_windows_1252_is_refused(
    db_session: Session, tmp_path: Path, creditors_csv: Path
) -> None:
    path = _write(tmp_path / "claims.csv", [_row()])
    path.write_bytes(path.read_bytes() + b"1002;stadtwerke;\x81\r\n")  # 0x81: no cp1252 char
    with pytest.raises(ValidationFailed, match="neither UTF-8 nor Windows-1252"):
        _import(db_session, path, creditors_csv)
    assert _count(db_session, Claim) == 0


# --- dry run and re-import ------------------------------------------------------------------


def test_dry_run_validates_and_reports_without_writing(
    db_session: Session, tmp_path: Path, creditors_csv: Path
) -> None:
    path = _write(
        tmp_path / "claims.csv",
        [_row(reference="1001"), _row(reference="1002", phone="+4917099887766")],
    )

    report = _import(db_session, path, creditors_csv, dry_run=True)

    assert report.dry_run and str(report).startswith("dry run: validated only, nothing written")
    assert report.as_dict() == {
        "creditors": {"created": 2, "updated": 0, "unchanged": 0},
        "debtors": {"created": 1, "updated": 0, "unchanged": 0},
        "claims": {"created": 2, "updated": 0, "unchanged": 0},
    }
    assert report.warning_count == 1
    assert (_count(db_session, Claim), _count(db_session, Debtor)) == (0, 0)
    assert _count(db_session, Creditor) == 0

    bad = _write(tmp_path / "bad.csv", [_row(principal="zwölf")])
    with pytest.raises(ValidationFailed, match="principal: not a decimal amount"):
        _import(db_session, bad, creditors_csv, dry_run=True)


def test_reimport_of_the_same_file_changes_nothing(
    db_session: Session, tmp_path: Path, creditors_csv: Path
) -> None:
    # Jürgen's details change along the file: the re-import must not flip them back and forth.
    path = _write(
        tmp_path / "claims.csv",
        [
            _row(reference="1001"),
            _row(reference="1002", phone="+4917099887766"),
            _row(reference="1003", debtor_name="Anna Schmidt"),
        ],
    )
    _import(db_session, path, creditors_csv)
    stamps = {c.reference: c.updated_at for c in db_session.scalars(select(Claim))}

    again = _import(db_session, path, creditors_csv)

    assert not again.changed
    assert again.as_dict() == {
        "creditors": {"created": 0, "updated": 0, "unchanged": 2},
        "debtors": {"created": 0, "updated": 0, "unchanged": 2},
        "claims": {"created": 0, "updated": 0, "unchanged": 3},
    }
    assert {c.reference: c.updated_at for c in db_session.scalars(select(Claim))} == stamps
    dry = _import(db_session, path, creditors_csv, dry_run=True)
    assert not dry.changed

    changed = _write(
        tmp_path / "changed.csv",
        [
            _row(reference="1001"),
            _row(reference="1002", phone="+4917099887766", fees="60,00"),
            _row(reference="1003", debtor_name="Anna Schmidt"),
        ],
    )
    report = _import(db_session, changed, None)
    assert (report.claims.updated, report.claims.unchanged) == (1, 2)
    claim = claim_service.get_by_reference(db_session=db_session, reference="1002")
    assert claim is not None and claim.fees == Decimal("60.00")


# --- creditors of a CSV file --------------------------------------------------------------


def test_creditors_from_a_claims_json_without_claims(
    db_session: Session, tmp_path: Path, demo_claims_path: Path
) -> None:
    document = json.loads(demo_claims_path.read_text(encoding="utf-8"))
    creditors = tmp_path / "creditors.json"
    creditors.write_text(
        json.dumps({"format": "quitt-claims/1", "creditors": document["creditors"]}),
        encoding="utf-8",
    )
    path = _write(tmp_path / "claims.csv", [_row(creditor="modehaus-nord")])

    report = _import(db_session, path, creditors)

    assert (report.creditors.created, report.claims.created) == (3, 1)

    creditors.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ValidationFailed, match="a creditors file holds no claims"):
        _import(db_session, path, creditors)


def test_unknown_creditor_without_creditors_file(db_session: Session, tmp_path: Path) -> None:
    path = _write(tmp_path / "claims.csv", [_row()])
    with pytest.raises(ValidationFailed) as caught:
        _import(db_session, path, None)
    assert caught.value.errors == [
        "row 2 (reference 260000117): creditor: unknown creditor 'stadtwerke'"
    ]
