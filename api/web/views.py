"""`GET /`: the creditor's demo page with the chat widget, its static files and the widget bundle.

Everything the page loads comes from the gateway: the rasa-webchat bundle is
served from `web/node_modules` (installed by `scripts/install-web.sh` from the
pinned `web/package-lock.json`), never from a CDN.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from string import Template
from typing import Annotated, Final

from fastapi import APIRouter, Header, Query
from fastapi.responses import FileResponse, HTMLResponse

from api.web import texts
from domain.config import ROOT
from domain.errors import NotFound

STATIC_DIR: Final = Path(__file__).with_name("static")
WIDGET_BUNDLE: Final = ROOT / "web" / "node_modules" / "rasa-webchat" / "lib" / "index.js"
# Only these files are served: no directory listing, no path tricks.
STATIC_FILES: Final = {
    "page.css": "text/css; charset=utf-8",
    "page.js": "text/javascript; charset=utf-8",
}
SECURITY_HEADERS: Final = {
    # The widget injects its styles at run time, hence 'unsafe-inline' for styles only.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws: wss:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


def page_language(lang: str | None, accept_language: str | None) -> str:
    """Choose the page language: `?lang=`, else the browser's first known language, else German."""
    if lang in texts.LANGUAGES:
        return lang
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in texts.LANGUAGES:
            return code
    return texts.DEFAULT_LANGUAGE


def render_page(language: str) -> str:
    """Fill the page template with the language's texts, HTML-escaped."""
    values = {key: escape(value) for key, value in texts.catalogue()[language].items()}
    values["lang"] = language
    for code in texts.LANGUAGES:
        values[f"current_{code}"] = 'aria-current="true"' if code == language else ""
    template = Template((STATIC_DIR / "index.html").read_text(encoding="utf-8"))
    return template.substitute(values)


@router.get("/")
def demo_page(
    lang: Annotated[str | None, Query(max_length=5)] = None,
    accept_language: Annotated[str | None, Header(max_length=200)] = None,
) -> HTMLResponse:
    """Serve the creditor's demo page in German or English."""
    language = page_language(lang, accept_language)
    headers = {**SECURITY_HEADERS, "Content-Language": language, "Vary": "Accept-Language"}
    return HTMLResponse(render_page(language), headers=headers)


@router.get("/web/static/{name}")
def web_static(name: str) -> FileResponse:
    """Serve one of the demo page's static files."""
    media_type = STATIC_FILES.get(name)
    if media_type is None:
        raise NotFound(f"no web file {name!r}")
    return FileResponse(
        STATIC_DIR / name,
        media_type=media_type,
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"},
    )


@router.get("/web/vendor/rasa-webchat.js")
def widget_bundle() -> FileResponse:
    """Serve the installed rasa-webchat bundle (404 until scripts/install-web.sh ran)."""
    if not WIDGET_BUNDLE.is_file():
        raise NotFound("the chat widget is not installed: run scripts/install-web.sh")
    return FileResponse(
        WIDGET_BUNDLE,
        media_type="text/javascript; charset=utf-8",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=3600"},
    )
