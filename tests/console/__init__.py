"""Tests of the agent console: its API and its WebSocket."""
