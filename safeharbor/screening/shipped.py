"""The instruments Safe Harbor ships (``instruments/*.json``): written by the project or in the
public domain, never a licensed instrument's text."""

from __future__ import annotations

import json
from pathlib import Path

from django.db import transaction

from .models import Instrument
from .services import instrument_import

SHIPPED_DIR = Path(__file__).resolve().parent / "instruments"
INDICATOR_CHECKLIST_URL = "https://safeharbor.example/fhir/Questionnaire/indicator-checklist"


@transaction.atomic
def load_shipped_instruments() -> list[tuple[Instrument, bool]]:
    """Load each shipped instrument version not loaded yet: [(instrument, loaded now)]."""
    results = []
    for path in sorted(SHIPPED_DIR.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        existing = Instrument.objects.filter(
            agency__isnull=True, url=document.get("url"), version=document.get("version")
        ).first()
        if existing is not None:
            results.append((existing, False))
            continue
        results.append(
            (instrument_import(actor=None, document=document, agency=None, source=path.name), True)
        )
    return results
