"""Instrument files: what is accepted, and every problem of a refused file, naming item and rule."""

from __future__ import annotations

import json
from typing import Any

import pytest

from safeharbor.screening.definition import (
    EXT_INFORMATION,
    EXT_NOT_ENOUGH_INFORMATION,
    EXT_SCORING,
    FHIR_ITEM_WEIGHT,
    FHIR_ORDINAL_VALUE,
    parse,
)
from safeharbor.screening.shipped import SHIPPED_DIR
from safeharbor.screening.validation import validate

from .helpers import SIX, TEN, document


def rules(problems) -> set[tuple[str | None, str]]:
    return {(p.link_id, p.rule) for p in problems}


@pytest.mark.parametrize("name", [SIX, TEN])
def test_the_invented_fixtures_are_valid(name):
    assert validate(document(name)) == []


def test_every_shipped_instrument_is_valid_and_says_whether_it_is_validated():
    paths = sorted(SHIPPED_DIR.glob("*.json"))
    assert paths, "the indicator checklist ships"
    for path in paths:
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert validate(doc) == [], path.name
        definition = parse(doc)
        assert definition.information.citation
        assert definition.information.caution.base
        assert definition.copyright


def test_the_indicator_checklist_is_not_validated_and_has_spanish():
    doc = json.loads((SHIPPED_DIR / "indicator_checklist.json").read_text(encoding="utf-8"))
    definition = parse(doc)
    assert definition.information.validated is False
    assert "Blue Campaign" in definition.information.citation
    assert definition.languages == ("en", "es")
    assert all(item.text.translated.get("es") for item in definition.items)
    assert "NOT validated" in definition.information.caution.base


def test_a_file_that_is_not_an_object_is_refused():
    assert [p.rule for p in validate(["Questionnaire"])] == ["schema:type"]


def test_structure_errors_name_the_item_and_the_schema_rule():
    doc = document(SIX)
    questions = doc["item"][0]["item"]
    questions[3]["answerOption"][0]["extension"][0]["valueDecimal"] = "one"
    questions[5]["type"] = "string"
    del doc["status"]
    problems = validate(doc)
    assert rules(problems) == {
        (None, "schema:required"),
        ("q4", "schema:oneOf"),
        ("q6", "schema:enum"),
    }
    weight = next(p for p in problems if p.link_id == "q4")
    assert "valueDecimal" in weight.message
    assert "is not of type 'number'" in weight.message
    assert str(weight).startswith("Item 'q4': at item[0].item[3].answerOption[0]")


def test_semantic_problems_are_all_reported_at_once():
    doc = document(SIX)
    questions = doc["item"][0]["item"]
    questions[1]["linkId"] = "q1"
    questions[2]["enableWhen"] = [
        {"question": "q99", "operator": "=", "answerCoding": {"code": "yes"}}
    ]
    questions[4]["enableWhen"] = [
        {"question": "q6", "operator": "=", "answerCoding": {"code": "yes"}}
    ]
    doc["extension"][0]["extension"] = [
        {"url": "method", "valueCode": "sum"},
        {"url": "possibleConcernAt", "valueDecimal": 3},
        {"url": "clearConcernAt", "valueDecimal": 2},
    ]
    assert rules(validate(doc)) == {
        ("q1", "unique-link-id"),
        ("q3", "enable-when-target"),
        ("q5", "enable-when-order"),
        (None, "thresholds-ordered"),
    }


def _option_ext(doc: dict[str, Any], question: int, option: int) -> list[dict[str, Any]]:
    return doc["item"][0]["item"][question]["answerOption"][option].setdefault("extension", [])


