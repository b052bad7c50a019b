"""The domain's exceptions: each carries its values and the status it stands for.

The gateway maps them to HTTP answers in one place (`api.errors`); services and
policy never raise HTTP errors.
"""

from __future__ import annotations

from collections.abc import Sequence


class QuittError(Exception):
    """Base of every error the domain raises on purpose."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(QuittError):
    """A requested object does not exist."""

    status_code = 404


class Conflict(QuittError):
    """The request clashes with stored state (duplicate, wrong state)."""

    status_code = 409


class ValidationFailed(QuittError):
    """Input was refused; `errors` lists every problem found."""

    status_code = 422

    def __init__(self, message: str, errors: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.errors = list(errors) or [message]


class Unauthorized(QuittError):
    """Missing, wrong or expired credentials."""

    status_code = 401


class Forbidden(QuittError):
    """Authenticated but not allowed."""

    status_code = 403


class RateLimited(QuittError):
    """Too many attempts; try again after `retry_after` seconds."""

    status_code = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
