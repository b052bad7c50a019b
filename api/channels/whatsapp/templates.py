"""Approved WhatsApp templates: the file that names them, and one template ready to send.

Outside the 24-hour customer-service window WhatsApp takes only pre-approved
templates, sent through Twilio's Content API as `ContentSid` + `ContentVariables`
instead of a `Body`. `templates.yml` maps each template name to its approved copy
per language (and, optionally, per creditor).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import yaml

from domain.config import Settings

LANGUAGES: Final = ("de", "en")
# Where a template's variables may come from: settings only, never an agent's free text.
VARIABLE_SOURCES: Final = {"sender_name": "data_controller"}
_CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


class TemplateConfigError(ValueError):
    """The templates file is malformed; the message names the file and the key."""

    def __init__(self, path: Path, key: str, problem: str) -> None:
        super().__init__(f"{path}: {key}: {problem}")
        self.path = path
        self.key = key
        self.problem = problem


class UnknownTemplate(LookupError):
    """No template of that name is configured."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"no WhatsApp template {name!r} (known: {', '.join(known) or 'none'})")
        self.name = name


@dataclass(frozen=True)
class Copy:
    """One approved copy of a template in one language."""

    content_sid: str
    text: str


@dataclass(frozen=True)
class Template:
    """A template with its titles, variables and approved copies."""

    name: str
    titles: Mapping[str, str]
    variables: Mapping[str, str]
    copies: Mapping[str, Copy]


@dataclass(frozen=True)
class Catalogue:
    """Every configured template, and creditors' own copies of them."""

    templates: Mapping[str, Template]
    creditor_copies: Mapping[str, Mapping[str, Mapping[str, Copy]]]

    @property
    def names(self) -> list[str]:
        """Return the template names, sorted."""
        return sorted(self.templates)


@dataclass(frozen=True)
class Rendered:
    """A template ready to send: what Twilio gets and what the transcript keeps."""

    name: str
    language: str
    title: str
    content_sid: str
    variables: dict[str, str]
    text: str

    @property
    def content_variables(self) -> str:
        """Return the `ContentVariables` JSON string Twilio expects."""
        return json.dumps(self.variables, ensure_ascii=False, sort_keys=True)


def _mapping(value: Any, path: Path, key: str) -> dict[str, Any]:
    """Return a mapping from the file or raise naming the key."""
    if not isinstance(value, dict):
        raise TemplateConfigError(path, key, "must be a mapping")
    return value


def _copy(raw: Any, path: Path, key: str, variables: Mapping[str, str]) -> Copy:
    """Read and check one approved copy."""
    entry = _mapping(raw, path, key)
    sid, text = entry.get("content_sid"), entry.get("text")
    if not isinstance(sid, str) or not _CONTENT_SID.match(sid):
        raise TemplateConfigError(path, f"{key}.content_sid", "must be 'HX' + 32 hex digits")
    if not isinstance(text, str) or not text.strip():
        raise TemplateConfigError(path, f"{key}.text", "must be the approved wording")
    used = set(_PLACEHOLDER.findall(text))
    if used != set(variables):
        raise TemplateConfigError(
            path,
            f"{key}.text",
            f"placeholders {sorted(used)} do not match the variables {sorted(variables)}",
        )
    return Copy(sid, " ".join(text.split()))


def _template(name: str, raw: Any, path: Path, sources: Collection[str]) -> Template:
    """Read and check one template with both languages."""
    key = f"templates.{name}"
    if not _NAME.match(name):
        raise TemplateConfigError(path, key, "names are lower-case letters, digits and _")
    entry = _mapping(raw, path, key)
    titles = _mapping(entry.get("title"), path, f"{key}.title")
    variables = {str(k): v for k, v in _mapping(entry.get("variables") or {}, path, key).items()}
    for placeholder, source in variables.items():
        if source not in sources:
            raise TemplateConfigError(
                path,
                f"{key}.variables.{placeholder}",
                f"unknown source {source!r} (known: {', '.join(sorted(sources))})",
            )
    content = _mapping(entry.get("content"), path, f"{key}.content")
    copies: dict[str, Copy] = {}
    for language in LANGUAGES:
        if not isinstance(titles.get(language), str):
            raise TemplateConfigError(path, f"{key}.title.{language}", "missing")
        if language not in content:
            raise TemplateConfigError(path, f"{key}.content.{language}", "missing")
        copies[language] = _copy(content[language], path, f"{key}.content.{language}", variables)
    return Template(name, {lang: titles[lang] for lang in LANGUAGES}, variables, copies)


