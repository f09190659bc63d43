"""Reading back the PDFs that ReportLab writes, for tests, without a PDF library."""

from __future__ import annotations

import base64
import re
import zlib


def pdf_text(body: bytes) -> str:
    """The PDF's bytes with every stream decoded (ASCII85, then Flate, as ReportLab writes
    them), so that a search sees the words drawn on the pages."""
    parts = [body.decode("latin-1")]
    streams = re.findall(rb"\bstream\r?\n(.*?)\s*endstream", body, re.DOTALL)
    for raw in streams:
        data = raw.strip()
        if data.endswith(b"~>"):
            data = base64.a85decode(data, adobe=True)
        try:
            data = zlib.decompress(data)
        except zlib.error:
            pass  # an uncompressed stream
        parts.append(data.decode("latin-1"))
    assert streams, "a PDF without streams has no pages to search"
    return "\n".join(parts)


def page_count(body: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", body))


_SHOWN = re.compile(r"\(((?:\\.|[^\\)])*)\)\s*Tj")
_ESCAPE = re.compile(r"\\([0-7]{1,3}|.)", re.DOTALL)
_NAMED = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if code[0] in "01234567":
        return bytes([int(code, 8) & 0xFF]).decode("cp1252", errors="replace")
    return _NAMED.get(code, code)


def drawn_strings(body: bytes) -> list[str]:
    """Every string the pages draw (``(...) Tj``), escapes undone, in the standard fonts'
    encoding (WinAnsi, as ReportLab writes Helvetica): "×" comes back as "×"."""
    return [_ESCAPE.sub(_unescape, s) for s in _SHOWN.findall(pdf_text(body))]
