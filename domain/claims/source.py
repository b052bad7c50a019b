"""What every claims reader hands the import: creditors first, then claims one by one."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

from pydantic import ValidationError

from domain.claims.report import MAX_REPORTED_LINES
from domain.claims.schemas import CreditorIn
from domain.errors import ValidationFailed


class RawClaim(NamedTuple):
    """One claim as read, in `ClaimIn`'s shape, with the problems the reader already found."""

    position: int
    data: dict[str, Any]
    # (field, message) pairs, e.g. a CSV cell that is no date at all.
    problems: tuple[tuple[str, str], ...] = ()
    # Cells as written, of the fields the reader rewrote (`1.234,56` read as `1234.56`).
    written: Mapping[str, str] = MappingProxyType({})


@dataclass
class ClaimSource:
    """A file being read: its creditors (read and validated first) and a stream of claims."""

    creditors: list[CreditorIn]
    claims: Iterator[RawClaim]
    # How messages name a claim ("claims[3] (reference …)", "row 5 (reference …)") from its
    # position and data, and a field ("debtor.phone", "phone") from its pydantic location.
    entry_name: Callable[[int, Any], str]
    field_name: Callable[[tuple[int | str, ...]], str]
    # Bytes read so far and in all, for a progress display (0 and 0 when not from a file).
    bytes_read: Callable[[], int] = field(default=lambda: 0)
    size: int = 0
    # Close the file early (the claims' iterator closes it when it ends).
    close: Callable[[], None] = field(default=lambda: None)


def dotted(loc: tuple[int | str, ...]) -> str:
    """Name a field by its location, `debtor.phone` (the JSON file's own names)."""
    return ".".join(str(part) for part in loc) or "entry"


def reject(errors: list[str], total: int | None = None) -> ValidationFailed:
    """Build the all-or-nothing refusal that names the first problem and lists the rest."""
    total = len(errors) if total is None else total
    shown = errors[:MAX_REPORTED_LINES]
    if total > len(shown):
        shown.append(f"... and {total - len(shown)} more")
    return ValidationFailed(
        f"claims file rejected, nothing imported ({total} error(s)): {errors[0]}", shown
    )


def pydantic_messages(
    exc: ValidationError, where: str, field_name: Callable[[tuple[int | str, ...]], str]
) -> list[str]:
    """Turn pydantic's errors into `where: field: message` lines."""
    return [
        f"{where}: {field_name(tuple(error['loc']))}: "
        + str(error["msg"]).removeprefix("Value error, ")
        for error in exc.errors(include_url=False)
    ]


def validate_creditors(entries: Any, where: Callable[[int, Any], str]) -> list[CreditorIn]:
    """Validate creditor entries; raise naming each bad entry and field, or a duplicate id."""
    if not isinstance(entries, list):
        raise reject(["creditors: Input should be a valid list"])
    errors: list[str] = []
    creditors: list[CreditorIn] = []
    first: dict[str, int] = {}
    for index, entry in enumerate(entries):
        try:
            creditor = CreditorIn.model_validate(entry)
        except ValidationError as exc:
            errors += pydantic_messages(exc, where(index, entry), dotted)
            continue
        if creditor.id in first:
            earlier = where(first[creditor.id], None)
            errors.append(f"{where(index, entry)}: id: duplicate of {earlier}")
        first.setdefault(creditor.id, index)
        creditors.append(creditor)
    if errors:
        raise reject(errors)
    return creditors
