"""Which reader reads a file: `quitt-claims/1` JSON or CSV, for claims and for creditors."""

from __future__ import annotations

from pathlib import Path

from domain.claims import csvfile, jsonfile
from domain.claims.schemas import CreditorIn
from domain.claims.source import ClaimSource
from domain.errors import ValidationFailed


def is_json(path: Path) -> bool:
    """Tell JSON from CSV: by the name's suffix, else by the first character of the text."""
    suffix = path.suffix.lower()
    if suffix in (".json", ".csv", ".tsv", ".txt"):
        return suffix == ".json"
    try:
        with path.open("rb") as stream:
            start = stream.read(64).removeprefix(b"\xef\xbb\xbf").lstrip()
    except OSError as exc:
        raise ValidationFailed(f"cannot read {path}: {exc}") from exc
    return start[:1] in (b"{", b"[")


def read_creditors(path: Path) -> list[CreditorIn]:
    """Read the creditors of a `--creditors` file.

    Either a `quitt-claims/1` JSON file whose `claims` are empty or left out, or a CSV
    file with the columns `id`, `name`, `address` and optionally `policy`.
    """
    if not is_json(path):
        return csvfile.read_creditors_csv(path)
    return jsonfile.read_json_creditors(path)


def open_claims(path: Path, extra_creditors: list[CreditorIn] | None = None) -> ClaimSource:
    """Open a claims file of either kind; `extra_creditors` come before the file's own."""
    extra = extra_creditors or []
    if is_json(path):
        source = jsonfile.read_json(path)
        # A creditor in both: the claims file's own entry wins.
        merged = {creditor.id: creditor for creditor in [*extra, *source.creditors]}
        source.creditors = list(merged.values())
        return source
    return csvfile.read_csv(path, extra)
