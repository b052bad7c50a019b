"""Conversations per sender and their transcripts."""
