"""A debtor message's way through the gateway: transcript, handoff hold, Rasa, reply."""
