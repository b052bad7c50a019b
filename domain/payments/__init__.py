"""Payments in: bank statements imported, credits matched to claims and allocated."""
