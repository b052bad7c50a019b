"""One small exception hierarchy for the policy engine; each error carries its values."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class PolicyError(Exception):
    """Base class of every error the policy engine raises."""


class InvalidAmount(PolicyError):
    """An amount that is not a finite decimal number (or not allowed here)."""

    def __init__(self, value: object, problem: str = "is not a finite decimal number") -> None:
        """Keep the offending value and say what is wrong with it."""
        self.value = value
        self.problem = problem
        super().__init__(f"invalid amount {value!r}: {problem}")


class PolicyNotFound(PolicyError):
    """No creditor policy of that name is loaded."""

    def __init__(self, name: str, known: Iterable[str] = ()) -> None:
        """Keep the name asked for and the names that exist."""
        self.name = name
        self.known = tuple(sorted(known))
        super().__init__(f"no creditor policy {name!r} (known: {', '.join(self.known) or 'none'})")


class InvalidPolicy(PolicyError):
    """A creditor policy whose settings break a rule (negative days, discount >= 1, ...)."""

    def __init__(self, policy: str, key: str, problem: str) -> None:
        """Keep the policy name, the key and the problem."""
        self.policy = policy
        self.key = key
        self.problem = problem
        super().__init__(f"policy {policy!r}, key {key!r}: {problem}")


class InvalidPolicyFile(InvalidPolicy):
    """A policy file that cannot be loaded; names the file, the policy and the key."""

    def __init__(self, path: Path | str, policy: str, key: str, problem: str) -> None:
        """Keep the file path as well as the policy, key and problem."""
        self.path = Path(path)
        super().__init__(policy, key, problem)
        self.args = (f"{self.path}: policy {policy!r}, key {key!r}: {problem}",)


class InvalidRequest(PolicyError):
    """A call to the policy that is malformed (unknown status, naive datetime, ...)."""
