"""Quitt gateway: channels, handoff, agent API and the data layer."""
