"""The console's HTTP API: auth, visibility, the queue, detail, take/reply/notes/close."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from domain.agents.security import create_access_token
from domain.conversations import service as conversations_service
from domain.db import session_scope
from domain.db.columns import utcnow

from .conftest import PASSWORD, VERIFIED_REFERENCE, Agents, Seeded

PROTECTED = [
    ("GET", "/api/console/me", None),
    ("GET", "/api/console/queue", None),
    ("GET", "/api/console/handoffs/1", None),
    ("POST", "/api/console/handoffs/1/take", None),
    ("POST", "/api/console/handoffs/1/reply", {"text": "Hallo"}),
    ("POST", "/api/console/handoffs/1/notes", {"text": "Notiz"}),
    ("POST", "/api/console/handoffs/1/handback", None),
    ("POST", "/api/console/handoffs/1/close", {"outcome": "resolved"}),
    ("GET", "/api/console/canned?language=de", None),
]


def test_page_is_public_and_loads_nothing_from_elsewhere(client: TestClient) -> None:
    page = client.get("/console")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "/console/static/console.js" in page.text
    for name, kind in (("console.css", "text/css"), ("console.js", "text/javascript")):
        asset = client.get(f"/console/static/{name}")
        assert asset.status_code == 200
        assert asset.headers["content-type"].startswith(kind)
        assert "//cdn" not in asset.text and "https://" not in asset.text
    assert "https://" not in page.text and "http://" not in page.text
    assert client.get("/console/static/index.html").status_code == 404
    assert client.get("/console/static/..%2Fviews.py").status_code == 404


@pytest.mark.parametrize(("method", "path", "body"), PROTECTED)
def test_every_api_route_needs_a_valid_token(
    client: TestClient, agents: Agents, method: str, path: str, body: dict[str, str] | None
) -> None:
    expired = create_access_token(
        agent_id=agents.alice, role="agent", now=utcnow() - timedelta(days=2)
    )
    for headers in (
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": f"Bearer {expired}"},
    ):
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, (path, headers, response.text)
        assert response.headers["www-authenticate"] == "Bearer"


def test_login_token_opens_the_console_api(client: TestClient, agents: Agents) -> None:
    login = client.post("/api/auth/login", json={"email": "alice@quitt.test", "password": PASSWORD})
    assert login.status_code == 200
    token = login.json()["access_token"]
    me = client.get("/api/console/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json() == {"id": agents.alice, "email": "alice@quitt.test", "role": "agent"}


def test_queue_visibility_agent_and_supervisor(
    client: TestClient, agents: Agents, scene: Seeded
) -> None:
    def ids(headers: dict[str, str]) -> list[int]:
        response = client.get("/api/console/queue", headers=headers)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()]

    # Longest waiting first; closed handoffs never; other agents' handoffs only for supervisors.
    assert ids(agents.alice_h) == [scene.alices, scene.queued]
    assert ids(agents.bob_h) == [scene.bobs, scene.queued]
    assert ids(agents.sue_h) == [scene.alices, scene.bobs, scene.queued]


def test_queue_items_carry_what_the_agent_triages_by(
    client: TestClient, agents: Agents, scene: Seeded
) -> None:
    items = {i["id"]: i for i in client.get("/api/console/queue", headers=agents.sue_h).json()}
    queued = items[scene.queued]
    assert queued["conversation_id"] == "web-queued"
    assert queued["reason"] == "human_request"
    assert queued["channel"] == "rest"
    assert queued["language"] == "de"
    assert queued["state"] == "queued"
    assert queued["assigned_agent_id"] is None
    assert 170 <= queued["waiting_seconds"] <= 200
    # The latest debtor reading, not the angrier earlier one.
    assert queued["sentiment"] == {"label": "neutral", "score": 0.62}
    assert queued["claim_reference"] == VERIFIED_REFERENCE
    alices = items[scene.alices]
    assert alices["state"] == "assigned" and alices["assigned_agent_id"] == agents.alice
    assert alices["language"] == "en"
    assert items[scene.bobs]["sentiment"] is None


def test_detail_has_transcript_notes_and_claim_summary(
    client: TestClient, agents: Agents, scene: Seeded
) -> None:
    response = client.get(f"/api/console/handoffs/{scene.queued}", headers=agents.alice_h)
    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["handoff"]["state"] == "queued"
    assert detail["conversation_state"] == "queued"
    authors = [m["author"] for m in detail["transcript"]]
    assert authors == ["bot", "debtor", "bot", "debtor", "bot"]
    assert detail["transcript"][1]["sentiment"] == {"label": "negative_angry", "score": 0.91}
    assert detail["transcript"][0]["sentiment"] is None
    assert detail["notes"] == []
    claim = detail["claim"]
    assert claim["reference"] == VERIFIED_REFERENCE
    assert claim["creditor"]
    assert (claim["principal"], claim["interest"], claim["fees"], claim["total"]) == (
        "412.50",
        "9.18",
        "54.00",
        "475.68",
    )
    assert claim["status"] == "open"
    assert [p["kind"] for p in claim["promises"]] == ["deferral"]
    assert claim["promises"][0]["amount"] == "475.68"
    assert [d["reason_text"] for d in claim["disputes"]] == ["Rechnung nie erhalten"]
    # No verified identity: no claim.
    unverified = client.get(f"/api/console/handoffs/{scene.bobs}", headers=agents.bob_h).json()
    assert unverified["claim"] is None


def test_detail_visibility(client: TestClient, agents: Agents, scene: Seeded) -> None:
    def status(handoff_id: int, headers: dict[str, str]) -> int:
        return client.get(f"/api/console/handoffs/{handoff_id}", headers=headers).status_code

    assert status(scene.bobs, agents.alice_h) == 403
    assert status(scene.alices, agents.bob_h) == 403
    assert status(scene.closed, agents.alice_h) == 403
    assert status(scene.alices, agents.alice_h) == 200
    for handoff_id in (scene.queued, scene.alices, scene.bobs, scene.closed):
        assert status(handoff_id, agents.sue_h) == 200
    assert status(99999, agents.sue_h) == 404


async def test_two_agents_racing_to_take_get_one_409(
    app: FastAPI, agents: Agents, scene: Seeded
) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as http:
        url = f"/api/console/handoffs/{scene.queued}/take"
        first, second = await asyncio.gather(
            http.post(url, headers=agents.alice_h), http.post(url, headers=agents.bob_h)
        )
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    winner = agents.alice if first.status_code == 200 else agents.bob
    body = (first if first.status_code == 200 else second).json()
    assert body["type"] == "handoff_assigned"
    assert body["state"] == "assigned" and body["assigned_agent_id"] == winner
    with session_scope() as db_session:
        conversation = conversations_service.get(db_session=db_session, sender_id="web-queued")
        assert conversation is not None and conversation.state == "assigned"


def test_take_moves_the_handoff_between_queues(
    client: TestClient, agents: Agents, scene: Seeded
) -> None:
    taken = client.post(f"/api/console/handoffs/{scene.queued}/take", headers=agents.alice_h)
    assert taken.status_code == 200
    # Taking again is harmless for the holder, a conflict for anyone else.
    again = client.post(f"/api/console/handoffs/{scene.queued}/take", headers=agents.alice_h)
    assert again.status_code == 200
    other = client.post(f"/api/console/handoffs/{scene.queued}/take", headers=agents.bob_h)
    assert other.status_code == 409
    bob_sees = [i["id"] for i in client.get("/api/console/queue", headers=agents.bob_h).json()]
    assert scene.queued not in bob_sees
    assert (
        client.get(f"/api/console/handoffs/{scene.queued}", headers=agents.bob_h).status_code == 403
    )


def test_reply_requires_holding_the_conversation(
    client: TestClient, agents: Agents, scene: Seeded
) -> None:
    url = f"/api/console/handoffs/{scene.queued}/reply"
    assert client.post(url, json={"text": "Hallo"}, headers=agents.alice_h).status_code == 409
    client.post(f"/api/console/handoffs/{scene.queued}/take", headers=agents.alice_h)
    assert client.post(url, json={"text": "Hallo"}, headers=agents.bob_h).status_code == 403
    assert client.post(url, json={"text": "   "}, headers=agents.alice_h).status_code == 422
    assert client.post(url, json={"text": "x" * 4001}, headers=agents.alice_h).status_code == 422
    assert client.post(url, json={}, headers=agents.alice_h).status_code == 422

    sent = client.post(url, json={"text": " Guten Tag! "}, headers=agents.alice_h)
    assert sent.status_code == 200, sent.text
    message = sent.json()
    assert message["author"] == "agent" and message["direction"] == "out"
    assert message["text"] == "Guten Tag!" and message["agent_id"] == agents.alice
    detail = client.get(f"/api/console/handoffs/{scene.queued}", headers=agents.alice_h).json()
    assert detail["transcript"][-1]["id"] == message["id"]
    # A supervisor may step in on any held conversation.
    supervised = client.post(url, json={"text": "Supervisor hier"}, headers=agents.sue_h)
    assert supervised.status_code == 200


def test_private_notes(client: TestClient, agents: Agents, scene: Seeded) -> None:
    url = f"/api/console/handoffs/{scene.queued}/notes"
    added = client.post(url, json={"text": "Schuldner wirkt verärgert"}, headers=agents.alice_h)
    assert added.status_code == 200, added.text
    note = added.json()
    assert note["type"] == "note" and note["agent_id"] == agents.alice
    assert note["handoff_id"] == scene.queued
    client.post(url, json={"text": "Rückruf angeboten"}, headers=agents.bob_h)
    detail = client.get(f"/api/console/handoffs/{scene.queued}", headers=agents.sue_h).json()
    assert [n["text"] for n in detail["notes"]] == [
        "Schuldner wirkt verärgert",
        "Rückruf angeboten",
    ]
    # Notes never reach the debtor's transcript.
    assert all("verärgert" not in m["text"] for m in detail["transcript"])
    forbidden = client.post(
        f"/api/console/handoffs/{scene.bobs}/notes", json={"text": "x"}, headers=agents.alice_h
    )
    assert forbidden.status_code == 403
    empty = client.post(url, json={"text": ""}, headers=agents.alice_h)
    assert empty.status_code == 422


def test_close_with_an_outcome(client: TestClient, agents: Agents, scene: Seeded) -> None:
    url = f"/api/console/handoffs/{scene.alices}/close"
    assert client.post(url, json={"outcome": "x"}, headers=agents.bob_h).status_code == 403
    assert client.post(url, json={"outcome": ""}, headers=agents.alice_h).status_code == 422
    closed = client.post(url, json={"outcome": "payment_arranged"}, headers=agents.alice_h)
    assert closed.status_code == 200, closed.text
    assert closed.json()["type"] == "handoff_closed" and closed.json()["state"] == "closed"
    queue = [i["id"] for i in client.get("/api/console/queue", headers=agents.alice_h).json()]
    assert scene.alices not in queue
    detail = client.get(f"/api/console/handoffs/{scene.alices}", headers=agents.alice_h).json()
    assert detail["handoff"]["outcome"] == "payment_arranged"
    assert detail["conversation_state"] == "closed"
    again = client.post(url, json={"outcome": "again"}, headers=agents.alice_h)
    assert again.status_code == 409
    queued_close = client.post(
        f"/api/console/handoffs/{scene.queued}/close",
        json={"outcome": "x"},
        headers=agents.alice_h,
    )
    assert queued_close.status_code == 409


def test_hand_back_needs_the_holder(client: TestClient, agents: Agents, scene: Seeded) -> None:
    # The hand-back itself talks to Rasa: it is covered by the browser test on the real stack.
    url = f"/api/console/handoffs/{scene.bobs}/handback"
    assert client.post(url, headers=agents.alice_h).status_code == 403
    assert (
        client.post(
            f"/api/console/handoffs/{scene.queued}/handback", headers=agents.alice_h
        ).status_code
        == 409
    )
    assert (
        client.post("/api/console/handoffs/99999/handback", headers=agents.sue_h).status_code == 404
    )


def test_canned_replies_in_both_languages(client: TestClient, agents: Agents) -> None:
    german = client.get("/api/console/canned", params={"language": "de"}, headers=agents.alice_h)
    english = client.get("/api/console/canned", params={"language": "en"}, headers=agents.alice_h)
    assert german.status_code == english.status_code == 200
    de, en = german.json(), english.json()
    assert len(de) >= 5 and {r["id"] for r in de} == {r["id"] for r in en}
    assert all(r["title"] and r["text"] for r in de + en)
    crisis_de = next(r for r in de if r["id"] == "crisis")
    crisis_en = next(r for r in en if r["id"] == "crisis")
    assert "0800 111 0 111" in crisis_de["text"] and "116 123" in crisis_en["text"]
    unknown = client.get("/api/console/canned", params={"language": "fr"}, headers=agents.alice_h)
    assert unknown.status_code == 422
