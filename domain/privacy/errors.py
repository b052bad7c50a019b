"""The privacy domain's errors (mapped to HTTP answers by api.errors, never raised as such)."""

from __future__ import annotations

from collections.abc import Sequence

from domain.errors import Conflict, NotFound, QuittError


class PersonNotFound(NotFound):
    """No debtor matches the given debtor id or claim reference."""


class PersonNotNamed(QuittError):
    """A person must be named by exactly one of debtor id and claim reference (400).

    Not a 422: that status carries FastAPI's own validation body in the API's schema.
    """


class ErasureRefused(Conflict):
    """An erasure that would destroy data still needed; `blockers` says what."""

    def __init__(self, message: str, blockers: Sequence[str]) -> None:
        super().__init__(message)
        self.blockers = list(blockers)
        self.errors = self.blockers
