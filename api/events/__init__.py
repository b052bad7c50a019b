"""Live fan-out between gateway processes: in-process by default, Redis pub/sub when set."""
