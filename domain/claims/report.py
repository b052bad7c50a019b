"""What one claims import did: counts per kind of row, and its warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

# An import of 100,000 rows can warn thousands of times; the report keeps the first ones.
MAX_REPORTED_LINES: Final = 50


@dataclass
class Counts:
    """How many rows of one kind an import created, updated or left alone."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, outcome: str, count: int = 1) -> None:
        """Count `count` rows with one outcome."""
        setattr(self, outcome, getattr(self, outcome) + count)


@dataclass
class ImportReport:
    """The outcome of one import, per kind of row, with the warnings it raised."""

    creditors: Counts = field(default_factory=Counts)
    debtors: Counts = field(default_factory=Counts)
    claims: Counts = field(default_factory=Counts)
    warnings: list[str] = field(default_factory=list)
    warning_count: int = 0
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        """Return whether anything was (or, in a dry run, would be) created or updated."""
        return any(c.created or c.updated for c in (self.creditors, self.debtors, self.claims))

    def warn(self, message: str) -> None:
        """Record a warning; only the first few are kept word for word."""
        self.warning_count += 1
        if len(self.warnings) < MAX_REPORTED_LINES:
            self.warnings.append(message)

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
        lines = ["dry run: validated only, nothing written"] if self.dry_run else []
        lines += [
            f"{name}: {c['created']} created, {c['updated']} updated, {c['unchanged']} unchanged"
            for name, c in self.as_dict().items()
        ]
        lines.append(f"warnings: {self.warning_count}")
        lines += [f"  {warning}" for warning in self.warnings]
        if self.warning_count > len(self.warnings):
            lines.append(f"  ... and {self.warning_count - len(self.warnings)} more")
        return "\n".join(lines)
