"""The agent handoff console: its page, its JSON API and its live WebSocket."""
