"""Disputes a debtor raises against a claim."""
