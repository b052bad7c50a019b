"""Claims (and creditors) from CSV as spreadsheets export it, row by row.

Spreadsheets write `;` or `,` between cells (German locales use `;`, because the
comma is their decimal mark), UTF-8 with or without a byte-order mark, UTF-16
("Unicode text") or the Windows code page 1252, decimal comma or point, and
dates as `YYYY-MM-DD` or `DD.MM.YYYY`. The header row names the columns (any
case, in any order); columns this module does not know are refused, so that a
misspelt `interest` column cannot silently become 0.00.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, Final

from domain.claims.schemas import CLAIM_VALUES, CreditorIn
from domain.claims.source import ClaimSource, RawClaim, reject, validate_creditors
from domain.errors import ValidationFailed

DELIMITERS: Final = ";,\t"
_SNIFF_CHUNK: Final = 1 << 20

# Columns of a claims file, in ClaimIn's shape: the debtor's columns go to `debtor`.
CLAIM_COLUMNS: Final = ("reference", "creditor", *CLAIM_VALUES)
DEBTOR_COLUMNS: Final = {
    "debtor_name": "name",
    "date_of_birth": "date_of_birth",
    "postcode": "postcode",
    "phone": "phone",
    "email": "email",
    "language": "language",
    # The creditor's own id of the debtor; prefixed like `debtor_name`, as a bare
    # `external_id` would read as the claim's.
    "debtor_external_id": "external_id",
}
REQUIRED_COLUMNS: Final = (
    "reference",
    "creditor",
    "subject",
    "due_date",
    "principal",
    "debtor_name",
    "date_of_birth",
    "postcode",
)
AMOUNT_COLUMNS: Final = frozenset({"principal", "interest", "fees"})
DATE_COLUMNS: Final = frozenset({"contract_date", "invoice_date", "due_date", "date_of_birth"})
CREDITOR_COLUMNS: Final = ("id", "name", "address", "policy", "iban", "bic", "account_holder")

_DECIMAL_COMMA = re.compile(r"-?\d+,\d+")
_GROUPED_DE = re.compile(r"-?\d{1,3}(?:\.\d{3})+(?:,\d+)?")
_GROUPED_EN = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_GERMAN_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


def normalise_amount(text: str) -> str:
    """Write a spreadsheet amount with a decimal point and no grouping (`1.234,56` -> `1234.56`).

    One mark alone is the decimal mark (`412,50`, `412.50`); grouping is only read when
    both marks appear (`1.234,56`, `1,234.56`) or one repeats (`1.234.567`), so `1,234`
    stays 1.234 and is refused for its third decimal place instead of silently becoming
    1234. Anything else is returned unchanged, for the amount check to refuse by name.
    """
    if "," not in text:
        if text.count(".") > 1 and _GROUPED_DE.fullmatch(text):
            return text.replace(".", "")
        return text
    if "." not in text:
        if _DECIMAL_COMMA.fullmatch(text):
            return text.replace(",", ".")
        if _GROUPED_EN.fullmatch(text):
            return text.replace(",", "")
        return text
    if _GROUPED_DE.fullmatch(text):
        return text.replace(".", "").replace(",", ".")
    if _GROUPED_EN.fullmatch(text):
        return text.replace(",", "")
    return text


@lru_cache(maxsize=1 << 14)
def parse_date(text: str) -> date | None:
    """Read `YYYY-MM-DD` or `DD.MM.YYYY`; None when it is neither or no such day.

    Cached: a file of 100,000 claims has a few thousand distinct dates at most.
    """
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = match.groups()
    elif match := _GERMAN_DATE.fullmatch(text):
        day, month, year = match.groups()
    else:
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def sniff_encoding(path: Path) -> str:
    """Tell UTF-8 (with or without BOM) and UTF-16 from Windows-1252, reading in chunks."""
    with path.open("rb") as stream:
        start = stream.read(4)
        if start.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        stream.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := stream.read(_SNIFF_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8"


def _undecodable(path: Path, exc: UnicodeDecodeError) -> ValidationFailed:
    """Refuse a file whose bytes are no text in the encodings spreadsheets write."""
    return ValidationFailed(
        f"cannot read {path}: neither UTF-8 nor Windows-1252 text ({exc.reason})"
    )


def _column(name: str) -> str:
    """Normalise a header cell: `Date of birth` -> `date_of_birth`."""
    return re.sub(r"[\s-]+", "_", name.strip().strip("\ufeff").strip().lower())


@dataclass
class CsvTable:
    """An open CSV file: its column names and its rows, numbered as a spreadsheet shows them."""

    path: Path
    columns: list[str]
    binary: BinaryIO
    text: io.TextIOWrapper
    reader: Any  # csv.reader: its type has no public name

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Yield (row number, stripped cells in column order) for every row that is not blank."""
        width = len(self.columns)
        number = 1  # the header is row 1
        try:
            for cells in self.reader:
                number += 1
                cells = [cell.strip() for cell in cells]
                if len(cells) != width:
                    if not any(cells):
                        continue
                    if any(cells[width:]):
                        message = f"row {number}: {len(cells)} cells, the header names {width}"
                        raise reject([message])
                    cells = (cells + [""] * width)[:width]
                elif not any(cells):
                    continue
                yield number, cells
        except UnicodeDecodeError as exc:
            raise _undecodable(self.path, exc) from None
        except csv.Error as exc:
            raise reject([f"row {number + 1}: malformed CSV: {exc}"]) from None
        finally:
            self.close()

    def bytes_read(self) -> int:
        """Return how far the file was read."""
        return 0 if self.binary.closed else self.binary.tell()

    def close(self) -> None:
        """Close the file."""
        self.text.close()


