"""Screenings as HL7 FHIR R4 ``QuestionnaireResponse`` JSON, both ways (the API).

Out: ``questionnaire`` is the instrument's canonical ``url|version``; ``status`` is
``in-progress`` (a draft), ``completed``, or ``amended`` (a screening that amends an earlier one,
which is kept); items are grouped by domain as in the Questionnaire, one ``valueCoding`` answer
each. Two extensions of ours carry what FHIR has no element for: ``screening-context`` (reason,
mode) and ``screening-result`` (the computed level, the level that counts, the worker's override
and its reason, the next action, the total score, whether the instrument is validated).

In: the same shape. Answers may be nested in their domain's group or listed flat; each question
takes at most one ``valueCoding`` answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .definition import EXT_SCREENING_CONTEXT, EXT_SCREENING_RESULT, EXTENSION_BASE
from .models import Screening

YOUTH_ID_SYSTEM = EXTENSION_BASE.replace("StructureDefinition/", "sid/youth-id")
STATUS_OUT = {"draft": "in-progress", "completed": "completed"}
STATUS_IN = {"in-progress": False, "completed": True}


def _status(screening: Screening) -> str:
    if screening.amends_id is not None and screening.is_completed:
        return "amended"
    return STATUS_OUT[screening.status]


def _decimal(value: str) -> int | float:
    number = Decimal(value)
    return int(number) if number == number.to_integral_value() else float(number)


def to_questionnaire_response(screening: Screening) -> dict[str, Any]:
    """The screening as a QuestionnaireResponse (the instrument must be loaded)."""
    instrument = screening.instrument
    definition = instrument.definition
    answers = screening.answers
    items = []
    for domain in definition.domains:
        answered = []
        for item in domain.items:
            code = answers.get(item.link_id)
            option = item.option(code) if code is not None else None
            if option is None:
                continue
            coding = {"code": option.code, "display": option.display.base}
            if option.system:
                coding = {"system": option.system, **coding}
            answered.append(
                {
                    "linkId": item.link_id,
                    "text": item.text.base,
                    "answer": [{"valueCoding": coding}],
                }
            )
        if answered:
            items.append({"linkId": domain.link_id, "text": domain.text.base, "item": answered})
    context = [
        {"url": "reason", "valueCode": screening.reason},
        {"url": "mode", "valueCode": screening.mode},
    ]
    result: list[dict[str, Any]] = [
        {"url": "validated", "valueBoolean": instrument.validated},
    ]
    if screening.is_completed:
        result += [
            {"url": "computedLevel", "valueCode": screening.computed_level},
            {"url": "level", "valueCode": screening.level},
            {"url": "totalScore", "valueDecimal": _decimal(screening.score.get("total", "0"))},
        ]
    if screening.override_level:
        result += [
            {"url": "overrideLevel", "valueCode": screening.override_level},
            {"url": "overrideReason", "valueString": screening.override_reason},
        ]
    if screening.next_action:
        result.append({"url": "nextAction", "valueCode": screening.next_action})
    if screening.amends_id:
        result.append({"url": "amends", "valueString": str(screening.amends_id)})
    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": str(screening.pk),
        "questionnaire": instrument.canonical,
        "status": _status(screening),
        "language": screening.language,
        "subject": {"identifier": {"system": YOUTH_ID_SYSTEM, "value": str(screening.youth_id)}},
        "authored": (screening.completed_at or screening.started_at).isoformat(),
        "author": {"display": str(screening.administered_by)},
        "extension": [
            {"url": EXT_SCREENING_CONTEXT, "extension": context},
            {"url": EXT_SCREENING_RESULT, "extension": result},
        ],
        "item": items,
    }
    return response


@dataclass(frozen=True)
class ParsedResponse:
    url: str
    version: str
    complete: bool
    language: str
    reason: str
    mode: str
    answers: dict[str, str]


class ResponseError(ValueError):
    """The response cannot be read; ``errors`` maps a field (or linkId) to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(str(errors))


def from_questionnaire_response(data: dict[str, Any]) -> ParsedResponse:
    """Read a QuestionnaireResponse whose shape the API serializer has already checked."""
    errors: dict[str, list[str]] = {}
    canonical = data["questionnaire"]
    url, _bar, version = canonical.partition("|")
    if not version:
        errors["questionnaire"] = [
            "Give the instrument's canonical URL with its version: 'url|version'."
        ]
    context: dict[str, str] = {}
    for ext in data.get("extension", []):
        if ext.get("url") == EXT_SCREENING_CONTEXT:
            for sub in ext.get("extension", []):
                if "valueCode" in sub:
                    context[sub["url"]] = sub["valueCode"]
    for name in ("reason", "mode"):
        if name not in context:
            errors.setdefault("extension", []).append(
                f"The {EXT_SCREENING_CONTEXT} extension needs '{name}' (valueCode)."
            )
    answers: dict[str, str] = {}

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            link_id = item["linkId"]
            given = item.get("answer", [])
            if len(given) > 1:
                errors.setdefault("item", []).append(
                    f"Question '{link_id}' takes one answer; {len(given)} were given."
                )
            elif given:
                coding = given[0].get("valueCoding")
                if not coding or "code" not in coding:
                    errors.setdefault("item", []).append(
                        f"The answer to question '{link_id}' must be a valueCoding with a code."
                    )
                elif link_id in answers:
                    errors.setdefault("item", []).append(
                        f"Question '{link_id}' is answered more than once."
                    )
                else:
                    answers[link_id] = coding["code"]
            walk(item.get("item", []))

    walk(data.get("item", []))
    if errors:
        raise ResponseError(errors)
    return ParsedResponse(
        url=url,
        version=version,
        complete=STATUS_IN[data["status"]],
        language=data.get("language", "en"),
        reason=context["reason"],
        mode=context["mode"],
        answers=answers,
    )
