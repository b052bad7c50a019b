"""The gateway's client of the Rasa server."""
