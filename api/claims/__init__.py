"""The claims routes and `quitt claims` (the claims themselves: `domain.claims`)."""