def open_table(path: Path, known: tuple[str, ...], required: tuple[str, ...]) -> CsvTable:
    """Open a CSV file: find its encoding and delimiter, check its header row."""
    try:
        encoding = sniff_encoding(path)
        binary = path.open("rb")
    except OSError as exc:
        raise ValidationFailed(f"cannot read {path}: {exc}") from exc
    text = io.TextIOWrapper(binary, encoding=encoding, newline="")
    try:
        header_line = text.readline()
        counts = {d: header_line.count(d) for d in DELIMITERS}
        delimiter = max(counts, key=lambda d: counts[d])
        if not counts[delimiter]:
            raise ValidationFailed(
                f"{path}: the first row must name the columns, separated by ';' or ','"
            )
        header = next(csv.reader([header_line], delimiter=delimiter))
        columns = [_column(cell) for cell in header]
        while columns and not columns[-1]:
            columns.pop()  # trailing delimiters
        problems = [f"unknown column {c!r}" for c in columns if c not in known]
        problems += [f"column {c!r} appears twice" for c in set(columns) if columns.count(c) > 1]
        problems += [f"column {c!r} is missing" for c in required if c not in columns]
        if problems:
            raise reject([f"header (row 1): {problem}" for problem in problems])
    except UnicodeDecodeError as exc:
        text.close()
        raise _undecodable(path, exc) from None
    except BaseException:
        text.close()
        raise
    reader = csv.reader(text, delimiter=delimiter)
    return CsvTable(path, columns, binary, text, reader)


class _Shaper:
    """Shape the rows of one claims file like JSON claims, column by column."""

    def __init__(self, columns: list[str]) -> None:
        places = list(enumerate(columns))
        plain = [(i, c) for i, c in places if c not in AMOUNT_COLUMNS and c not in DATE_COLUMNS]
        self.claim_text = [(i, c) for i, c in plain if c not in DEBTOR_COLUMNS]
        self.debtor_text = [(i, DEBTOR_COLUMNS[c]) for i, c in plain if c in DEBTOR_COLUMNS]
        self.amounts = [(i, c) for i, c in places if c in AMOUNT_COLUMNS]
        self.dates = [
            (i, c, DEBTOR_COLUMNS.get(c, c), c in DEBTOR_COLUMNS)
            for i, c in places
            if c in DATE_COLUMNS
        ]

    def claim(self, number: int, cells: list[str]) -> RawClaim:
        """Shape one row; an empty cell is a missing value (the default, or "Field required")."""
        claim: dict[str, Any] = {key: cells[i] for i, key in self.claim_text if cells[i]}
        debtor: dict[str, Any] = {key: cells[i] for i, key in self.debtor_text if cells[i]}
        written: dict[str, str] = {}
        for index, column in self.amounts:
            if cell := cells[index]:
                claim[column] = amount = normalise_amount(cell)
                if amount != cell:
                    written[column] = cell  # for messages: they quote the cell as written
        problems: list[tuple[str, str]] = []
        for index, column, key, of_debtor in self.dates:
            if cell := cells[index]:
                day = parse_date(cell)
                if day is None:
                    shown = "" if column == "date_of_birth" else f": {cell!r}"  # no birthdays
                    problems.append((column, f"not a date (YYYY-MM-DD or DD.MM.YYYY){shown}"))
                else:
                    (debtor if of_debtor else claim)[key] = day
        claim["debtor"] = debtor
        return RawClaim(number, claim, tuple(problems), written)


def row_name(number: int, data: Any = None) -> str:
    """Name a row as the spreadsheet shows it: `row 5 (reference 260000141)`."""
    name = f"row {number}"
    if isinstance(data, dict) and data.get("reference"):
        name += f" (reference {data['reference']})"
    return name


def column_name(loc: tuple[int | str, ...]) -> str:
    """Name the column of a pydantic error location: `("debtor", "name")` -> `debtor_name`."""
    if loc[:1] == ("debtor",) and len(loc) > 1:
        return f"debtor_{loc[1]}" if loc[1] in ("name", "external_id") else str(loc[1])
    return ".".join(str(part) for part in loc) or "row"


def read_csv(path: Path, creditors: list[CreditorIn]) -> ClaimSource:
    """Open a claims CSV file; its creditors come from elsewhere (`--creditors` or the database)."""
    known = (*CLAIM_COLUMNS, *DEBTOR_COLUMNS)
    table = open_table(path, known, REQUIRED_COLUMNS)
    shaper = _Shaper(table.columns)
    return ClaimSource(
        creditors=creditors,
        claims=(shaper.claim(number, cells) for number, cells in table.rows()),
        entry_name=row_name,
        field_name=column_name,
        bytes_read=table.bytes_read,
        size=os.path.getsize(path),
        close=table.close,
    )


def read_creditors_csv(path: Path) -> list[CreditorIn]:
    """Read creditors from CSV: `id`, `name`, `address`; optionally `policy` and bank details."""
    table = open_table(path, CREDITOR_COLUMNS, CREDITOR_COLUMNS[:3])
    entries: list[dict[str, str]] = []
    numbers: list[int] = []
    for number, cells in table.rows():
        pairs = zip(table.columns, cells, strict=True)
        entries.append({column: cell for column, cell in pairs if cell})
        numbers.append(number)
    return validate_creditors(
        entries, lambda index, entry: row_name(numbers[index], None) + _creditor_id(entry)
    )


def _creditor_id(entry: Any) -> str:
    return f" (id {entry['id']})" if isinstance(entry, dict) and entry.get("id") else ""
