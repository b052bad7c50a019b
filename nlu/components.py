"""Rasa 3.6 graph components that put the pure nlu core into the Rasa NLU pipeline.

The only module of ``nlu`` that imports rasa: the core (``nlu.language``,
``nlu.entities``) also runs in the app runtime, where rasa is not installed.

Use in ``bot/config.yml`` (the repo root on PYTHONPATH), LanguageIdentifier first::

    pipeline:
      - name: nlu.components.LanguageIdentifier
        min_confidence: 0.7
      - name: nlu.components.AmountDateExtractor
        timezone: Europe/Berlin
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from nlu.entities import extract_entities
from nlu.language import detect_language

__all__ = ["AmountDateExtractor", "LanguageIdentifier"]

LANGUAGE_ENTITY = "language"


def _append_entities(message: Message, entities: list[dict[str, Any]]) -> None:
    """Append entities to a message, keeping those other extractors already set."""
    if entities:
        message.set(ENTITIES, [*message.get(ENTITIES, []), *entities], add_to_output=True)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class LanguageIdentifier(GraphComponent, EntityExtractorMixin):
    """Add a `language` entity ("de"/"en") when the message shows its language clearly.

    Messages without evidence ("ok", "1", a date) get no entity, so a `language` slot
    filled from this entity keeps its earlier value.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Return the default config: the confidence a guess needs to become an entity."""
        # 0.7 lets single cue words through ("ja" 0.95, "Freitag" 0.72) but not lingua's
        # guesses on unknown short words, which are capped at 0.6.
        return {"min_confidence": 0.7}

    def __init__(self, config: dict[str, Any]) -> None:
        """Keep the configured threshold."""
        self._min_confidence = float(config["min_confidence"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageIdentifier:
        """Create the component from its config; it has nothing to train or load."""
        return cls({**cls.get_default_config(), **config})

    @staticmethod
    def required_packages() -> list[str]:
        """List the packages this component imports."""
        return ["lingua"]

    def process(self, messages: list[Message]) -> list[Message]:
        """Add the language entity to each message whose language is clear."""
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            guess = detect_language(text)
            if guess.language is None or guess.confidence < self._min_confidence:
                continue
            entity = {
                "entity": LANGUAGE_ENTITY,
                "value": guess.language,
                "start": 0,
                "end": len(text),
                "confidence": guess.confidence,
                "confidence_entity": guess.confidence,
            }
            _append_entities(message, self.add_extractor_name([entity]))
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class AmountDateExtractor(GraphComponent, EntityExtractorMixin):
    """Add normalised `amount` ("50.00") and `date` ("2026-12-04") entities."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Return the default config: the timezone that decides what "today" is."""
        return {"timezone": "Europe/Berlin"}

    def __init__(self, config: dict[str, Any]) -> None:
        """Resolve the timezone now, so a wrong name fails at load, not per message."""
        self._timezone = ZoneInfo(str(config["timezone"]))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> AmountDateExtractor:
        """Create the component from its config; it has nothing to train or load."""
        return cls({**cls.get_default_config(), **config})

    @staticmethod
    def required_packages() -> list[str]:
        """List the packages this component imports."""
        return ["spacy", "lingua"]

    def today(self) -> date:
        """Return today's date in the configured timezone."""
        return datetime.now(self._timezone).date()

    def process(self, messages: list[Message]) -> list[Message]:
        """Add amount and date entities, using a language entity set earlier if any."""
        today = self.today()
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            language = _language_of(message)
            found = extract_entities(text, today=today, language=language)
            entities = [
                {
                    "entity": e.entity,
                    "value": e.value,
                    "start": e.start,
                    "end": e.end,
                    "text": e.text,
                }
                for e in found
            ]
            _append_entities(message, self.add_extractor_name(entities))
        return messages


def _language_of(message: Message) -> str | None:
    """Return the language entity's value that LanguageIdentifier set, if any."""
    for entity in reversed(message.get(ENTITIES, [])):
        if entity.get("entity") == LANGUAGE_ENTITY and entity.get("value") in {"de", "en"}:
            return str(entity["value"])
    return None
