"""The KPI domain's errors (mapped to HTTP answers by api.errors, never raised as such).

A 400, not a 422: that status carries FastAPI's own validation body in the API's schema.
"""

from __future__ import annotations

from domain.errors import QuittError


class BadPeriod(QuittError):
    """The period is empty (`from` after `to`) or its dates are out of range."""


class UnknownCreditor(QuittError):
    """The `creditor` filter names no creditor."""
