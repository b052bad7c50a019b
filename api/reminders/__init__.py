"""Payment reminders: an outbox planned from promises, swept on a timer, sent per channel.

The rules (which reminder is due, whether it may go now, which channel) are pure, in
`policy.reminders`; this package holds the outbox (`outbox`; its table is
`domain.reminders.models`), the messages (`texts`, `templates.yml`), the channels
(`channels`), the sweep (`sweeper`), the opt-out link (`optout`, `views`) and
`quitt reminders run` (`commands`).
"""
