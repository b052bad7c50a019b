"""Moved to `domain.handoffs.models` (issue 12). Only bench/judgement.py, owned elsewhere, still
imports this path: delete this module once that import names `domain.handoffs.models`.
"""

from domain.handoffs.models import Handoff

__all__ = ["Handoff"]
