"""Creditor policies: their settings, the built-in default and the YAML loader."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields, replace
from datetime import time
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import yaml

from policy.errors import InvalidAmount, InvalidPolicy, InvalidPolicyFile, PolicyNotFound
from policy.money import cents

DEFAULT_NAME = "default"
DEFAULT_FILE_VERSION = "2026-11-1"
SHIPPED_POLICY_FILE = Path(__file__).with_name("creditors.yml")

_WEEKDAY_NAMES = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


@dataclass(frozen=True)
class ContactHours:
    """When outbound messages may go out: weekdays (0=Mon … 5=Sat) between start and end."""

    weekdays: frozenset[int]
    start: time
    end: time
    timezone: str = "Europe/Berlin"
    holiday_country: str = "DE"
    holiday_subdivision: str | None = None

    def problems(self) -> list[tuple[str, str]]:
        """List (key, problem) pairs for settings that break a rule."""
        found: list[tuple[str, str]] = []
        if not self.weekdays:
            found.append(("weekdays", "at least one weekday is needed"))
        elif not self.weekdays <= frozenset(range(6)):
            found.append(("weekdays", "only 0 (Mon) to 5 (Sat); Sundays are never contact days"))
        if self.start >= self.end:
            found.append(("end", "must be later than start"))
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            found.append(("timezone", f"unknown time zone {self.timezone!r}"))
        supported = holidays.list_supported_countries()
        if self.holiday_country not in supported:
            found.append(("holiday_country", f"unknown country {self.holiday_country!r}"))
        elif (
            self.holiday_subdivision is not None
            and self.holiday_subdivision not in supported[self.holiday_country]
        ):
            found.append(
                ("holiday_subdivision", f"unknown subdivision {self.holiday_subdivision!r}")
            )
        return found


DEFAULT_CONTACT_HOURS = ContactHours(
    weekdays=frozenset(range(6)), start=time(8, 0), end=time(20, 0)
)


@dataclass(frozen=True)
class CreditorPolicy:
    """The negotiation limits of one creditor; every decision names its version."""

    name: str
    version: str
    min_instalment: Decimal = Decimal("25.00")
    max_months: int = 24
    first_instalment_days: int = 14
    full_payment_days: int = 14
    settlement_max_discount: Decimal = Decimal("0.10")
    settlement_min_total: Decimal = Decimal("100.00")
    settlement_days: int = 14
    deferral_max_days: int = 30
    max_deferrals: int = 1
    max_verification_failures: int = 3
    lockout_minutes: int = 30
    # A verified identity holds for one conversation: a new session or this many
    # minutes without a message from the debtor need a new check.
    verification_ttl_minutes: int = 30
    # Days a settled claim's conversations keep their transcripts before they are
    # anonymised (GDPR Art. 5(1)(e)); long enough to answer questions about the payment.
    transcript_retention_days: int = 90
    # An instalment (or one-off promise) still short this many days after its due
    # date breaks the promise (CONTRACT §4); a bank transfer takes a day or two.
    broken_promise_grace_days: int = 5
    contact_hours: ContactHours = DEFAULT_CONTACT_HOURS
    # Months proposed when a debtor asks for a plan without naming an amount or a term.
    default_plan_months: int = 6

    def __post_init__(self) -> None:
        """Normalise money to cents and refuse settings that break a rule."""
        for key in ("min_instalment", "settlement_min_total"):
            try:
                object.__setattr__(self, key, cents(getattr(self, key)))
            except InvalidAmount as error:
                raise InvalidPolicy(self.name, key, error.problem) from error
        for key, problem in self.problems():
            raise InvalidPolicy(self.name, key, problem)

    def problems(self) -> list[tuple[str, str]]:
        """List (key, problem) pairs for settings that break a rule."""
        found: list[tuple[str, str]] = []
        if not self.name:
            found.append(("name", "must not be empty"))
        if not self.version:
            found.append(("version", "must not be empty"))
        if self.min_instalment <= 0:
            found.append(("min_instalment", "must be greater than zero"))
        if self.settlement_min_total < 0:
            found.append(("settlement_min_total", "must not be negative"))
        discount = self.settlement_max_discount
        if not isinstance(discount, Decimal) or not discount.is_finite():
            found.append(("settlement_max_discount", "must be a finite decimal"))
        elif not Decimal(0) <= discount < 1:
            found.append(("settlement_max_discount", "must be at least 0 and below 1"))
        minimum = {
            "max_months": 2,
            "max_verification_failures": 1,
            "default_plan_months": 2,
            "verification_ttl_minutes": 1,
            "transcript_retention_days": 1,
        }
        for key in (
            "max_months",
            "first_instalment_days",
            "full_payment_days",
            "settlement_days",
            "deferral_max_days",
            "max_deferrals",
            "max_verification_failures",
            "lockout_minutes",
            "verification_ttl_minutes",
            "transcript_retention_days",
            "default_plan_months",
            "broken_promise_grace_days",
        ):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int):
                found.append((key, "must be a whole number"))
            elif value < minimum.get(key, 0):
                found.append((key, f"must be at least {minimum.get(key, 0)}"))
        found.extend((f"contact_hours.{k}", p) for k, p in self.contact_hours.problems())
        return found


DEFAULT_POLICY = CreditorPolicy(name=DEFAULT_NAME, version=f"{DEFAULT_NAME}@{DEFAULT_FILE_VERSION}")


class PolicyBook:
    """The loaded creditor policies by name; "default" is always there."""

    __slots__ = ("_policies", "version")

    def __init__(self, policies: Mapping[str, CreditorPolicy], version: str) -> None:
        """Hold the policies (a default is added when missing) and the file version."""
        merged = {DEFAULT_NAME: DEFAULT_POLICY, **policies}
        self._policies: Mapping[str, CreditorPolicy] = MappingProxyType(merged)
        self.version = version

    def get(self, name: str) -> CreditorPolicy:
        """Return the policy of that name or raise PolicyNotFound."""
        try:
            return self._policies[name]
        except KeyError:
            raise PolicyNotFound(name, self._policies) from None

    @property
    def names(self) -> tuple[str, ...]:
        """Return the policy names, sorted."""
        return tuple(sorted(self._policies))

    def __getitem__(self, name: str) -> CreditorPolicy:
        """Return the policy of that name or raise PolicyNotFound."""
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        """Tell whether a policy of that name is loaded."""
        return name in self._policies

    def __iter__(self) -> Iterator[str]:
        """Iterate over the policy names, sorted."""
        return iter(self.names)

    def __len__(self) -> int:
        """Return how many policies are loaded."""
        return len(self._policies)


def default_book() -> PolicyBook:
    """Return a book holding only the built-in default policy."""
    return PolicyBook({}, DEFAULT_FILE_VERSION)


# --- YAML loading -------------------------------------------------------------------------

_POLICY_KEYS = {f.name for f in fields(CreditorPolicy)} - {"name", "version", "contact_hours"}
_CONTACT_KEYS = {f.name for f in fields(ContactHours)}
_MONEY_KEYS = {"min_instalment", "settlement_min_total", "settlement_max_discount"}


class _DuplicateKey(Exception):
    """A mapping in the YAML file names the same key twice."""

    def __init__(self, key: object) -> None:
        """Keep the repeated key."""
        self.key = key
        super().__init__(key)


class _StrictLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses duplicate keys instead of keeping the last one."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[object, object]:
    """Build a mapping, refusing a key that occurs twice."""
    keys = [loader.construct_object(key_node) for key_node, _ in node.value]
    for index, key in enumerate(keys):
        if key in keys[:index]:
            raise _DuplicateKey(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_policies(path: Path) -> PolicyBook:
    """Load creditor policies from a YAML file; named policies inherit from default."""
    try:
        document = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_StrictLoader)
    except _DuplicateKey as error:
        raise InvalidPolicyFile(path, "-", str(error.key), "the key occurs twice") from error
    except (OSError, yaml.YAMLError) as error:
        raise InvalidPolicyFile(path, "-", "-", f"cannot read the file: {error}") from error
    return parse_policies(document, path=path)


def parse_policies(document: object, *, path: Path | str = "<memory>") -> PolicyBook:
    """Build a PolicyBook from an already parsed YAML document."""
    if not isinstance(document, dict):
        raise InvalidPolicyFile(path, "-", "-", "the file must hold a mapping")
    unknown = set(document) - {"version", "policies"}
    if unknown:
        raise InvalidPolicyFile(path, "-", sorted(map(str, unknown))[0], "unknown key")
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, str | int) or not str(version):
        raise InvalidPolicyFile(path, "-", "version", "a version string is required")
    version = str(version)
    entries = document.get("policies") or {}
    if not isinstance(entries, dict):
        raise InvalidPolicyFile(path, "-", "policies", "must be a mapping of name to settings")

    default_entry = entries.get(DEFAULT_NAME) or {}
    default = _build(DEFAULT_POLICY, DEFAULT_NAME, default_entry, version, path)
    policies = {DEFAULT_NAME: default}
    for name, entry in entries.items():
        if not isinstance(name, str) or not name:
            raise InvalidPolicyFile(path, str(name), "-", "policy names must be strings")
        if name != DEFAULT_NAME:
            policies[name] = _build(default, name, entry or {}, version, path)
    return PolicyBook(policies, version)


def _build(
    base: CreditorPolicy, name: str, entry: object, version: str, path: Path | str
) -> CreditorPolicy:
    """Apply one policy entry's overrides to its base policy."""
    if not isinstance(entry, dict):
        raise InvalidPolicyFile(path, name, "-", "settings must be a mapping")
    changes: dict[str, Any] = {"name": name, "version": f"{name}@{version}"}
    for key, raw in entry.items():
        if key == "contact_hours":
            changes[key] = _contact_hours(base.contact_hours, name, raw, path)
        elif key in _MONEY_KEYS:
            changes[key] = _decimal(raw, name, key, path)
        elif key in _POLICY_KEYS:
            if isinstance(raw, bool) or not isinstance(raw, int):
                raise InvalidPolicyFile(path, name, key, f"must be a whole number, not {raw!r}")
            changes[key] = raw
        else:
            raise InvalidPolicyFile(path, name, str(key), "unknown key")
    try:
        return replace(base, **changes)
    except InvalidPolicy as error:
        raise InvalidPolicyFile(path, name, error.key, error.problem) from error


