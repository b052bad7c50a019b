"""Debtor channels of the gateway (REST now; web chat, WhatsApp and voice later)."""
