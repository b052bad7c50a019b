"""Everything the console serves, as one router for `create_app()`."""

from __future__ import annotations

from fastapi import APIRouter

from .page import router as page_router
from .views import router as api_router
from .ws import router as ws_router

router = APIRouter()
for _part in (page_router, api_router, ws_router):
    router.include_router(_part)
