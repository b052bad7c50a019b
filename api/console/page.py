"""`GET /console`: the console's page and its static files (public; the data needs a token)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api.errors import NotFound

STATIC_DIR: Final = Path(__file__).with_name("static")
# Only these files are served: no directory listing, no path tricks.
STATIC_FILES: Final = {
    "console.css": "text/css; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "kpis.css": "text/css; charset=utf-8",
    "kpis.js": "text/javascript; charset=utf-8",
}
SECURITY_HEADERS: Final = {
    # Everything the page loads comes from the gateway itself; no CDN, no inline script.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        # Attachments are fetched with the token and shown from blob: URLs.
        "media-src 'self' blob:; "
        "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


@router.get("/console")
def console_page() -> FileResponse:
    """Serve the console's single page."""
    return FileResponse(
        STATIC_DIR / "index.html",
        media_type="text/html; charset=utf-8",
        headers=SECURITY_HEADERS,
    )


@router.get("/console/static/{name}")
def console_static(name: str) -> FileResponse:
    """Serve one of the console's static files."""
    media_type = STATIC_FILES.get(name)
    if media_type is None:
        raise NotFound(f"no console file {name!r}")
    return FileResponse(
        STATIC_DIR / name,
        media_type=media_type,
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"},
    )
