"""Benchmarks of Quitt: NLU intents per language, entities, parse latency."""
