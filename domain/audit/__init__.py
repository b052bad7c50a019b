"""The append-only audit log of policy decisions."""