def _contact_hours(base: ContactHours, name: str, raw: object, path: Path | str) -> ContactHours:
    """Apply a contact_hours entry's overrides to the inherited contact hours."""
    if not isinstance(raw, dict):
        raise InvalidPolicyFile(path, name, "contact_hours", "must be a mapping")
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        full_key = f"contact_hours.{key}"
        if key not in _CONTACT_KEYS:
            raise InvalidPolicyFile(path, name, full_key, "unknown key")
        if key == "weekdays":
            changes[key] = _weekdays(value, name, path)
        elif key in ("start", "end"):
            changes[key] = _time(value, name, full_key, path)
        elif key == "holiday_subdivision" and value is None:
            changes[key] = None
        elif isinstance(value, str) and value:
            changes[key] = value
        else:
            raise InvalidPolicyFile(path, name, full_key, f"must be a text, not {value!r}")
    return replace(base, **changes)


def _decimal(raw: object, name: str, key: str, path: Path | str) -> Decimal:
    """Read a YAML number or numeric string as an exact Decimal."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise InvalidPolicyFile(path, name, key, f"must be a number, not {raw!r}")
    try:
        # repr() of a YAML float is its shortest round-trip text: 0.1 stays 0.1.
        value = Decimal(repr(raw) if isinstance(raw, float) else str(raw).strip())
    except ArithmeticError as error:
        raise InvalidPolicyFile(path, name, key, f"must be a number, not {raw!r}") from error
    if not value.is_finite():
        raise InvalidPolicyFile(path, name, key, "must be finite")
    if value < 0:
        raise InvalidPolicyFile(path, name, key, "must not be negative")
    return value


def _weekdays(raw: object, name: str, path: Path | str) -> frozenset[int]:
    """Read weekdays given as numbers (0=Mon) or three-letter English names."""
    key = "contact_hours.weekdays"
    if not isinstance(raw, list):
        raise InvalidPolicyFile(path, name, key, "must be a list such as [mon, tue, wed]")
    days: set[int] = set()
    for item in raw:
        if isinstance(item, str) and item.strip().lower()[:3] in _WEEKDAY_NAMES:
            days.add(_WEEKDAY_NAMES[item.strip().lower()[:3]])
        elif isinstance(item, int) and not isinstance(item, bool) and 0 <= item <= 6:
            days.add(item)
        else:
            raise InvalidPolicyFile(path, name, key, f"unknown weekday {item!r}")
    return frozenset(days)


def _time(raw: object, name: str, key: str, path: Path | str) -> time:
    """Read a quoted "HH:MM" time (unquoted 20:00 is a YAML 1.1 number, so it is refused)."""
    if not isinstance(raw, str):
        problem = f'write times as quoted text like "08:00", not {raw!r}'
        raise InvalidPolicyFile(path, name, key, problem)
    try:
        return time.fromisoformat(raw.strip())
    except ValueError as error:
        raise InvalidPolicyFile(path, name, key, f"not a time: {raw!r}") from error
