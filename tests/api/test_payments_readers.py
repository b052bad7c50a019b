"""Bank statements read whole or refused whole: camt.053 (.001.02, .001.08) and CSV."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from domain.errors import ValidationFailed
from domain.payments.service import read_statement

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "payments"
D = Decimal


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_camt_001_02_gives_booked_credits_and_reports_the_rest() -> None:
    statement = read_statement(FIXTURES / "camt053_001_02.xml")
    assert statement.source == "camt.053.001.02"
    by_id = {line.transaction_id: line for line in statement.credits}
    assert set(by_id) == {"2026051500000101", "2026051500000104", "NtryRef:2026-05-15:5"}
    first = by_id["2026051500000101"]
    assert (first.amount, first.currency, first.booked_on) == (
        D("200.00"),
        "EUR",
        date(2026, 5, 15),
    )
    assert first.remittance == "AZ 260 000 117 Rate 1"
    assert first.payer == "Jana Becker"
    assert sorted(s.reason for s in statement.skipped) == ["debit", "not booked (PDNG)"]


def test_camt_001_08_reads_nested_status_and_party_and_splits_a_batch() -> None:
    statement = read_statement(FIXTURES / "camt053_001_08.xml")
    assert statement.source == "camt.053.001.08"
    by_id = {line.transaction_id: line for line in statement.credits}
    assert set(by_id) == {"2026061500000201", "2026061500000202/1", "2026061500000202-2"}
    assert by_id["2026061500000201"].payer == "Jana Becker"
    carter, obrien = by_id["2026061500000202/1"], by_id["2026061500000202-2"]
    assert (carter.amount, carter.remittance) == (D("295.84"), "Ref. 260000141")
    assert (obrien.amount, obrien.remittance, obrien.payer) == (
        D("54.16"),
        "260000174",
        "Daniel O'Brien",
    )
    assert [s.reason for s in statement.skipped] == ["reversal"]


def _camt(entries: str, version: str = "08") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">'
        "<BkToCstmrStmt><GrpHdr><MsgId>1</MsgId><CreDtTm>2026-05-16T06:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>1</Id><Acct><Id><IBAN>DE02120300000000202051</IBAN></Id></Acct>{entries}"
        "</Stmt></BkToCstmrStmt></Document>"
    )


def _entry(amount: str = "10.00", ref: str = "R1", booked: str = "2026-05-15") -> str:
    return (
        f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>'
        f"<BookgDt><Dt>{booked}</Dt></BookgDt><AcctSvcrRef>{ref}</AcctSvcrRef>"
        "<NtryDtls><TxDtls><RmtInf><Ustrd>260000117</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
    )


def test_a_malformed_camt_file_is_refused_naming_entry_and_field(tmp_path: Path) -> None:
    entries = _entry() + _entry("12,50", "R2") + _entry("5.00", "R3", "2026-02-30")
    path = write(tmp_path, "bad.xml", _camt(entries))
    with pytest.raises(ValidationFailed) as refused:
        read_statement(path)
    assert refused.value.message.startswith("statement rejected, nothing imported (2 error(s))")
    assert refused.value.errors == [
        "entry 2 (AcctSvcrRef R2): Amt: not an amount: '12,50'",
        "entry 3 (AcctSvcrRef R3): BookgDt/Dt: not a date: '2026-02-30'",
    ]


def test_a_credit_without_any_transaction_id_is_refused(tmp_path: Path) -> None:
    entry = (
        '<Ntry><Amt Ccy="EUR">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
        "<BookgDt><Dt>2026-05-15</Dt></BookgDt></Ntry>"
    )
    with pytest.raises(ValidationFailed, match=r"entry 1: AcctSvcrRef: no transaction id"):
        read_statement(write(tmp_path, "noid.xml", _camt(entry, "02")))


def test_two_different_credits_under_one_id_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.xml", _camt(_entry("10.00", "R1") + _entry("11.00", "R1")))
    with pytest.raises(ValidationFailed, match=r"entry 2 \(AcctSvcrRef R1\): transaction id"):
        read_statement(path)


def test_the_same_credit_listed_twice_is_read_once(tmp_path: Path) -> None:
    statement = read_statement(write(tmp_path, "twice.xml", _camt(_entry() + _entry())))
    assert len(statement.credits) == 1


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("<Document><x/></Document>", "not a camt.053 bank statement (no namespace)"),
        (
            '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"/>',
            "not a camt.053 bank statement (camt.054.001.08)",
        ),
        ("<Document><unclosed></Document>", "not well-formed XML"),
    ],
)
def test_other_documents_are_refused(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(ValidationFailed, match=problem.replace("(", r"\(").replace(")", r"\)")):
        read_statement(write(tmp_path, "other.xml", text))


def test_entities_and_dtds_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("AZ 260000117", encoding="utf-8")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&x;</Document>'
    )
    with pytest.raises(ValidationFailed, match="refused XML construct"):
        read_statement(write(tmp_path, "xxe.xml", xxe))


def test_csv_with_semicolons_decimal_commas_and_windows_1252(tmp_path: Path) -> None:
    text = (
        "Booking date;Amount;Remittance;Payer;Transaction ID\r\n"
        "15.05.2026;1.200,50;AZ 260000117 Überweisung;Jürgen Müller;T-1\r\n"
        "15.05.2026;-12,90;Kontoführung;;T-2\r\n"
        "2026-05-16;+54,92;26000125;Murat Yılmaz;T-3\r\n"
    )
    statement = read_statement(write(tmp_path, "bank.csv", text.replace("ı", "i"), "cp1252"))
    assert statement.source == "csv"
    assert [(c.transaction_id, c.amount, c.booked_on) for c in statement.credits] == [
        ("T-1", D("1200.50"), date(2026, 5, 15)),
        ("T-3", D("54.92"), date(2026, 5, 16)),
    ]
    assert statement.credits[0].payer == "Jürgen Müller"
    assert statement.credits[0].remittance == "AZ 260000117 Überweisung"
    assert [(s.reason, s.amount) for s in statement.skipped] == [("debit", D("12.90"))]


def test_csv_with_commas_and_points(tmp_path: Path) -> None:
    text = "transaction_id,booking_date,amount,remittance,payer\nX9,2026-05-15,75.50,260000141,\n"
    [line] = read_statement(write(tmp_path, "bank.csv", text)).credits
    assert (line.transaction_id, line.amount, line.payer) == ("X9", D("75.50"), None)


def test_a_malformed_csv_is_refused_naming_row_and_column(tmp_path: Path) -> None:
    text = (
        "booking_date;amount;remittance;payer;transaction_id\n"
        "15.05.2026;10,00;260000117;A;T-1\n"
        "31.02.2026;10,00;260000117;A;T-2\n"
        "15.05.2026;zehn;260000117;A;T-3\n"
        "15.05.2026;10,00;260000117;A;\n"
    )
    with pytest.raises(ValidationFailed) as refused:
        read_statement(write(tmp_path, "bad.csv", text))
    assert refused.value.errors == [
        "row 3 (transaction_id T-2): booking_date: not a date (YYYY-MM-DD or DD.MM.YYYY): "
        "'31.02.2026'",
        "row 4 (transaction_id T-3): amount: not an amount: 'zehn'",
        "row 5: transaction_id: missing",
    ]


def test_a_csv_without_the_needed_columns_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.csv", "date;betrag\n15.05.2026;10,00\n")
    with pytest.raises(ValidationFailed) as refused:
        read_statement(path)
    assert refused.value.message.startswith("statement rejected, nothing imported")
    assert "header (row 1): unknown column 'date'" in refused.value.errors
