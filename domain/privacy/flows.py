"""Opening a person's export: found, built, masked for agents, and every opening audited."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy.orm import Session

from domain.audit import service as audit_service
from domain.privacy.export import export_person
from domain.privacy.masking import mask_export
from domain.privacy.person import find_person, holdings

OPENED: Final = "privacy_export_opened"


def open_export(
    *,
    db_session: Session,
    actor: str,
    debtor_id: int | None = None,
    reference: str | None = None,
    masked: bool = True,
) -> dict[str, Any]:
    """Return a person's export (masked unless told) and audit who opened it."""
    debtor = find_person(db_session=db_session, debtor_id=debtor_id, reference=reference)
    document = export_person(
        db_session=db_session, holdings=holdings(db_session=db_session, debtor=debtor)
    )
    audit_service.record(
        db_session=db_session,
        kind=OPENED,
        reasons=("art15_access",),
        data={"debtor_id": debtor.id, "actor": actor, "masked": masked},
    )
    return mask_export(document, debtor=debtor) if masked else document
