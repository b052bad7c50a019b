"""ISO 20022 camt.053 (BankToCustomerStatement) as German banks send it, any version.

German banks send camt.053.001.02 (the DK format many still use) and newer
versions such as .001.08. The parts read here have kept their names across
versions; two changed shape, and both shapes are read: the entry status
(`<Sts>BOOK</Sts>` in .001.02, `<Sts><Cd>BOOK</Cd></Sts>` in newer versions)
and the debtor (`<Dbtr><Nm>` in .001.02, `<Dbtr><Pty><Nm>` in .001.08).
The version is taken from the document's namespace; another message (camt.052,
camt.054, pain.001) is refused by name.

The file is parsed by defusedxml with DTDs forbidden: no entity expansion (the
"billion laughs"), no external entities, no network access.

Which entries count: booked (`BOOK`) credits (`CRDT`) that are not reversals.
Pending or informational entries and reversed debits (`CRDT` with `RvslInd`) are
left out and reported. A booked debit (`DBIT`) is read with its references
(EndToEndId, TxId) and the reversal indicator, so that the import can book it as
the return or reversal of a credit it takes back (domain/payments/reversal.py); any
other debit is left out.
An entry that bundles several transfers (a batch, one `TxDtls` each, each with
its own amount) becomes one payment per transfer.

The transaction id (what makes an import idempotent) is, first available:
1. the bank's own reference of the transfer, `TxDtls/Refs/AcctSvcrRef`;
2. the bank's reference of the entry, `Ntry/AcctSvcrRef` (with `/n` for the
   n-th transfer of a batch);
3. the entry's `NtryRef`, as `NtryRef:<booking date>:<ref>` (often only unique
   within one statement, hence the date);
4. the payer's bank's `TxId`, as `TxId:<booking date>:<id>`;
5. the payer's `EndToEndId` (unless `NOTPROVIDED`), as
   `EndToEndId:<booking date>:<amount>:<id>` (chosen by the payer, so the
   weakest; date and amount keep two payers' ids apart).
The account servicer's reference comes first because the bank assigns it once
per booking and repeats it in every later statement that shows the booking.
A credit with none of them is refused: it could not be imported exactly once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Final
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import parse as safe_parse

from domain.errors import ValidationFailed
from domain.payments.statement import (
    PAYER_MAX,
    REMITTANCE_MAX,
    DebitLine,
    Skipped,
    Statement,
    StatementLine,
    clip,
    join_text,
    reject,
)

_NAMESPACE: Final = re.compile(r"urn:iso:std:iso:20022:tech:xsd:(camt\.053\.001\.(\d{2}))")
_OTHER_MESSAGE: Final = re.compile(
    r"urn:iso:std:iso:20022:tech:xsd:([a-z]{4}\.\d{3}\.\d{3}\.\d{2})"
)
_AMOUNT: Final = re.compile(r"\d{1,12}(?:\.\d{1,5})?")
_CURRENCY: Final = re.compile(r"[A-Z]{3}")
_CENT: Final = Decimal("0.01")
# camt.053.001.02 (2009) to .001.13 (2023): the versions published so far.
SUPPORTED_VERSIONS: Final = range(2, 14)
NOT_PROVIDED: Final = "NOTPROVIDED"
REFERENCE_MAX: Final = 35  # EndToEndId and TxId are ISO 20022 Max35Text


@dataclass(frozen=True)
class _Xml:
    """Element look-ups in one namespace: `find(el, "NtryDtls/TxDtls")`."""

    namespace: str

    def path(self, path: str) -> str:
        return "/".join(f"{{{self.namespace}}}{step}" for step in path.split("/"))

    def find(self, element: Element, path: str) -> Element | None:
        return element.find(self.path(path))

    def findall(self, element: Element, path: str) -> list[Element]:
        return element.findall(self.path(path))

    def text(self, element: Element, path: str) -> str | None:
        found = self.find(element, path)
        if found is None or found.text is None or not found.text.strip():
            return None
        return found.text.strip()

    def texts(self, element: Element, path: str) -> list[str]:
        return [e.text.strip() for e in self.findall(element, path) if e.text and e.text.strip()]


class _EntryProblem(Exception):
    """One field of one entry is wrong."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def _parse(path: Path) -> Element:
    """Parse the file safely; refuse DTDs, entities and XML that is not well formed."""
    try:
        tree = safe_parse(str(path), forbid_dtd=True)
    except OSError as exc:
        raise ValidationFailed(f"cannot read {path}: {exc.strerror or exc}") from None
    except DefusedXmlException as exc:
        raise reject([f"{path.name}: refused XML construct ({type(exc).__name__})"]) from None
    except ParseError as exc:
        raise reject([f"{path.name}: not well-formed XML ({exc})"]) from None
    root: Element = tree.getroot()
    return root


