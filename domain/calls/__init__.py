"""The phone line's table: one row per call."""
