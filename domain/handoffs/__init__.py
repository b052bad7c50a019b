"""Escalations from the bot to a human agent."""
