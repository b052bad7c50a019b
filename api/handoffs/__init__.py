"""The handoff routes (handoffs themselves: `domain.handoffs`)."""
