"""Creditors, debtors and their claims; the `quitt-claims/1` import."""
