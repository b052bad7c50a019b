"""Quitt's pure rules engine: creditor policies, offers, identity, contact hours, handoffs.

No I/O except the YAML loader, no clock reads: today and now are always parameters. Every
decision carries reason codes (policy.reasons) and the policy version for the audit log.
"""

from policy.claims import claim_status_decision
from policy.config import (
    DEFAULT_POLICY,
    SHIPPED_POLICY_FILE,
    ContactHours,
    CreditorPolicy,
    PolicyBook,
    default_book,
    load_policies,
)
from policy.contact import may_contact, next_contact_window
from policy.decisions import Decision, Instalment, Offer
from policy.errors import (
    InvalidAmount,
    InvalidPolicy,
    InvalidPolicyFile,
    InvalidRequest,
    PolicyError,
    PolicyNotFound,
)
from policy.escalation import CRISIS_HELP, Trigger, detect_triggers
from policy.identity import (
    IdentityProof,
    identity_matches,
    lock_until,
    mask_date_of_birth,
    mask_iban,
    mask_phone,
    parse_identity_proof,
    verification_decision,
)
from policy.money import cents
from policy.payments import propose_deferral, propose_full, propose_settlement
from policy.plans import minimum_instalment, propose_plan

__all__ = [
    "CRISIS_HELP",
    "DEFAULT_POLICY",
    "SHIPPED_POLICY_FILE",
    "ContactHours",
    "CreditorPolicy",
    "Decision",
    "IdentityProof",
    "Instalment",
    "InvalidAmount",
    "InvalidPolicy",
    "InvalidPolicyFile",
    "InvalidRequest",
    "Offer",
    "PolicyBook",
    "PolicyError",
    "PolicyNotFound",
    "Trigger",
    "cents",
    "claim_status_decision",
    "default_book",
    "detect_triggers",
    "identity_matches",
    "load_policies",
    "lock_until",
    "mask_date_of_birth",
    "mask_iban",
    "mask_phone",
    "may_contact",
    "minimum_instalment",
    "next_contact_window",
    "parse_identity_proof",
    "propose_deferral",
    "propose_full",
    "propose_plan",
    "propose_settlement",
    "verification_decision",
]
