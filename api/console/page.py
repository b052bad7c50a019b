"""`GET /console`: the console's page and its static files (public; the data needs a token).

The KPI charts use Chart.js, installed from npm into `web/node_modules` by
scripts/install-web.sh (pinned by web/package-lock.json) and served from here, like
the chat widget's bundle: nothing comes from a CDN.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter
from fastapi.responses import FileResponse

from domain.config import ROOT
from domain.errors import NotFound

STATIC_DIR: Final = Path(__file__).with_name("static")
CHART_BUNDLE: Final = ROOT / "web" / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js"
# Only these files are served: no directory listing, no path tricks.
STATIC_FILES: Final = {
    "console.css": "text/css; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "kpis.css": "text/css; charset=utf-8",
    "kpis.js": "text/javascript; charset=utf-8",
    "kpi-charts.js": "text/javascript; charset=utf-8",
    "labels.js": "text/javascript; charset=utf-8",
    "panels.js": "text/javascript; charset=utf-8",
    "payments.css": "text/css; charset=utf-8",
    "payments.js": "text/javascript; charset=utf-8",
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


@router.get("/console/vendor/chart.js")
def chart_bundle() -> FileResponse:
    """Serve the installed Chart.js bundle (404 until scripts/install-web.sh ran)."""
    if not CHART_BUNDLE.is_file():
        raise NotFound("the chart library is not installed: run scripts/install-web.sh")
    return FileResponse(
        CHART_BUNDLE,
        media_type="text/javascript; charset=utf-8",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=3600"},
    )
