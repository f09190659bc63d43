"""Test helpers: the invented instruments in ``fixtures/`` and screenings built through services."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from safeharbor.screening import services
from safeharbor.screening.models import Instrument, Screening

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SIX = "six_item_screen.json"
TEN = "ten_domain_rating.json"


@cache
def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return loaded


def document(name: str) -> dict[str, Any]:
    """A fresh copy of a fixture Questionnaire (tests may change it)."""
    return copy.deepcopy(_load(name))


def load(name: str, agency: Any = None) -> Instrument:
    return services.instrument_import(actor=None, document=document(name), agency=agency)


def six_answers(yes: int) -> dict[str, str]:
    """Answers to the six-item screen: the first ``yes`` questions endorsed."""
    return {f"q{i}": "yes" if i <= yes else "no" for i in range(1, 7)}


def ten_answers(**ratings: str) -> dict[str, str]:
    """Answers to the ten-domain rating: every area "0" unless given (d1="2", d9="1"...)."""
    answers = {f"d{i}": "0" for i in range(1, 10)}
    answers.update(ratings)
    if answers["d9"] in ("1", "2"):
        answers.setdefault("d10", "0")
    if answers["d1"] in ("1", "2"):
        answers.setdefault("d1-recent", "no")
    return answers


def completed(
    world: Any,
    instrument: Instrument,
    answers: dict[str, str],
    *,
    actor: Any = None,
    youth: Any = None,
    reason: str = "intake",
    mode: str = "interview_in_person",
    language: str = "en",
) -> Screening:
    return services.screening_submit(
        actor=actor or world.county_caseworker,
        youth=youth or world.maya,
        instrument=instrument,
        reason=reason,
        mode=mode,
        language=language,
        answers=answers,
    )
