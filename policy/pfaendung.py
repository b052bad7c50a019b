"""Protected income under § 850c ZPO (Pfändungsfreigrenze): a dated table, looked up.

The amounts are not computed or guessed here: each entry of `policy/pfaendung.yml` is
one announcement of the Federal Ministry of Justice (Pfändungsfreigrenzenbekanntmachung)
with the date it took effect. A lookup takes the entry in force on a day (the newest
whose `valid_from` is not after it) and the number of people the debtor owes
maintenance to, and returns the amount with the entry's name and date, so that every
answer can cite it: "Pfändungsfreigrenze nach § 850c ZPO, Stand 1.7.2025: 1.555,00 €".

    protected = base + (first_dependant if dependants >= 1)
                     + further_dependant x (min(dependants, max_dependants) - 1)

The amounts change every 1 July (§ 850c Abs. 4 ZPO). A day after the newest entry's
`valid_until` still gets that entry (the law keeps the old amounts until new ones are
announced), marked `stale`, so that callers can say so instead of silently relying on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import yaml

from policy.errors import InvalidAmount, InvalidPolicyFile, InvalidRequest
from policy.money import cents

SHIPPED_TABLE_FILE = Path(__file__).with_name("pfaendung.yml")
LAW = "§ 850c ZPO"
# Reason codes for decisions that used the table.
TABLE_CURRENT = "pfaendung_table_current"
TABLE_STALE = "pfaendung_table_stale"

_MONEY = ("base", "first_dependant", "further_dependant", "full_garnishment")
_KEYS = {"name", "source", "valid_from", "valid_until", "max_dependants", *_MONEY}


@dataclass(frozen=True)
class Announcement:
    """One Pfändungsfreigrenzenbekanntmachung: monthly amounts and when they apply."""

    name: str
    source: str
    valid_from: date
    valid_until: date
    base: Decimal
    first_dependant: Decimal
    further_dependant: Decimal
    max_dependants: int
    full_garnishment: Decimal

    def protected(self, dependants: int) -> Decimal:
        """Return the monthly protected income for this many dependants."""
        if isinstance(dependants, bool) or not isinstance(dependants, int) or dependants < 0:
            raise InvalidRequest(f"dependants must be a whole number of at least 0: {dependants!r}")
        counted = min(dependants, self.max_dependants)
        if counted == 0:
            return self.base
        return self.base + self.first_dependant + self.further_dependant * (counted - 1)


@dataclass(frozen=True)
class ProtectedIncome:
    """The answer of a lookup: the amount, for whom, and which announcement says so."""

    amount: Decimal
    dependants: int  # as asked; the amount stops rising at the announcement's maximum
    announcement: Announcement
    on: date  # the day looked up
    stale: bool  # the day is past the newest announcement's `valid_until`

    @property
    def valid_from(self) -> date:
        """Return the day the cited amounts took effect ("Stand 1.7.2025")."""
        return self.announcement.valid_from

    @property
    def reason(self) -> str:
        """Return the reason code: the table was current, or stale, on that day."""
        return TABLE_STALE if self.stale else TABLE_CURRENT

    def to_record(self) -> dict[str, object]:
        """Return a JSON-safe dict: amount, dependants, the announcement and its dates."""
        return {
            "law": LAW,
            "amount": str(self.amount),
            "dependants": self.dependants,
            "announcement": self.announcement.name,
            "source": self.announcement.source,
            "valid_from": self.announcement.valid_from.isoformat(),
            "valid_until": self.announcement.valid_until.isoformat(),
            "looked_up_on": self.on.isoformat(),
            "stale": self.stale,
        }


@dataclass(frozen=True)
class PfaendungTable:
    """The announcements, newest first, and the file's version."""

    version: str
    announcements: tuple[Announcement, ...]

    def lookup(self, *, on: date, dependants: int) -> ProtectedIncome:
        """Return the protected income in force on `on` for this many dependants."""
        for announcement in self.announcements:
            if announcement.valid_from <= on:
                newest = announcement is self.announcements[0]
                return ProtectedIncome(
                    amount=announcement.protected(dependants),
                    dependants=dependants,
                    announcement=announcement,
                    on=on,
                    stale=newest and on > announcement.valid_until,
                )
        oldest = self.announcements[-1].valid_from.isoformat()
        raise InvalidRequest(f"no Pfändungsfreigrenze before {oldest} in the table ({on})")


