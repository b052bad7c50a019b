"""Claims: look-ups and the all-or-nothing, idempotent `quitt-claims/1` import."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import api.db.models  # noqa: F401  (every mapper must be known before the first query)
from api.claims.models import Claim, Creditor, Debtor
from api.claims.schemas import FORMAT, ClaimIn, ClaimsFile, CreditorIn, DebtorIn
from api.errors import ValidationFailed

MAX_REPORTED_ERRORS = 50


@dataclass
class Counts:
    """How many rows of one kind an import created, updated or left alone."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, outcome: str) -> None:
        """Count one row's outcome."""
        setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass
class ImportReport:
    """The outcome of one import, per kind of row."""

    creditors: Counts = field(default_factory=Counts)
    debtors: Counts = field(default_factory=Counts)
    claims: Counts = field(default_factory=Counts)

    @property
    def changed(self) -> bool:
        """Return whether anything was created or updated."""
        return any(c.created or c.updated for c in (self.creditors, self.debtors, self.claims))

    def as_dict(self) -> dict[str, dict[str, int]]:
        """Return the counts as plain data."""
        return {
            name: {"created": c.created, "updated": c.updated, "unchanged": c.unchanged}
            for name, c in (
                ("creditors", self.creditors),
                ("debtors", self.debtors),
                ("claims", self.claims),
            )
        }

    def __str__(self) -> str:
        return "\n".join(
            f"{name}: {c['created']} created, {c['updated']} updated, {c['unchanged']} unchanged"
            for name, c in self.as_dict().items()
        )


def get_by_reference(*, db_session: Session, reference: str) -> Claim | None:
    """Get a claim by its reference."""
    return db_session.get(Claim, reference)


def list_for_debtor(*, db_session: Session, debtor_id: int) -> list[Claim]:
    """List a debtor's claims, oldest due date first."""
    stmt = (
        select(Claim).where(Claim.debtor_id == debtor_id).order_by(Claim.due_date, Claim.reference)
    )
    return list(db_session.scalars(stmt))


def count_claims(*, db_session: Session) -> int:
    """Count all stored claims."""
    return db_session.scalar(select(func.count()).select_from(Claim)) or 0


# --- validation ----------------------------------------------------------------------


def _label(data: dict[str, Any], loc: tuple[int | str, ...]) -> tuple[str, str]:
    """Name the entry (`claims[3] (reference 2600…)`) and the field of an error location."""
    if len(loc) >= 2 and loc[0] in ("claims", "creditors") and isinstance(loc[1], int):
        section, index = str(loc[0]), loc[1]
        key = "reference" if section == "claims" else "id"
        entries = data.get(section)
        entry = entries[index] if isinstance(entries, list) and index < len(entries) else None
        name = f"{section}[{index}]"
        if isinstance(entry, dict) and isinstance(entry.get(key), str | int):
            name += f" ({key} {entry[key]})"
        return name, ".".join(str(part) for part in loc[2:]) or "entry"
    return "file", ".".join(str(part) for part in loc) or "file"


def _format_pydantic(data: dict[str, Any], exc: ValidationError) -> list[str]:
    """Turn pydantic's errors into `claims[3] (reference …): principal: …` lines."""
    lines = []
    for error in exc.errors(include_url=False):
        where, what = _label(data, tuple(error["loc"]))
        message = str(error["msg"]).removeprefix("Value error, ")
        if where == "file":
            lines.append(f"{what}: {message}")
        else:
            lines.append(f"{where}: {what}: {message}")
    return lines


def _debtor_key(debtor: DebtorIn) -> tuple[str, date]:
    """Return the natural key of a debtor: name and date of birth."""
    return debtor.name, debtor.date_of_birth


def _check_references(*, db_session: Session, parsed: ClaimsFile) -> list[str]:
    """Find problems that span entries: duplicates, unknown creditors, conflicting debtors."""
    errors: list[str] = []
    creditor_ids: dict[str, int] = {}
    for index, creditor in enumerate(parsed.creditors):
        if creditor.id in creditor_ids:
            errors.append(
                f"creditors[{index}] (id {creditor.id}): id: "
                f"duplicate of creditors[{creditor_ids[creditor.id]}]"
            )
        creditor_ids.setdefault(creditor.id, index)

    references: dict[str, int] = {}
    debtors: dict[tuple[str, date], tuple[int, DebtorIn]] = {}
    for index, claim in enumerate(parsed.claims):
        where = f"claims[{index}] (reference {claim.reference})"
        if claim.reference in references:
            errors.append(f"{where}: reference: duplicate of claims[{references[claim.reference]}]")
        references.setdefault(claim.reference, index)
        if claim.creditor not in creditor_ids and db_session.get(Creditor, claim.creditor) is None:
            errors.append(f"{where}: creditor: unknown creditor {claim.creditor!r}")
        key = _debtor_key(claim.debtor)
        if key in debtors and debtors[key][1] != claim.debtor:
            errors.append(
                f"{where}: debtor: same name and date of birth as in claims[{debtors[key][0]}] "
                "but different details"
            )
        debtors.setdefault(key, (index, claim.debtor))
    return errors


