"""The WhatsApp channel's tables and ledgers: Twilio events, contacts, attachments, sends."""
