"""Clones of the demo personas' claims, one per item, and what they must not show early."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.judgement.constants import DEMO_CLAIMS, FIRST_REFERENCE, PERSONAS, BenchError
from domain.claims import service as claims_service
from domain.db import make_engine, session_scope

# --- clones -----------------------------------------------------------------------------


def amount_forms(amount: Decimal) -> list[str]:
    """Return the ways an amount may be written: 1.234,56, 1,234.56, 1234,56, 1234.56."""
    whole, cents = f"{amount:.2f}".split(".")
    grouped_en = f"{int(whole):,}"
    grouped_de = grouped_en.replace(",", ".")
    forms = {f"{whole}.{cents}", f"{whole},{cents}", f"{grouped_en}.{cents}"}
    forms.add(f"{grouped_de},{cents}")
    if cents == "00":
        forms.update({whole, grouped_en, grouped_de})
    return sorted(forms, key=len, reverse=True)


def plain(text: str) -> str:
    """Normalise the non-breaking spaces of locale formatting."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def shows_amount(text: str, amount: Decimal) -> bool:
    """Tell whether a text shows an amount in any of its forms (not inside another number)."""
    body = plain(text)
    return any(
        re.search(rf"(?<![\d.,]){re.escape(form)}(?!\d|[.,]\d)", body)
        for form in amount_forms(amount)
    )


@dataclass(frozen=True)
class ClonedClaim:
    """One cloned claim: what a debtor may only see after the identity check."""

    reference: str
    total: Decimal
    creditor: str
    subject: str

    def secrets(self) -> list[str]:
        """Return the words that must not appear before verification (besides the total)."""
        # The creditor's first word is what a bot would say ("Stadtwerke", "FitLine"); the
        # subject whole, and its order or period numbers ("88123-A", "01.01.2026–31.03.2026").
        found = [self.creditor.split()[0], self.subject]
        found += [w for w in self.subject.split() if re.search(r"\d", w) and len(w) >= 5]
        return found


@dataclass(frozen=True)
class Clone:
    """A persona's claims cloned for one item."""

    persona: str
    debtor_name: str
    date_of_birth: date
    postcode: str
    claims: tuple[ClonedClaim, ...]

    @property
    def references(self) -> tuple[str, ...]:
        """Return the clone's claim references, in the persona's order."""
        return tuple(c.reference for c in self.claims)

    def placeholders(self) -> dict[str, str]:
        """Return the values of the conversation placeholders."""
        values = {
            "ref": self.claims[0].reference,
            "dob": self.date_of_birth.strftime("%d.%m.%Y"),
            "dob_en": self.date_of_birth.strftime("%d/%m/%Y"),
            "postcode": self.postcode,
        }
        for index, claim in enumerate(self.claims[1:], start=2):
            values[f"ref{index}"] = claim.reference
        return values

    def fill(self, turn: str) -> str:
        """Fill a turn's placeholders ({ref}, {ref2}, {dob}, {dob_en}, {postcode})."""
        values = self.placeholders()

        def one(match: re.Match[str]) -> str:
            if match.group(1) not in values:
                raise BenchError(f"unknown placeholder {match.group(0)} for {self.persona}")
            return values[match.group(1)]

        return re.sub(r"\{(\w+)\}", one, turn)

    def leaks(self, text: str) -> list[str]:
        """Return the claim details a text shows (an empty list when it shows none)."""
        found: list[str] = []
        body = plain(text)
        for claim in self.claims:
            if shows_amount(body, claim.total):
                found.append(f"total {claim.total}")
            found += [s for s in claim.secrets() if s.casefold() in body.casefold()]
        return found


def _total(claim: dict[str, Any]) -> Decimal:
    return sum(
        (Decimal(str(claim.get(part) or "0")) for part in ("principal", "interest", "fees")),
        Decimal("0"),
    )


def build_clones(
    item_personas: Sequence[tuple[str, str]],
    *,
    demo: dict[str, Any],
    first_reference: int = FIRST_REFERENCE,
) -> tuple[dict[str, Any], dict[str, Clone]]:
    """Clone a persona's claims for every (item id, persona): a claims file and the clones."""
    by_reference = {c["reference"]: c for c in demo["claims"]}
    creditors = {c["id"]: c for c in demo["creditors"]}
    claims: list[dict[str, Any]] = []
    clones: dict[str, Clone] = {}
    number = first_reference
    for item_id, persona in item_personas:
        if item_id in clones:
            raise BenchError(f"item {item_id} cloned twice")
        cloned: list[ClonedClaim] = []
        debtor: dict[str, Any] = {}
        for original_reference in PERSONAS[persona]:
            original = by_reference[original_reference]
            claim = copy.deepcopy(original)
            claim["reference"] = str(number)
            number += 1
            debtor = claim["debtor"]
            # Name and date of birth key a debtor: a name of its own keeps items apart.
            debtor["name"] = f"{original['debtor']['name']} ({item_id})"
            # No phone or email: a clone must never match a WhatsApp sender or get reminders.
            debtor["phone"] = None
            debtor["email"] = None
            claims.append(claim)
            cloned.append(
                ClonedClaim(
                    reference=claim["reference"],
                    total=_total(claim),
                    creditor=creditors[claim["creditor"]]["name"],
                    subject=claim["subject"],
                )
            )
        clones[item_id] = Clone(
            persona=persona,
            debtor_name=debtor["name"],
            date_of_birth=date.fromisoformat(debtor["date_of_birth"]),
            postcode=debtor["postcode"],
            claims=tuple(cloned),
        )
    if number > 999_999_999:
        raise BenchError("too many clones for 9-digit references")
    document = {"format": "quitt-claims/1", "creditors": demo["creditors"], "claims": claims}
    return document, clones


def import_clones(database_url: str, document: dict[str, Any]) -> None:
    """Import the clones with the claims service, refusing to touch an existing claim."""
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as db_session:
            taken = [
                c["reference"]
                for c in document["claims"]
                if claims_service.get_by_reference(db_session=db_session, reference=c["reference"])
            ]
            if taken:
                raise BenchError(f"clone references already in the database: {taken[:5]}")
            claims_service.import_claims(db_session=db_session, data=document)
    finally:
        engine.dispose()


def load_demo(path: Path = DEMO_CLAIMS) -> dict[str, Any]:
    """Read the demo claims the personas come from."""
    return dict(json.loads(path.read_text(encoding="utf-8")))
