"""The privacy routes and `quitt privacy` (data subject rights: `domain.privacy`)."""
