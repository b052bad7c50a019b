"""Moved to `domain.claims.service` (issue 12). Only bench/judgement.py, owned elsewhere,
still imports this path: delete this module once that import names `domain.claims.service`.
"""

from domain.claims.service import get_by_reference, import_file

__all__ = ["get_by_reference", "import_file"]
