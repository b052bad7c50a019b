"""Read a `quitt-claims/1` JSON document claim by claim, never holding the whole file.

The standard library parses whole documents only; here a small cursor walks the
top-level object and the `claims` array and hands each member or element to
`json.JSONDecoder.raw_decode`, so memory stays at a chunk or two however large
the file is. Creditors must be known before the first claim (claims refer to
them); a file that lists `claims` before `creditors` is read twice.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, TextIO

from domain.claims.schemas import FORMAT, CreditorIn
from domain.claims.source import ClaimSource, RawClaim, dotted, reject, validate_creditors
from domain.errors import ValidationFailed

CHUNK: Final = 1 << 20
_KNOWN: Final = ("format", "creditors", "claims")
_WHITESPACE: Final = " \t\n\r"
_decoder = json.JSONDecoder()


class _Cursor:
    """A position in a JSON text read chunk by chunk; errors name line and column."""

    def __init__(self, stream: TextIO, name: str) -> None:
        self._stream = stream
        self._name = name
        self._buffer = ""
        self._pos = 0
        self._eof = False
        self._lines_before = 0  # newlines in the text already dropped from the buffer
        self._column_base = 0  # characters since the last dropped newline

    def _fill(self) -> bool:
        """Drop what was consumed, read one more chunk; return whether anything came."""
        if self._eof:
            return False
        consumed = self._buffer[: self._pos]
        newlines = consumed.count("\n")
        self._lines_before += newlines
        last = consumed.rfind("\n")
        self._column_base = (
            len(consumed) - last - 1 if last >= 0 else self._column_base + len(consumed)
        )
        try:
            chunk = self._stream.read(CHUNK)
        except UnicodeDecodeError as exc:
            raise ValidationFailed(f"cannot read {self._name}: not UTF-8 ({exc.reason})") from None
        self._buffer = self._buffer[self._pos :] + chunk
        self._pos = 0
        self._eof = not chunk
        return bool(chunk)

    def error(self, message: str, pos: int | None = None) -> ValidationFailed:
        """Build the refusal for a syntax error at `pos` (default: the cursor)."""
        pos = self._pos if pos is None else pos
        before = self._buffer[:pos]
        line = self._lines_before + before.count("\n") + 1
        last = before.rfind("\n")
        column = pos - last if last >= 0 else self._column_base + pos + 1
        return ValidationFailed(
            f"{self._name}: malformed JSON at line {line}, column {column}: {message}"
        )

    def peek(self) -> str:
        """Skip whitespace; return the next character, or "" at the end."""
        while True:
            while self._pos < len(self._buffer) and self._buffer[self._pos] in _WHITESPACE:
                self._pos += 1
            if self._pos < len(self._buffer):
                return self._buffer[self._pos]
            if not self._fill():
                return ""

    def expect(self, characters: str, what: str) -> str:
        """Consume one of `characters` (after whitespace) or fail naming what was expected."""
        found = self.peek()
        if not found or found not in characters:
            raise self.error(f"Expecting {what}")
        self._pos += 1
        return found

    def value(self) -> Any:
        """Decode one JSON value at the cursor, reading more while it may just be cut off."""
        self.peek()
        while True:
            try:
                value, end = _decoder.raw_decode(self._buffer, self._pos)
            except json.JSONDecodeError as exc:
                # An error in the last chunk may only mean the value goes on in the next.
                if len(self._buffer) - exc.pos < CHUNK and not self._eof:
                    self._fill()
                    continue
                raise self.error(exc.msg, exc.pos) from None
            # A number at the very end of the buffer may go on in the next chunk.
            if end == len(self._buffer) and not self._eof:
                self._fill()
                continue
            self._pos = end
            return value


def _members(cursor: _Cursor) -> Iterator[str]:
    """Yield the keys of the object at the cursor; the caller reads each value."""
    cursor.expect("{", "'{'")
    if cursor.peek() == "}":
        cursor.expect("}", "'}'")
        return
    while True:
        if cursor.peek() != '"':
            raise cursor.error("Expecting property name enclosed in double quotes")
        key = cursor.value()
        cursor.expect(":", "':' delimiter")
        yield key
        if cursor.expect(",}", "',' delimiter") == "}":
            return


def _elements(cursor: _Cursor) -> Iterator[Any]:
    """Yield the elements of the array at the cursor."""
    cursor.expect("[", "'['")
    if cursor.peek() == "]":
        cursor.expect("]", "']'")
        return
    while True:
        yield cursor.value()
        if cursor.expect(",]", "',' delimiter") == "]":
            return


def claim_name(index: int, entry: Any = None) -> str:
    """Name a claim of the file: `claims[3] (reference 260000141)`."""
    return _entry_name("claims", "reference", index, entry)


def creditor_name(index: int, entry: Any = None) -> str:
    """Name a creditor of the file: `creditors[0] (id stadtwerke)`."""
    return _entry_name("creditors", "id", index, entry)


def _entry_name(section: str, key: str, index: int, entry: Any) -> str:
    name = f"{section}[{index}]"
    if isinstance(entry, dict) and isinstance(entry.get(key), str | int):
        name += f" ({key} {entry[key]})"
    return name


def check_header(header: dict[str, Any], has_claims: bool) -> None:
    """Refuse a document that is no `quitt-claims/1` file or has keys of its own."""
    if header.get("format") != FORMAT:
        raise ValidationFailed(
            f"not a {FORMAT} file: format is {header.get('format')!r}, expected {FORMAT!r}"
        )
    errors = [f"{key}: Extra inputs are not permitted" for key in header if key not in _KNOWN]
    if "creditors" not in header:
        errors.append("creditors: Field required")
    if not has_claims:
        errors.append("claims: Field required")
    if errors:
        raise reject(errors)


def document_source(data: Any) -> ClaimSource:
    """Read an already parsed document (a dict) the same way as a file."""
    if not isinstance(data, dict):
        raise ValidationFailed(f"not a {FORMAT} file: the top level must be a JSON object")
    header = {key: value for key, value in data.items() if key != "claims"}
    check_header(header, "claims" in data)
    claims = data["claims"]
    if not isinstance(claims, list):
        raise reject(["claims: Input should be a valid list"])
    return ClaimSource(
        creditors=validate_creditors(header["creditors"], creditor_name),
        claims=(RawClaim(index, entry) for index, entry in enumerate(claims)),
        entry_name=claim_name,
        field_name=dotted,
    )


def _not_an_object(cursor: _Cursor) -> ValidationFailed:
    """Name why a document that does not start with '{' is refused."""
    cursor.value()  # a syntax error is the better message, when there is one
    return ValidationFailed(f"not a {FORMAT} file: the top level must be a JSON object")


class _JsonFile:
    """One pass over the file: the members before `claims`, the claims, the rest."""

    def __init__(self, path: Path) -> None:
        self.binary = path.open("rb")
        self.stream = io.TextIOWrapper(self.binary, encoding="utf-8-sig")
        self.cursor = _Cursor(self.stream, str(path))
        try:
            if self.cursor.peek() != "{":
                raise _not_an_object(self.cursor)
        except BaseException:
            self.close()
            raise
        self.members = _members(self.cursor)

    def read_members(self) -> tuple[dict[str, Any], bool]:
        """Read members up to the `claims` key; return them and whether `claims` came."""
        header: dict[str, Any] = {}
        for key in self.members:
            if key == "claims":
                return header, True
            header[key] = self.cursor.value()
        return header, False

    def skip_claims(self) -> None:
        """Read past the claims array without keeping its elements."""
        for _ in self.claim_elements():
            pass

    def claim_elements(self) -> Iterator[Any]:
        """Iterate over the claims array at the cursor."""
        if self.cursor.peek() != "[":
            raise reject(["claims: Input should be a valid list"])
        return _elements(self.cursor)

    def read_rest(self) -> dict[str, Any]:
        """Read the members after the claims and make sure nothing follows the document."""
        rest, again = self.read_members()
        if again:
            raise reject(["claims: the key appears twice"])
        if self.cursor.peek():
            raise self.cursor.error("Extra data")
        return rest

    def claims(self) -> Iterator[RawClaim]:
        """Yield the claims at the cursor, then check the rest of the document."""
        try:
            for index, entry in enumerate(self.claim_elements()):
                yield RawClaim(index, entry)
            unknown = [key for key in self.read_rest() if key not in _KNOWN]
            if unknown:
                raise reject([f"{key}: Extra inputs are not permitted" for key in unknown])
        finally:
            self.close()

    def bytes_read(self) -> int:
        """Return how far the file was read."""
        return 0 if self.binary.closed else self.binary.tell()

    def close(self) -> None:
        """Close the file."""
        self.stream.close()


def _open(path: Path) -> _JsonFile:
    try:
        return _JsonFile(path)
    except OSError as exc:
        raise ValidationFailed(f"cannot read {path}: {exc}") from exc


def read_json(path: Path) -> ClaimSource:
    """Open a `quitt-claims/1` file: read its header and creditors, stream its claims."""
    reader = _open(path)
    try:
        header, at_claims = reader.read_members()
        if at_claims and not ("format" in header and "creditors" in header):
            # `claims` came before the rest: read on past it, then start again for it.
            reader.skip_claims()
            header.update(reader.read_rest())
            check_header(header, has_claims=True)
            reader.close()
            reader = _open(path)
            reader.read_members()
        check_header(header, has_claims=at_claims)
        creditors = validate_creditors(header["creditors"], creditor_name)
    except BaseException:
        reader.close()
        raise
    return ClaimSource(
        creditors=creditors,
        claims=reader.claims(),
        entry_name=claim_name,
        field_name=dotted,
        bytes_read=reader.bytes_read,
        size=os.path.getsize(path),
        close=reader.close,
    )


def read_json_creditors(path: Path) -> list[CreditorIn]:
    """Read the creditors of a `quitt-claims/1` file whose claims are empty or left out."""
    reader = _open(path)
    try:
        header, at_claims = reader.read_members()
        if at_claims:
            for _ in reader.claim_elements():
                raise ValidationFailed(
                    f"{path}: a creditors file holds no claims; import it as a claims file"
                )
            header.update(reader.read_rest())
        check_header(header, has_claims=True)
        return validate_creditors(header["creditors"], creditor_name)
    finally:
        reader.close()
