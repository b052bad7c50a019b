"""Two people with one name and birthday never see each other's claims after verification.

The demo's Jana Becker (born 14.03.1987, claim 260000117) gets a namesake born the
same day, with a claim of her own and nothing else in common: the import keeps them
apart, and each verified conversation sees only its own debtor's claims.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from actions import store
from actions.claims import ActionExplainClaim
from actions.verification import ActionVerificationDone, ValidateVerifyForm
from domain.claims import service as claims_service
from domain.db import session_scope
from tests.actions.conftest import debtor_id, make_tracker, run, user_event

pytestmark = pytest.mark.usefixtures("database")

JANA = "260000117"
NAMESAKE = "260009993"


@pytest.fixture(autouse=True)
def namesake(database: str) -> None:
    """Import the other Jana Becker's claim into the seeded database."""
    document = {
        "format": "quitt-claims/1",
        "creditors": [],
        "claims": [
            {
                "reference": NAMESAKE,
                "creditor": "modehaus-nord",
                "subject": "Bestellung 4711",
                "due_date": "2026-03-31",
                "principal": "88.00",
                "debtor": {
                    "name": "Jana Becker",
                    "date_of_birth": "1987-03-14",
                    "postcode": "80331",
                    "phone": "+4917600000001",
                    "email": "jb@example.org",
                },
            }
        ],
    }
    with session_scope() as db_session:
        report = claims_service.import_claims(db_session=db_session, data=document)
    assert report.debtors.created == 1
    assert any("kept as two debtors" in warning for warning in report.warnings)


async def _verify(domain: dict[str, Any], reference: str, proof: str) -> dict[str, Any]:
    """Answer the verification form's proof question; return the slots it set."""
    tracker = make_tracker(
        text=proof,
        intent="inform",
        slots={
            "disclosed": True,
            "requested_slot": "identity_proof",
            "claim_reference": reference,
            "identity_proof": proof,
        },
        events=[
            user_event(proof, "inform"),
            {"event": "slot", "timestamp": None, "name": "identity_proof", "value": proof},
        ],
        sender_id=f"unit-{uuid.uuid4().hex[:12]}",
        active_loop={"name": "verify_form"},
    )
    return (await run(ValidateVerifyForm(), tracker, domain)).slots


async def test_the_import_keeps_the_namesakes_apart() -> None:
    assert debtor_id(JANA) != debtor_id(NAMESAKE)
    mine = await store.claims_of_debtor(int(debtor_id(NAMESAKE)))
    assert [c.reference for c in mine] == [NAMESAKE]


@pytest.mark.parametrize(
    ("reference", "proof", "sees", "never"),
    [
        (NAMESAKE, "14.03.1987", NAMESAKE, JANA),  # the shared birthday proves only her claim
        (NAMESAKE, "80331", NAMESAKE, JANA),
        (JANA, "14.03.1987", JANA, NAMESAKE),
        (JANA, "20249", JANA, NAMESAKE),
    ],
)
async def test_a_verified_debtor_sees_only_her_own_claims(
    domain: dict[str, Any], reference: str, proof: str, sees: str, never: str
) -> None:
    slots = await _verify(domain, reference, proof)

    assert slots["verified"] is True
    assert slots["debtor_id"] == debtor_id(reference)
    tracker = make_tracker(
        text=proof, intent="inform", slots={"disclosed": True, **slots, "verified": True}
    )
    result = await run(ActionVerificationDone(), tracker, domain)
    assert sees in result.text
    assert never not in result.text
    assert never not in str(result.buttons) and never not in str(result.slots)


async def test_the_namesakes_postcode_proves_nothing(domain: dict[str, Any]) -> None:
    slots = await _verify(domain, NAMESAKE, "20249")  # Jana's postcode, not hers

    assert "verified" not in slots
    assert slots["identity_proof"] is None


async def test_a_claim_of_another_debtor_in_the_slots_is_never_shown(
    domain: dict[str, Any],
) -> None:
    """Whatever `selected_claims` holds, only the verified debtor's claims are read."""
    assert await store.claims_by_reference([JANA], debtor_id=int(debtor_id(NAMESAKE))) == []
    tracker = make_tracker(
        text="Wie hoch ist meine Forderung?",
        intent="ask_claim",
        slots={
            "disclosed": True,
            "verified": True,
            "claim_reference": NAMESAKE,
            "debtor_id": debtor_id(NAMESAKE),
            "selected_claims": [JANA],
        },
    )

    result = await run(ActionExplainClaim(), tracker, domain)

    assert NAMESAKE in result.text
    assert JANA not in result.text and "412,50" not in result.text