def _scoring(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return next(e for e in doc["extension"] if e["url"] == EXT_SCORING)["extension"]


def _info(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return next(e for e in doc["extension"] if e["url"] == EXT_INFORMATION)["extension"]


def _drop(subs: list[dict[str, Any]], url: str) -> None:
    subs[:] = [s for s in subs if s["url"] != url]


def _mutations():
    def top_level_question(doc):
        doc["item"].append(
            {
                "linkId": "loose",
                "type": "choice",
                "text": "Loose?",
                "answerOption": [{"valueCoding": {"code": "y"}}],
            }
        )

    def nested_group(doc):
        doc["item"][0]["item"].append(
            {
                "linkId": "inner",
                "type": "group",
                "text": "Inner",
                "item": [{"linkId": "deep", "type": "display", "text": "x"}],
            }
        )

    def duplicate_code(doc):
        doc["item"][0]["item"][0]["answerOption"][1]["valueCoding"]["code"] = "yes"

    def two_weights(doc):
        _option_ext(doc, 0, 0).append({"url": FHIR_ITEM_WEIGHT, "valueDecimal": 1})

    def weighted_unknown(doc):
        _option_ext(doc, 0, 0).append({"url": EXT_NOT_ENOUGH_INFORMATION, "valueBoolean": True})

    def negative_weight(doc):
        _option_ext(doc, 0, 0)[0] = {"url": FHIR_ORDINAL_VALUE, "valueDecimal": -1}

    def unsupported_operator(doc):
        doc["item"][0]["item"][2]["enableWhen"] = [
            {"question": "q1", "operator": ">", "answerCoding": {"code": "yes"}}
        ]

    def wrong_answer_type(doc):
        doc["item"][0]["item"][2]["enableWhen"] = [
            {"question": "q1", "operator": "exists", "answerCoding": {"code": "yes"}}
        ]

    def unknown_answer(doc):
        doc["item"][0]["item"][2]["enableWhen"] = [
            {"question": "q1", "operator": "=", "answerCoding": {"code": "maybe"}}
        ]

    def no_behavior(doc):
        doc["item"][0]["item"][2]["enableWhen"] = [
            {"question": "q1", "operator": "exists", "answerBoolean": True},
            {"question": "q2", "operator": "exists", "answerBoolean": True},
        ]

    def unreachable(doc):
        _scoring(doc).append({"url": "possibleConcernAt", "valueDecimal": 7})

    def no_threshold(doc):
        _drop(_scoring(doc), "clearConcernAt")

    def no_method(doc):
        _drop(_scoring(doc), "method")

    def at_most_without_max(doc):
        _scoring(doc).append({"url": "notEnoughInformationRule", "valueCode": "at-most"})

    def max_without_rule(doc):
        _scoring(doc).append({"url": "notEnoughInformationMax", "valueInteger": 2})

    def validated_without_figures(doc):
        _drop(_info(doc), "sensitivity")

    def unvalidated_with_figures(doc):
        next(s for s in _info(doc) if s["url"] == "validated")["valueBoolean"] = False

    def ages_reversed(doc):
        for sub in _info(doc):
            if sub["url"] == "ageMin":
                sub["valueInteger"] = 18

    def missing_caution(doc):
        _drop(_info(doc), "caution")

    def partial_spanish(doc):
        del doc["item"][0]["item"][4]["_text"]

    def repeated_sub_extension(doc):
        _scoring(doc).append({"url": "clearConcernAt", "valueDecimal": 3})

    def question_scoring(doc):
        doc["item"][0]["item"][0]["extension"] = [
            {"url": EXT_SCORING, "extension": [{"url": "clearConcernAt", "valueDecimal": 1}]}
        ]

    def domain_method(doc):
        doc["item"][0]["extension"] = [
            {"url": EXT_SCORING, "extension": [{"url": "method", "valueCode": "sum"}]}
        ]

    def nothing_weighs(doc):
        for question in range(6):
            _option_ext(doc, question, 0)[0]["valueDecimal"] = 0
        _drop(_scoring(doc), "clearConcernAt")
        _scoring(doc).append({"url": "clearConcernAt", "valueDecimal": 0.5})

    return [
        (top_level_question, "loose", "top-level-group"),
        (nested_group, "inner", "group-contents"),
        (duplicate_code, "q1", "unique-option-code"),
        (two_weights, "q1", "one-weight"),
        (weighted_unknown, "q1", "not-enough-information-option"),
        (negative_weight, "q1", "schema:oneOf"),
        (unsupported_operator, "q3", "enable-when-operator"),
        (wrong_answer_type, "q3", "enable-when-operator"),
        (unknown_answer, "q3", "enable-when-answer"),
        (no_behavior, "q3", "enable-behavior"),
        (unreachable, None, "threshold-reachable"),
        (no_threshold, None, "has-thresholds"),
        (no_method, None, "scoring-method"),
        (at_most_without_max, None, "not-enough-information-rule"),
        (max_without_rule, None, "not-enough-information-rule"),
        (validated_without_figures, None, "validated-figures"),
        (unvalidated_with_figures, None, "validated-figures"),
        (ages_reversed, None, "age-range"),
        (missing_caution, None, "information-required"),
        (partial_spanish, "q5", "translation-complete"),
        (repeated_sub_extension, None, "single-value"),
        (question_scoring, "q1", "domain-scoring"),
        (domain_method, "screen", "domain-scoring"),
        (nothing_weighs, None, "has-weights"),
    ]


@pytest.mark.parametrize(
    ("mutate", "link_id", "rule"), _mutations(), ids=[m[0].__name__ for m in _mutations()]
)
def test_each_rule_names_its_item(mutate, link_id, rule):
    doc = document(SIX)
    mutate(doc)
    problems = validate(doc)
    assert (link_id, rule) in rules(problems), [str(p) for p in problems]


def test_the_ten_domain_skip_logic_is_accepted_and_parsed():
    definition = parse(document(TEN))
    assert len(definition.domains) == 10
    assert definition.domains[9].enable_behavior == "any"
    recent = definition.item("d1-recent")
    assert recent is not None
    assert [c.operator for c in recent.conditions] == ["!=", "!="]
    assert definition.nei_max == 3


def test_the_invalid_fixture_files_list_every_problem():
    structure = rules(validate(document("invalid_structure.json")))
    assert structure == {(None, "schema:required"), ("q4", "schema:oneOf"), ("q6", "schema:enum")}
    semantics = rules(validate(document("invalid_semantics.json")))
    assert semantics == {
        ("q1", "unique-link-id"),
        ("q4", "not-enough-information-option"),
        ("q3", "enable-when-target"),
        ("q5", "enable-when-order"),
        (None, "thresholds-ordered"),
    }
