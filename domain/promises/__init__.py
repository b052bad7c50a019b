"""Payment promises (full, settlement, instalment plan, deferral)."""
