"""Large claims files: batches, the ledger, the streaming JSON reader, progress."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.claims import files, importer, validation
from domain.claims import service as claim_service
from domain.claims.ledger import Ledger
from domain.claims.models import Claim, Debtor
from domain.claims.parallel import CAN_FORK
from domain.errors import ValidationFailed

CREDITORS = [
    {"id": "stadtwerke", "name": "Stadtwerke Süd GmbH", "address": "Hafenstraße 12, Hamburg"},
    {"id": "modehaus", "name": "Modehaus Nord GmbH", "address": "Speicherweg 3, Bremen"},
]


def _claims(count: int) -> list[dict[str, Any]]:
    """Make `count` claims of count // 2 people; every fourth repeat brings a new phone."""
    people = max(1, count // 2)
    claims = []
    for n in range(count):
        person = n % people
        phone = f"+49151{person:08d}" if n < people or n % 4 else f"+49170{person:08d}"
        claims.append(
            {
                "reference": f"{500000 + n}",
                "creditor": CREDITORS[n % 2]["id"],
                "subject": f"Rechnung {n}",
                "due_date": (date(2026, 1, 1) + timedelta(days=n % 300)).isoformat(),
                "principal": f"{10 + n % 997}.{n % 100:02d}",
                "interest": "1.50",
                "fees": "5.00",
                "debtor": {
                    "name": f"Person {person}",
                    "date_of_birth": (date(1960, 1, 1) + timedelta(days=person)).isoformat(),
                    "postcode": f"{10000 + person}",
                    "phone": phone,
                },
            }
        )
    return claims


def _document(count: int) -> dict[str, Any]:
    return {"format": "quitt-claims/1", "creditors": CREDITORS, "claims": _claims(count)}


def _write_json(path: Path, document: dict[str, Any], order: tuple[str, ...]) -> Path:
    """Write a document with its keys in the given order, one claim a line."""
    parts = []
    for key in order:
        if key == "claims":
            items = ",\n".join(json.dumps(c, ensure_ascii=False) for c in document["claims"])
            parts.append(f'"claims": [\n{items}\n]')
        else:
            parts.append(f"{json.dumps(key)}: {json.dumps(document[key], ensure_ascii=False)}")
    path.write_text("{\n" + ",\n".join(parts) + "\n}\n", encoding="utf-8")
    return path


def _import(db_session: Session, path: Path, **kwargs: Any) -> Any:
    return importer.run_import(db_session=db_session, source=files.open_claims(path), **kwargs)


def _count(db_session: Session, model: type[Any]) -> int:
    return db_session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture(params=["here", "in-child"])
def validated(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Validate in this process, and in a forked child (as large files are)."""
    if request.param == "in-child":
        if not CAN_FORK:
            pytest.skip("no fork on this platform")
        monkeypatch.setattr(importer, "PARALLEL_FROM_BYTES", 0)
    return str(request.param)


@pytest.fixture(params=["memory", "disk"])
def ledger_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run with the ledger in memory, and with it moved to its scratch file early on."""
    if request.param == "disk":
        monkeypatch.setattr(importer, "Ledger", lambda: Ledger(memory_limit=40))
    return str(request.param)


def test_many_batches_import_and_reimport(
    db_session: Session, tmp_path: Path, ledger_kind: str, validated: str
) -> None:
    path = _write_json(tmp_path / "claims.json", _document(300), ("format", "creditors", "claims"))

    report = _import(db_session, path, batch_size=32)

    assert report.as_dict() == {
        "creditors": {"created": 2, "updated": 0, "unchanged": 0},
        "debtors": {"created": 150, "updated": 0, "unchanged": 0},
        "claims": {"created": 300, "updated": 0, "unchanged": 0},
    }
    # Claims 150..299 repeat people 0..149; those with n % 4 == 0 bring a new phone.
    assert report.warning_count == len([n for n in range(150, 300) if n % 4 == 0])
    assert (_count(db_session, Claim), _count(db_session, Debtor)) == (300, 150)
    person = db_session.scalar(select(Debtor).where(Debtor.name == "Person 2"))
    assert person is not None and person.phone == "+4917000000002"  # the later row's (152)
    assert len(person.claims) == 2
    claim = claim_service.get_by_reference(db_session=db_session, reference="500299")
    assert claim is not None and claim.principal == Decimal("309.99")

    again = _import(db_session, path, batch_size=32)

    assert not again.changed
    assert again.as_dict()["debtors"] == {"created": 0, "updated": 0, "unchanged": 150}
    assert again.as_dict()["claims"] == {"created": 0, "updated": 0, "unchanged": 300}


def test_a_reference_twice_in_different_batches_is_refused(
    db_session: Session, tmp_path: Path, ledger_kind: str, validated: str
) -> None:
    document = _document(100)
    document["claims"][90]["reference"] = document["claims"][3]["reference"]
    path = _write_json(tmp_path / "claims.json", document, ("format", "creditors", "claims"))

    with pytest.raises(ValidationFailed) as caught:
        _import(db_session, path, batch_size=10)

    assert caught.value.errors == [
        "claims[90] (reference 500003): reference: duplicate of claims[3]"
    ]
    assert (_count(db_session, Claim), _count(db_session, Debtor)) == (0, 0)


def test_an_error_in_the_last_batch_rolls_back_the_written_ones(
    db_session: Session, tmp_path: Path, validated: str
) -> None:
    document = _document(120)
    document["claims"][117]["due_date"] = "2026-02-30"
    path = _write_json(tmp_path / "claims.json", document, ("format", "creditors", "claims"))

    with pytest.raises(ValidationFailed, match=r"claims\[117\] \(reference 500117\): due_date"):
        _import(db_session, path, batch_size=16)

    assert (_count(db_session, Claim), _count(db_session, Debtor)) == (0, 0)


@pytest.mark.parametrize(
    "order",
    [("claims", "creditors", "format"), ("creditors", "claims", "format")],
)
def test_json_keys_in_any_order(
    db_session: Session, tmp_path: Path, order: tuple[str, ...]
) -> None:
    path = _write_json(tmp_path / "claims.json", _document(20), order)
    report = _import(db_session, path)
    assert (report.creditors.created, report.claims.created) == (2, 20)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"format": "quitt-claims/1", "creditors": [], "claims": [], "x": 1}', "x: Extra inputs"),
        ('{"format": "quitt-claims/1", "claims": [], "creditors": [], "y": 1}', "y: Extra inputs"),
        ('{"format": "quitt-claims/1", "creditors": [], "claims": {}}', "claims: Input should"),
        ('{"format": "quitt-claims/1", "creditors": [], "claims": []} []', "Extra data"),
        ('{"format": "quitt-claims/1", "creditors": [], "claims": [1, 2', "line 1, column 62"),
        ("", "malformed JSON at line 1, column 1"),
        ("[]", "top level must be a JSON object"),
    ],
)
def test_malformed_json_documents(
    db_session: Session, tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "claims.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        _import(db_session, path)
    assert expected in "\n".join([caught.value.message, *caught.value.errors])


def test_a_syntax_error_deep_in_a_large_file_names_line_and_column(
    db_session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, validated: str
) -> None:
    monkeypatch.setattr("domain.claims.jsonfile.CHUNK", 512)  # many chunks, small file
    path = _write_json(tmp_path / "claims.json", _document(60), ("format", "creditors", "claims"))
    lines = path.read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(lines) if '"reference": "500040"' in text)
    lines[line] = lines[line].replace('"subject":', '"subject"', 1)
    path.write_text("\n".join(lines), encoding="utf-8")
    column = lines[line].index('"subject"') + len('"subject"') + 2

    with pytest.raises(ValidationFailed) as caught:
        _import(db_session, path)

    assert f"malformed JSON at line {line + 1}, column {column}" in caught.value.message
    assert _count(db_session, Claim) == 0


