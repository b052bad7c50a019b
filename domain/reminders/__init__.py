"""Payment reminders: the outbox table (the outbox, texts and channels: `api.reminders`)."""