def load_table(path: Path = SHIPPED_TABLE_FILE) -> PfaendungTable:
    """Load the § 850c table from a YAML file."""
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise InvalidPolicyFile(path, "pfaendung", "-", f"cannot read the file: {error}") from error
    return parse_table(document, path=path)


def parse_table(document: object, *, path: Path | str = "<memory>") -> PfaendungTable:
    """Build the table from a parsed YAML document, refusing gaps, overlaps and bad amounts."""
    if not isinstance(document, dict) or not isinstance(document.get("tables"), list):
        raise InvalidPolicyFile(path, "pfaendung", "tables", "a list of announcements is needed")
    version = document.get("version")
    if not isinstance(version, str) or not version:
        raise InvalidPolicyFile(path, "pfaendung", "version", "a version string is required")
    entries = [_announcement(entry, index, path) for index, entry in enumerate(document["tables"])]
    if not entries:
        raise InvalidPolicyFile(path, "pfaendung", "tables", "at least one announcement")
    ordered = tuple(sorted(entries, key=lambda a: a.valid_from, reverse=True))
    _check_sequence(ordered, path)
    return PfaendungTable(version=version, announcements=ordered)


def _check_sequence(ordered: Sequence[Announcement], path: Path | str) -> None:
    """Refuse announcements whose periods overlap."""
    for newer, older in pairwise(ordered):
        if older.valid_until >= newer.valid_from:
            problem = f"{older.name} ends on or after {newer.name} begins"
            raise InvalidPolicyFile(path, "pfaendung", "valid_until", problem)


def _announcement(entry: object, index: int, path: Path | str) -> Announcement:
    """Read one announcement entry."""
    where = f"tables[{index}]"
    if not isinstance(entry, dict):
        raise InvalidPolicyFile(path, where, "-", "must be a mapping")
    missing = _KEYS - set(entry)
    unknown = set(entry) - _KEYS
    if missing or unknown:
        key = sorted(map(str, missing or unknown))[0]
        raise InvalidPolicyFile(path, where, key, "missing" if missing else "unknown key")
    amounts: dict[str, Decimal] = {}
    for key in _MONEY:
        raw = entry[key]
        if not isinstance(raw, str):
            raise InvalidPolicyFile(path, where, key, f"write amounts as quoted text, not {raw!r}")
        try:
            amounts[key] = cents(raw)
        except InvalidAmount as error:
            raise InvalidPolicyFile(path, where, key, error.problem) from error
        if amounts[key] <= 0:
            raise InvalidPolicyFile(path, where, key, "must be greater than zero")
    dates = {key: _date(entry[key], where, key, path) for key in ("valid_from", "valid_until")}
    if dates["valid_until"] < dates["valid_from"]:
        raise InvalidPolicyFile(path, where, "valid_until", "must not be before valid_from")
    most = entry["max_dependants"]
    if isinstance(most, bool) or not isinstance(most, int) or most < 1:
        raise InvalidPolicyFile(path, where, "max_dependants", "must be a whole number >= 1")
    for key in ("name", "source"):
        if not isinstance(entry[key], str) or not entry[key].strip():
            raise InvalidPolicyFile(path, where, key, "must be a text")
    return Announcement(
        name=entry["name"].strip(),
        source=entry["source"].strip(),
        valid_from=dates["valid_from"],
        valid_until=dates["valid_until"],
        max_dependants=most,
        **amounts,
    )


def _date(raw: object, where: str, key: str, path: Path | str) -> date:
    """Read a date written as "YYYY-MM-DD" (quoted or as a YAML date)."""
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError as error:
        raise InvalidPolicyFile(path, where, key, f"not a date: {raw!r}") from error
