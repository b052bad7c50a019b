"""The approved-templates file: checks that name the key, copies per language and creditor."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from api.channels.whatsapp import templates
from domain.config import Settings

FILE = Path("templates.yml")
SID_DE = "HX" + "1" * 32
SID_EN = "HX" + "2" * 32
VALID: dict[str, Any] = {
    "templates": {
        "reengagement": {
            "title": {"de": "Bitte um Rückmeldung", "en": "Please get back to us"},
            "variables": {"1": "sender_name"},
            "content": {
                "de": {"content_sid": SID_DE, "text": "Hier ist {{1}}. Bitte antworten Sie."},
                "en": {"content_sid": SID_EN, "text": "This is {{1}}. Please reply."},
            },
        }
    },
    "creditors": {
        "stadtwerke-musterstadt": {
            "reengagement": {
                "de": {
                    "content_sid": "HX" + "3" * 32,
                    "text": "Stadtwerke: {{1}} bittet um Antwort.",
                }
            }
        }
    },
}


def _changed(path: str, value: Any) -> dict[str, Any]:
    """Return the valid file with one value (dotted path) replaced; None deletes it."""
    data = copy.deepcopy(VALID)
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[key]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return data


def _settings(**values: Any) -> Settings:
    return Settings(data_controller="Muster Inkasso GmbH", **values)


@pytest.mark.parametrize(
    ("path", "value", "key", "problem"),
    [
        ("templates.reengagement.content.en", None, "content.en", "missing"),
        ("templates.reengagement.title.de", None, "title.de", "missing"),
        ("templates.reengagement.content.de.content_sid", "SM123", "content_sid", "HX"),
        ("templates.reengagement.content.de.text", "Hallo {{2}}", "content.de.text", "match"),
        ("templates.reengagement.content.en.text", "  ", "content.en.text", "approved wording"),
        ("templates.reengagement.variables", {"1": "agent_note"}, "variables.1", "unknown source"),
        ("creditors.stadtwerke-musterstadt.payment", {}, "payment", "no such template"),
        ("creditors.stadtwerke-musterstadt.reengagement.fr", {}, "reengagement.fr", "language"),
    ],
)
def test_a_malformed_file_is_refused_naming_the_key(
    path: str, value: Any, key: str, problem: str
) -> None:
    with pytest.raises(templates.TemplateConfigError) as raised:
        templates.parse(_changed(path, value), FILE)
    assert key in raised.value.key and problem in raised.value.problem
    assert str(raised.value).startswith("templates.yml: ")


def test_the_debtors_language_picks_the_copy_and_settings_fill_the_variables() -> None:
    catalogue = templates.parse(VALID, FILE)
    for language, sid, text in (
        ("de", SID_DE, "Hier ist Muster Inkasso GmbH. Bitte antworten Sie."),
        ("en", SID_EN, "This is Muster Inkasso GmbH. Please reply."),
        (None, SID_DE, "Hier ist Muster Inkasso GmbH. Bitte antworten Sie."),
    ):
        rendered = templates.render(
            catalogue,
            name="reengagement",
            language=language,
            creditor_id=None,
            settings=_settings(),
        )
        assert (rendered.content_sid, rendered.text) == (sid, text)
        assert json.loads(rendered.content_variables) == {"1": "Muster Inkasso GmbH"}


def test_a_creditors_own_copy_replaces_the_default_in_its_language_only() -> None:
    catalogue = templates.parse(VALID, FILE)

    def render(language: str, creditor: str | None) -> templates.Rendered:
        return templates.render(
            catalogue,
            name="reengagement",
            language=language,
            creditor_id=creditor,
            settings=_settings(),
        )

    assert render("de", "stadtwerke-musterstadt").content_sid == "HX" + "3" * 32
    assert render("en", "stadtwerke-musterstadt").content_sid == SID_EN
    assert render("de", "another-creditor").content_sid == SID_DE


def test_sid_overrides_from_the_environment_apply_and_are_checked() -> None:
    override = "HX" + "a" * 32
    catalogue = templates.parse(VALID, FILE, {"reengagement.en": override})
    assert catalogue.templates["reengagement"].copies["en"].content_sid == override
    assert catalogue.templates["reengagement"].copies["de"].content_sid == SID_DE
    for bad in ({"reengagement.fr": override}, {"reminder.de": override}, {"reengagement.de": "x"}):
        with pytest.raises(templates.TemplateConfigError):
            templates.parse(VALID, FILE, bad)


def test_an_unknown_template_names_the_known_ones() -> None:
    with pytest.raises(templates.UnknownTemplate, match="reengagement"):
        templates.render(
            templates.parse(VALID, FILE),
            name="reminder",
            language="de",
            creditor_id=None,
            settings=_settings(),
        )


def test_the_shipped_templates_load_and_say_nothing_about_a_claim() -> None:
    settings = _settings()
    catalogue = templates.catalogue(settings)
    assert catalogue.names == ["reengagement"]
    shipped = yaml.safe_load(settings.whatsapp_templates_file.read_text(encoding="utf-8"))
    assert templates.parse(shipped, settings.whatsapp_templates_file) == catalogue
    wording = [c.text for c in catalogue.templates["reengagement"].copies.values()]
    assert len(wording) == 2
    for text in wording:
        # Whoever holds the phone learns no amount, reference, creditor or debt.
        found = re.search(
            r"\d(?!\}\})|€|EUR|Betrag|Forderung|Schuld|Inkasso|debt|claim|amount", text
        )
        assert found is None, text
