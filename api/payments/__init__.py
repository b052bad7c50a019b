"""The payments routes and `quitt payments` (matching and allocation: `domain.payments`)."""
