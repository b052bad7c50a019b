"""The console's KPI and payments panels are served by the gateway, Chart.js included.

Every module of the panels comes from `/console/static/`, Chart.js from
`web/node_modules` at `/console/vendor/chart.js` (scripts/install-web.sh); nothing
from a CDN. What the panels do is tested in Chromium (tests/integration/test_kpis_browser.py).
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from api.console.page import CHART_BUNDLE

MODULES = ("kpis.js", "kpi-charts.js", "labels.js", "panels.js", "payments.js")


def test_the_panels_modules_are_served_and_load_nothing_from_elsewhere(
    client: TestClient,
) -> None:
    page = client.get("/console").text
    assert '<script src="/console/vendor/chart.js" defer></script>' in page
    for name in ("kpis.js", "payments.js"):
        assert f'<script src="/console/static/{name}" type="module"></script>' in page
    assert 'href="/console/static/payments.css"' in page
    for name in MODULES:
        asset = client.get(f"/console/static/{name}")
        assert asset.status_code == 200, name
        assert asset.headers["content-type"].startswith("text/javascript")
        assert "//cdn" not in asset.text and "https://" not in asset.text
        # Imports are the panels' own modules, by relative path.
        for imported in re.findall(r'from "([^"]+)"', asset.text):
            assert imported.startswith("./") and imported[2:] in MODULES, (name, imported)
        assert len(asset.text.splitlines()) < 450, name
    assert client.get("/console/static/payments.css").headers["content-type"].startswith("text/css")
    assert client.get("/console/static/chart.js").status_code == 404


@pytest.mark.skipif(not CHART_BUNDLE.exists(), reason="run scripts/install-web.sh")
def test_chart_js_is_served_from_node_modules(client: TestClient) -> None:
    response = client.get("/console/vendor/chart.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "Chart.js v4.6.2" in response.text[:500]
