"""Whose account a claim is paid to: the creditor's own, or else the agency's."""

from __future__ import annotations

from dataclasses import dataclass

from domain.claims.models import Creditor
from domain.config import EXAMPLE_BIC, EXAMPLE_IBAN, Settings

# Said as the payee of the example account, so that nobody takes it for a real one.
EXAMPLE_HOLDER = "Quitt Inkasso GmbH (Testkonto)"


@dataclass(frozen=True)
class Account:
    """A payee's account: the name the bank knows, the IBAN (compact) and the BIC if known."""

    holder: str
    iban: str
    bic: str | None


def agency_account(settings: Settings) -> Account | None:
    """Return the agency's account from the settings; the example one outside production.

    Production has no default: without QUITT_AGENCY_IBAN a creditor without bank
    details of its own gets no payment details in the chat (the debtor hears that they
    follow in writing), never a test account.
    """
    if settings.agency_iban:
        holder = settings.agency_account_holder or settings.data_controller
        return Account(holder=holder[:70], iban=settings.agency_iban, bic=settings.agency_bic)
    if settings.environment == "production":
        return None
    return Account(
        holder=settings.agency_account_holder or EXAMPLE_HOLDER,
        iban=EXAMPLE_IBAN,
        bic=settings.agency_bic or EXAMPLE_BIC,
    )


def creditor_account(creditor: Creditor) -> Account | None:
    """Return the creditor's own account, or None when the claims file gave none."""
    if not creditor.iban:
        return None
    holder = creditor.account_holder or creditor.name
    return Account(holder=holder[:70], iban=creditor.iban, bic=creditor.bic)
