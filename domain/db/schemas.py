"""Pydantic building blocks shared by the domains' API answers."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer

# Money leaves the API as a decimal string with two places: "412.50".
Money = Annotated[Decimal, PlainSerializer(lambda v: f"{v:.2f}", return_type=str)]


class ORMModel(BaseModel):
    """An answer built from ORM objects."""

    model_config = ConfigDict(from_attributes=True)
