"""Console users (agents, supervisors) and their authentication."""
