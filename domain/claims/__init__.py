"""Creditors, debtors and their claims; the claims import (`quitt-claims/1` JSON and CSV)."""
