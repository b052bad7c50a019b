"""Moved to `domain.agents.service` (issue 12). Only bench/judgement.py, owned elsewhere, still
imports this path: delete this module once that import names `domain.agents.service`.
"""

from domain.agents.service import create_agent

__all__ = ["create_agent"]
