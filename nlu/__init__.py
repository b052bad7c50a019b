"""Quitt NLU: language detection and amount/date extraction, plus the Rasa components.

`nlu.language` and `nlu.entities` need only spacy, lingua and the stdlib, so they run in
both the Rasa runtime and the app runtime; only `nlu.components` imports rasa.
"""
