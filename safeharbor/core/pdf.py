"""The page every PDF report of ours is laid out on (US letter, 0.75 inch margins, our name as
author). Imported where a PDF is written, so that reportlab loads only then."""

from __future__ import annotations

from typing import IO

from reportlab.lib.pagesizes import letter
from reportlab.lib.units import inch
from reportlab.platypus import SimpleDocTemplate

MARGIN = 0.75 * inch


def letter_document(buffer: IO[bytes], *, title: str, subject: str) -> SimpleDocTemplate:
    """A document writing into ``buffer``; its ``width`` is the text column's width."""
    return SimpleDocTemplate(
        buffer,
        pagesize=letter,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author="Safe Harbor",
        creator="Safe Harbor",
        subject=subject,
    )