def _message(root: Element) -> tuple[str, str]:
    """Return the namespace and the message name (`camt.053.001.08`), or refuse the file."""
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    match = _NAMESPACE.fullmatch(namespace)
    if match is None:
        other = _OTHER_MESSAGE.fullmatch(namespace)
        what = other.group(1) if other else (namespace or "no namespace")
        raise reject([f"not a camt.053 bank statement ({what})"])
    if int(match.group(2)) not in SUPPORTED_VERSIONS:
        raise reject([f"unsupported camt.053 version {match.group(1)}"])
    return namespace, match.group(1)


def _amount(xml: _Xml, element: Element, path: str) -> tuple[Decimal, str]:
    """Read an amount element and its currency: positive, at most two decimal places."""
    found = xml.find(element, path)
    if found is None or not (found.text or "").strip():
        raise _EntryProblem(path, "missing")
    text = (found.text or "").strip()
    if not _AMOUNT.fullmatch(text):
        raise _EntryProblem(path, f"not an amount: {text!r}")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise _EntryProblem(path, f"not an amount: {text!r}") from None
    if amount != amount.quantize(_CENT):
        raise _EntryProblem(path, f"more than 2 decimal places: {text!r}")
    currency = (found.get("Ccy") or "").strip()
    if not _CURRENCY.fullmatch(currency):
        raise _EntryProblem(f"{path}/@Ccy", f"not a currency code: {currency!r}")
    return amount.quantize(_CENT), currency


def _status(xml: _Xml, entry: Element) -> str:
    """Read the entry status: `<Sts>BOOK</Sts>` (.001.02) or `<Sts><Cd>BOOK</Cd></Sts>`."""
    status = xml.text(entry, "Sts/Cd") or xml.text(entry, "Sts/Prtry") or xml.text(entry, "Sts")
    if status is None:
        raise _EntryProblem("Sts", "missing")
    return status.upper()


def _booked_on(xml: _Xml, entry: Element) -> date:
    """Read the booking date (`BookgDt/Dt`, or the date of `BookgDt/DtTm`)."""
    text = xml.text(entry, "BookgDt/Dt")
    field = "BookgDt/Dt"
    if text is None and (stamp := xml.text(entry, "BookgDt/DtTm")) is not None:
        text, field = stamp[:10], "BookgDt/DtTm"
    if text is None:
        raise _EntryProblem("BookgDt", "missing")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _EntryProblem(field, f"not a date: {text!r}") from None


def _payer(xml: _Xml, details: Element | None) -> str | None:
    """Read the payer's name: `Dbtr/Nm` (.001.02) or `Dbtr/Pty/Nm` (.001.08)."""
    if details is None:
        return None
    for path in (
        "RltdPties/Dbtr/Pty/Nm",
        "RltdPties/Dbtr/Nm",
        "RltdPties/UltmtDbtr/Pty/Nm",
        "RltdPties/UltmtDbtr/Nm",
    ):
        if (name := xml.text(details, path)) is not None:
            return clip(" ".join(name.split()), PAYER_MAX)
    return None


