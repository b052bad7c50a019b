"""The offer interface in one place: decision types and every proposal function."""

from __future__ import annotations

from policy.decisions import Decision, Instalment, Offer, OfferKind
from policy.payments import propose_deferral, propose_full, propose_settlement, settlement_floor
from policy.plans import build_plan, minimum_instalment, propose_plan

__all__ = [
    "Decision",
    "Instalment",
    "Offer",
    "OfferKind",
    "build_plan",
    "minimum_instalment",
    "propose_deferral",
    "propose_full",
    "propose_plan",
    "propose_settlement",
    "settlement_floor",
]