def parse(
    data: Any,
    path: Path,
    sid_overrides: Mapping[str, str] | None = None,
    *,
    sources: Collection[str] = tuple(VARIABLE_SOURCES),
) -> Catalogue:
    """Check a loaded templates file and apply `name.language` SID overrides.

    `sources` names what variables may be filled from (the reminders have their own).
    """
    root = _mapping(data or {}, path, "(file)")
    templates = {
        str(name): _template(str(name), raw, path, sources)
        for name, raw in _mapping(root.get("templates") or {}, path, "templates").items()
    }
    for key, sid in (sid_overrides or {}).items():
        name, _, language = key.partition(".")
        if name not in templates or language not in LANGUAGES:
            raise TemplateConfigError(
                path, f"QUITT_WHATSAPP_TEMPLATE_SIDS.{key}", "no such template and language"
            )
        if not _CONTENT_SID.match(sid):
            raise TemplateConfigError(
                path, f"QUITT_WHATSAPP_TEMPLATE_SIDS.{key}", "must be 'HX' + 32 hex digits"
            )
        template = templates[name]
        copies = dict(template.copies)
        copies[language] = Copy(sid, copies[language].text)
        templates[name] = Template(name, template.titles, template.variables, copies)
    creditor_copies: dict[str, dict[str, dict[str, Copy]]] = {}
    for creditor, raw in _mapping(root.get("creditors") or {}, path, "creditors").items():
        for name, per_language in _mapping(raw, path, f"creditors.{creditor}").items():
            key = f"creditors.{creditor}.{name}"
            if name not in templates:
                raise TemplateConfigError(path, key, "no such template")
            for language, copy in _mapping(per_language, path, key).items():
                if language not in LANGUAGES:
                    raise TemplateConfigError(path, f"{key}.{language}", "unknown language")
                creditor_copies.setdefault(str(creditor), {}).setdefault(name, {})[language] = (
                    _copy(copy, path, f"{key}.{language}", templates[name].variables)
                )
    return Catalogue(templates, creditor_copies)


@lru_cache(maxsize=4)
def _load(path: Path, overrides: tuple[tuple[str, str], ...]) -> Catalogue:
    """Read and check a templates file once per path and overrides."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TemplateConfigError(path, "(file)", f"cannot be read: {exc.strerror}") from exc
    return parse(data, path, dict(overrides))


def catalogue(settings: Settings) -> Catalogue:
    """Return the configured templates (the file, then the SID overrides)."""
    return _load(
        Path(settings.whatsapp_templates_file),
        tuple(sorted(settings.whatsapp_template_sids.items())),
    )


def render(
    catalogue: Catalogue,
    *,
    name: str,
    language: str | None,
    creditor_id: str | None,
    settings: Settings,
) -> Rendered:
    """Pick a template's copy for the language (and creditor) and fill its variables."""
    template = catalogue.templates.get(name)
    if template is None:
        raise UnknownTemplate(name, catalogue.names)
    language = language if language in LANGUAGES else LANGUAGES[0]
    own = catalogue.creditor_copies.get(creditor_id or "", {}).get(name, {})
    copy = own.get(language) or template.copies[language]
    values = {
        placeholder: str(getattr(settings, VARIABLE_SOURCES[source]))
        for placeholder, source in template.variables.items()
    }
    text = _PLACEHOLDER.sub(lambda m: values[m.group(1)], copy.text)
    return Rendered(
        name=name,
        language=language,
        title=template.titles[language],
        content_sid=copy.content_sid,
        variables=values,
        text=text,
    )