def _remittance(xml: _Xml, details: list[Element], entry: Element) -> str:
    """Read the remittance text: unstructured lines and structured creditor references."""
    parts: list[str] = []
    for tx in details:
        parts += xml.texts(tx, "RmtInf/Ustrd")
        parts += xml.texts(tx, "RmtInf/Strd/CdtrRefInf/Ref")
        parts += xml.texts(tx, "RmtInf/Strd/AddtlRmtInf")
    if not parts:
        # Some banks put the purpose only in the entry's additional information.
        parts += xml.texts(entry, "AddtlNtryInf")
    return clip(join_text(parts), REMITTANCE_MAX)


def _transaction_id(
    xml: _Xml, entry: Element, tx: Element | None, booked_on: date, amount: Decimal, batch: int
) -> str | None:
    """Pick the transaction id by the order in the module docstring."""
    suffix = f"/{batch}" if batch else ""
    if tx is not None and (ref := xml.text(tx, "Refs/AcctSvcrRef")):
        return ref
    if ref := xml.text(entry, "AcctSvcrRef"):
        return ref + suffix
    if ref := xml.text(entry, "NtryRef"):
        return f"NtryRef:{booked_on}:{ref}{suffix}"
    if tx is not None and (ref := xml.text(tx, "Refs/TxId")):
        return f"TxId:{booked_on}:{ref}"
    if tx is not None and (ref := xml.text(tx, "Refs/EndToEndId")) and ref != NOT_PROVIDED:
        return f"EndToEndId:{booked_on}:{amount}:{ref}"
    return None


def _transfer_amounts(xml: _Xml, details: list[Element]) -> list[tuple[Decimal, str]] | None:
    """Return each transfer's own amount when every one of a batch has one, else None."""
    if len(details) < 2:
        return None
    amounts = []
    for index, tx in enumerate(details, start=1):
        path = "Amt" if xml.find(tx, "Amt") is not None else "AmtDtls/TxAmt/Amt"
        if xml.find(tx, path) is None:
            return None
        try:
            amounts.append(_amount(xml, tx, path))
        except _EntryProblem as problem:
            raise _EntryProblem(f"TxDtls[{index}]/{problem.field}", problem.problem) from None
    return amounts


def _references(xml: _Xml, tx: Element | None) -> tuple[str | None, str | None]:
    """Return a transfer's EndToEndId (unless NOTPROVIDED) and TxId (Max35Text, else none)."""
    if tx is None:
        return None, None

    def kept(ref: str | None) -> str | None:
        return ref if ref and ref != NOT_PROVIDED and len(ref) <= REFERENCE_MAX else None

    return kept(xml.text(tx, "Refs/EndToEndId")), kept(xml.text(tx, "Refs/TxId"))


def _debit(xml: _Xml, entry: Element, where: str, amount: Decimal, currency: str) -> Skipped:
    """Read a booked debit: left out, with what a reversal needs when it has an id."""
    reversal = (xml.text(entry, "RvslInd") or "").lower() == "true"
    details = xml.findall(entry, "NtryDtls/TxDtls")
    tx = details[0] if len(details) == 1 else None
    try:
        booked_on = _booked_on(xml, entry)
    except _EntryProblem:
        return Skipped(where, "debit", amount)
    transaction_id = _transaction_id(xml, entry, tx, booked_on, amount, 0)
    references = tuple(ref for ref in _references(xml, tx) if ref)
    if transaction_id is None:
        return Skipped(where, "debit", amount)
    line = DebitLine(
        transaction_id=transaction_id,
        amount=amount,
        currency=currency,
        booked_on=booked_on,
        reversal=reversal,
        references=references,
        where=where,
    )
    return Skipped(where, "debit", amount, line)


