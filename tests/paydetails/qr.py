"""Read a QR code image back, as a banking app does (zxing-cpp)."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image


def decode(png: bytes) -> str:
    """Return the text of the one QR code in a PNG."""
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    [found] = zxingcpp.read_barcodes(image)
    assert found.format == zxingcpp.BarcodeFormat.QRCode
    return str(found.text)


def epc_fields(png: bytes) -> list[str]:
    """Return the lines of an EPC QR code (EPC069-12), padded to its 12 fields."""
    lines = decode(png).split("\n")
    return lines + [""] * (12 - len(lines))
