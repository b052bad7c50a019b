"""Reason codes the policy emits, and the CONTRACT §3 handoff reasons.

Codes are stable strings: the audit log and the dialogue key on them.
"""

from __future__ import annotations

from typing import Final

# Handoff reasons (CONTRACT §3).
HUMAN_REQUEST: Final = "human_request"
NEGATIVE_SENTIMENT: Final = "negative_sentiment"
DISPUTE: Final = "dispute"
INSOLVENCY: Final = "insolvency"
BEREAVEMENT: Final = "bereavement"
VULNERABILITY: Final = "vulnerability"
CRISIS: Final = "crisis"
VERIFICATION_LOCKED: Final = "verification_locked"
POLICY_LIMIT: Final = "policy_limit"
BOT_FAILURE: Final = "bot_failure"
BROKEN_PROMISE: Final = "broken_promise"

HANDOFF_REASONS: Final = frozenset(
    {
        HUMAN_REQUEST,
        NEGATIVE_SENTIMENT,
        DISPUTE,
        INSOLVENCY,
        BEREAVEMENT,
        VULNERABILITY,
        CRISIS,
        VERIFICATION_LOCKED,
        POLICY_LIMIT,
        BOT_FAILURE,
        BROKEN_PROMISE,
    }
)

# Offers.
PAYMENT_DATE_IN_PAST: Final = "payment_date_in_past"
AMOUNT_EXCEEDS_TOTAL: Final = "amount_exceeds_total"
FULL_PAYMENT_ALLOWED: Final = "full_payment_allowed"
FULL_PAYMENT_DATE_BEYOND_WINDOW: Final = "full_payment_date_beyond_window"
SETTLEMENT_ALLOWED: Final = "settlement_allowed"
SETTLEMENT_TOTAL_BELOW_MINIMUM: Final = "settlement_total_below_minimum"
SETTLEMENT_DISCOUNT_BEYOND_POLICY: Final = "settlement_discount_beyond_policy"
SETTLEMENT_DATE_BEYOND_WINDOW: Final = "settlement_date_beyond_window"
DEFERRAL_ALLOWED: Final = "deferral_allowed"
DEFERRAL_ALREADY_USED: Final = "deferral_already_used"
DEFERRAL_BEYOND_WINDOW: Final = "deferral_beyond_window"
DEFERRAL_DATE_NOT_IN_FUTURE: Final = "deferral_date_not_in_future"
PLAN_ALLOWED: Final = "plan_allowed"
PLAN_TOTAL_TOO_SMALL: Final = "plan_total_too_small"
INSTALMENT_BELOW_MINIMUM: Final = "instalment_below_minimum"
# No longer given since a plan by monthly amount ends in a Schlussrate (CONTRACT §4 as
# amended): any M at or above the floor is feasible. Kept for audit events written before.
MONTHLY_NOT_FEASIBLE: Final = "monthly_not_feasible"
MONTHLY_COVERS_TOTAL: Final = "monthly_covers_total"
PLAN_EXCEEDS_MAX_MONTHS: Final = "plan_exceeds_max_months"
PLAN_TOO_FEW_MONTHS: Final = "plan_too_few_months"
FIRST_INSTALMENT_BEYOND_WINDOW: Final = "first_instalment_beyond_window"

# Claim status.
CLAIM_OPEN: Final = "claim_open"
CLAIM_DISPUTED: Final = "claim_disputed"
CLAIM_INSOLVENCY: Final = "claim_insolvency"
CLAIM_PAID: Final = "claim_paid"

# Identity.
VERIFICATION_ALLOWED: Final = "verification_allowed"
# VERIFICATION_LOCKED above doubles as the reason code.

# Contact hours.
CONTACT_ALLOWED: Final = "contact_allowed"
OUTSIDE_CONTACT_HOURS: Final = "outside_contact_hours"
OUTSIDE_CONTACT_DAYS: Final = "outside_contact_days"
SUNDAY: Final = "sunday"
PUBLIC_HOLIDAY_PREFIX: Final = "public_holiday:"