def _entry_lines(xml: _Xml, entry: Element, where: str) -> list[StatementLine] | Skipped:
    """Read one entry: its credits, or why it is left out."""
    amount, currency = _amount(xml, entry, "Amt")
    indicator = xml.text(entry, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise _EntryProblem("CdtDbtInd", f"must be CRDT or DBIT, not {indicator!r}")
    status = _status(xml, entry)
    if indicator == "DBIT" and status == "BOOK":
        return _debit(xml, entry, where, amount, currency)
    if indicator == "DBIT":
        return Skipped(where, "debit", amount)
    if status != "BOOK":
        return Skipped(where, f"not booked ({status})", amount)
    if (xml.text(entry, "RvslInd") or "").lower() == "true":
        return Skipped(where, "reversal", amount)
    booked_on = _booked_on(xml, entry)
    details = xml.findall(entry, "NtryDtls/TxDtls")
    split = _transfer_amounts(xml, details)
    if split is not None:
        total = sum((value for value, _ in split), Decimal("0.00"))
        if total != amount or any(ccy != currency for _, ccy in split):
            raise _EntryProblem("NtryDtls/TxDtls", f"transfers add up to {total}, not {amount}")
        pairs = zip(details, split, strict=True)
        transfers: list[tuple[int, Element | None, Decimal]] = [
            (index, tx, value) for index, (tx, (value, _)) in enumerate(pairs, 1)
        ]
    else:
        transfers = [(0, details[0] if len(details) == 1 else None, amount)]
    lines = []
    for index, tx, value in transfers:
        transaction_id = _transaction_id(xml, entry, tx, booked_on, value, index)
        if transaction_id is None:
            field = f"TxDtls[{index}]/Refs" if index else "AcctSvcrRef"
            raise _EntryProblem(
                field, "no transaction id (AcctSvcrRef, NtryRef, TxId or EndToEndId)"
            )
        own = [tx] if tx is not None else details
        end_to_end, tx_id = _references(xml, tx)
        lines.append(
            StatementLine(
                transaction_id=transaction_id,
                amount=value,
                currency=currency,
                booked_on=booked_on,
                remittance=_remittance(xml, own, entry),
                payer=_payer(xml, tx if tx is not None else (details[0] if details else None)),
                where=f"{where}, transfer {index}" if index else where,
                end_to_end_id=end_to_end,
                tx_id=tx_id,
            )
        )
    return lines


def _entry_name(xml: _Xml, entry: Element, statement: int, number: int, several: bool) -> str:
    """Name an entry: `entry 3 (AcctSvcrRef 2026…)`, with its statement when there are several."""
    name = f"statement {statement}, entry {number}" if several else f"entry {number}"
    for key in ("AcctSvcrRef", "NtryRef"):
        if ref := xml.text(entry, key):
            return f"{name} ({key} {ref})"
    return name


def read_camt(path: Path) -> Statement:
    """Read a camt.053 file whole: its booked credits and what it leaves out, or refuse it."""
    root = _parse(path)
    namespace, message = _message(root)
    xml = _Xml(namespace)
    report = xml.find(root, "BkToCstmrStmt")
    if report is None:
        raise reject(["Document: BkToCstmrStmt is missing"])
    statements = xml.findall(report, "Stmt")
    if not statements:
        raise reject(["BkToCstmrStmt: no Stmt (statement) in the file"])
    result = Statement(source=message)
    errors: list[str] = []
    for s_index, stmt in enumerate(statements, start=1):
        for n_index, entry in enumerate(xml.findall(stmt, "Ntry"), start=1):
            where = _entry_name(xml, entry, s_index, n_index, len(statements) > 1)
            try:
                read = _entry_lines(xml, entry, where)
            except _EntryProblem as problem:
                errors.append(f"{where}: {problem.field}: {problem.problem}")
                continue
            if isinstance(read, Skipped):
                result.skipped.append(read)
            else:
                result.credits.extend(read)
    if errors:
        raise reject(errors)
    return result
