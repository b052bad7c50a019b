"""Twilio, as the channels use it: the webhook signature check and the REST client."""
