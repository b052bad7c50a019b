"""The console users' routes, the current-user dependency and `quitt agents`."""