def validate_claims_file(*, db_session: Session, data: Any) -> ClaimsFile:
    """Validate a whole import file; raise ValidationFailed naming every bad claim and field."""
    if not isinstance(data, dict):
        raise ValidationFailed(f"not a {FORMAT} file: the top level must be a JSON object")
    if data.get("format") != FORMAT:
        raise ValidationFailed(
            f"not a {FORMAT} file: format is {data.get('format')!r}, expected {FORMAT!r}"
        )
    try:
        parsed = ClaimsFile.model_validate(data)
    except ValidationError as exc:
        errors = _format_pydantic(data, exc)
    else:
        errors = _check_references(db_session=db_session, parsed=parsed)
    if errors:
        shown = errors[:MAX_REPORTED_ERRORS]
        more = len(errors) - len(shown)
        if more:
            shown.append(f"... and {more} more")
        raise ValidationFailed(
            f"claims file rejected, nothing imported ({len(errors)} error(s)): {errors[0]}",
            shown,
        )
    return parsed


# --- writing -------------------------------------------------------------------------


def _apply(target: object, values: dict[str, Any]) -> bool:
    """Set the attributes that differ; return whether any did."""
    changed = False
    for name, value in values.items():
        if getattr(target, name) != value:
            setattr(target, name, value)
            changed = True
    return changed


def _upsert_creditor(*, db_session: Session, entry: CreditorIn) -> tuple[Creditor, str]:
    """Create or update one creditor."""
    values = {"name": entry.name, "address": entry.address, "policy": entry.policy}
    creditor = db_session.get(Creditor, entry.id)
    if creditor is None:
        creditor = Creditor(id=entry.id, **values)
        db_session.add(creditor)
        return creditor, "created"
    return creditor, "updated" if _apply(creditor, values) else "unchanged"


def _upsert_debtor(*, db_session: Session, entry: DebtorIn) -> tuple[Debtor, str]:
    """Create or update one debtor, found by name and date of birth."""
    values = {
        "postcode": entry.postcode,
        "phone": entry.phone,
        "email": entry.email,
        "language": entry.language,
    }
    debtor = db_session.scalar(
        select(Debtor).where(Debtor.name == entry.name, Debtor.date_of_birth == entry.date_of_birth)
    )
    if debtor is None:
        debtor = Debtor(name=entry.name, date_of_birth=entry.date_of_birth, **values)
        db_session.add(debtor)
        db_session.flush()
        return debtor, "created"
    return debtor, "updated" if _apply(debtor, values) else "unchanged"


def _upsert_claim(*, db_session: Session, entry: ClaimIn, debtor: Debtor) -> str:
    """Create or update one claim, keyed by its reference."""
    values: dict[str, Any] = {
        "creditor_id": entry.creditor,
        "debtor_id": debtor.id,
        "subject": entry.subject,
        "contract_date": entry.contract_date,
        "invoice_date": entry.invoice_date,
        "due_date": entry.due_date,
        "currency": entry.currency,
        "principal": entry.principal,
        "interest": entry.interest,
        "fees": entry.fees,
        "status": entry.status,
    }
    claim = db_session.get(Claim, entry.reference)
    if claim is None:
        db_session.add(Claim(reference=entry.reference, **values))
        return "created"
    return "updated" if _apply(claim, values) else "unchanged"


def _write(*, db_session: Session, parsed: ClaimsFile) -> ImportReport:
    """Write a validated file; the caller's transaction decides about the commit."""
    report = ImportReport()
    for creditor_entry in parsed.creditors:
        report.creditors.add(_upsert_creditor(db_session=db_session, entry=creditor_entry)[1])
    db_session.flush()

    debtors: dict[tuple[str, date], Debtor] = {}
    for claim_entry in parsed.claims:
        key = _debtor_key(claim_entry.debtor)
        if key not in debtors:
            debtor, outcome = _upsert_debtor(db_session=db_session, entry=claim_entry.debtor)
            debtors[key] = debtor
            report.debtors.add(outcome)
        outcome = _upsert_claim(db_session=db_session, entry=claim_entry, debtor=debtors[key])
        report.claims.add(outcome)
    db_session.flush()
    return report


def import_claims(*, db_session: Session, data: dict[str, Any]) -> ImportReport:
    """Import a parsed `quitt-claims/1` document: validate all, then write all or nothing."""
    parsed = validate_claims_file(db_session=db_session, data=data)
    # A savepoint, so a failure while writing leaves the caller's session untouched.
    with db_session.begin_nested():
        return _write(db_session=db_session, parsed=parsed)


def load_file(path: str | Path) -> Any:
    """Read and parse a JSON file, naming the position of a syntax error."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"cannot read {source}: {exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            f"{source}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from exc


def import_file(*, db_session: Session, path: str | Path) -> ImportReport:
    """Import a `quitt-claims/1` file from disk."""
    return import_claims(db_session=db_session, data=load_file(path))
