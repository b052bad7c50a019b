"""The WhatsApp channel through Twilio: webhook, numbered options, opt-out, agent replies."""