def test_json_with_a_byte_order_mark(db_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "claims.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(_document(3)).encode())
    assert _import(db_session, path).claims.created == 3


def test_progress_is_reported_per_batch(
    db_session: Session, tmp_path: Path, validated: str
) -> None:
    path = _write_json(tmp_path / "claims.json", _document(50), ("format", "creditors", "claims"))
    seen: list[tuple[int, int, int]] = []

    _import(db_session, path, batch_size=20, on_progress=lambda *args: seen.append(args))

    size = path.stat().st_size
    assert [claims for _, _, claims in seen] == [20, 40, 50]
    assert all(total == size for _, total, _ in seen)
    assert seen[-1][0] == size


def test_a_crash_while_validating_in_the_child_is_reported_and_writes_nothing(
    db_session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not CAN_FORK:
        pytest.skip("no fork on this platform")
    monkeypatch.setattr(importer, "PARALLEL_FROM_BYTES", 0)
    real = validation.claim_row

    def claim_row(position: int, claim: Any) -> Any:
        if claim.reference == "500070":
            raise RuntimeError("disk on fire")
        return real(position, claim)

    monkeypatch.setattr(validation, "claim_row", claim_row)
    path = _write_json(tmp_path / "claims.json", _document(100), ("format", "creditors", "claims"))

    with pytest.raises(RuntimeError, match="disk on fire"):
        _import(db_session, path, batch_size=16)

    assert (_count(db_session, Claim), _count(db_session, Debtor)) == (0, 0)


def test_the_parsed_document_api_streams_the_same_way(db_session: Session) -> None:
    document = _document(12)
    first = {**document, "claims": document["claims"][:10]}
    report = claim_service.import_claims(db_session=db_session, data=first)
    assert report.claims.created == 10
    dry = claim_service.import_claims(db_session=db_session, data=document, dry_run=True)
    assert (dry.claims.created, dry.claims.unchanged) == (2, 10)
    assert _count(db_session, Claim) == 10


def test_ledger_moves_to_disk_and_keeps_what_it_knew() -> None:
    ledger = Ledger(memory_limit=2)
    try:
        assert ledger.record_references({"a": 1, "b": 2}) == {}
        assert not ledger.on_disk
        assert ledger.record_references({"c": 3, "a": 4}) == {"a": 1}
        assert ledger.on_disk
        assert ledger.record_references({"b": 9, "d": 10}) == {"b": 2}
    finally:
        ledger.close()
