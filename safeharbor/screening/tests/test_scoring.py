"""The scoring engine: exact, additive, and honest about what it does not know.

Unit tests on the invented fixtures, and properties (hypothesis) over generated instruments:
endorsing one more indicator never lowers the level; thresholds are exact at their boundaries;
"not enough information" follows the instrument's rule and never hides a concern.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from safeharbor.screening import scoring
from safeharbor.screening.choices import LEVEL_RANK, ConcernLevel
from safeharbor.screening.definition import (
    EXT_INFORMATION,
    EXT_NOT_ENOUGH_INFORMATION,
    EXT_SCORING,
    FHIR_ORDINAL_VALUE,
    parse,
)
from safeharbor.screening.validation import validate

from .helpers import SIX, TEN, document, six_answers, ten_answers

NO = ConcernLevel.NO_CONCERN
NEI = ConcernLevel.NOT_ENOUGH_INFORMATION
POSSIBLE = ConcernLevel.POSSIBLE_CONCERN
CLEAR = ConcernLevel.CLEAR_CONCERN


def rank(level: str) -> int:
    return LEVEL_RANK[ConcernLevel(level)]


@pytest.fixture(scope="module")
def six():
    return parse(document(SIX))


@pytest.fixture(scope="module")
def ten():
    return parse(document(TEN))


@pytest.mark.parametrize(("yes", "level"), [(0, NO), (1, NO), (2, CLEAR), (6, CLEAR)])
def test_the_six_item_screen_is_positive_at_two(six, yes, level):
    result = scoring.score(six, six_answers(yes))
    assert result.level == level
    assert result.total == yes
    assert result.endorsed == tuple(f"q{i}" for i in range(1, yes + 1))
    assert result.complete


def test_a_missing_answer_is_reported_not_guessed(six):
    answers = six_answers(2)
    del answers["q4"]
    result = scoring.score(six, answers)
    assert result.unanswered == ("q4",)
    assert not result.complete


def test_an_answer_outside_the_options_names_the_question(six):
    problems = scoring.answer_problems(six, {"q3": "maybe", "q9": "yes", "q1": "yes"})
    assert [link_id for link_id, _message in problems] == ["q3", "q9"]
    assert "'maybe'" in problems[0][1]
    assert "q3" in problems[0][1]
    assert "Example question 3?" in problems[0][1]
    with pytest.raises(scoring.AnswerError):
        scoring.check_answers(six, {"q3": "maybe"})


def test_a_domain_rated_two_is_a_clear_concern_on_its_own(ten):
    result = scoring.score(ten, ten_answers(d4="2"))
    assert result.level == CLEAR
    assert result.total == 2


def test_the_total_gives_a_possible_concern(ten):
    assert scoring.score(ten, ten_answers(d2="1")).level == NO
    assert scoring.score(ten, ten_answers(d2="1", d3="1")).level == POSSIBLE
    answers = ten_answers(d2="1", d3="1", d4="1", d5="1", d6="1", d7="1")
    assert scoring.score(ten, answers).level == CLEAR  # the total reaches 6


def test_skip_logic_opens_and_closes_questions(ten):
    on = scoring.enabled_link_ids(ten, ten_answers())
    assert "d1-recent" not in on
    assert "area10" not in on
    assert "d10" not in on
    on = scoring.enabled_link_ids(ten, ten_answers(d1="1", d9="2"))
    assert {"d1-recent", "area10", "d10"} <= on
    # "!=" is false for an unanswered question, and "not enough information" closes it too.
    assert "d1-recent" not in scoring.enabled_link_ids(ten, {})
    assert "d1-recent" not in scoring.enabled_link_ids(ten, ten_answers(d1="nei"))


def test_answers_to_questions_that_are_off_are_ignored(ten):
    answers = ten_answers(d10="2")  # area 10 is off: area 9 is rated 0
    result = scoring.score(ten, answers)
    assert result.level == NO
    assert "d10" not in scoring.enabled_answers(ten, answers)
    assert result.domains[9].enabled is False


def test_not_enough_information_stops_only_a_no_concern_conclusion(ten):
    three = ten_answers(d2="nei", d3="nei", d4="nei")
    four = ten_answers(d2="nei", d3="nei", d4="nei", d5="nei")
    assert scoring.score(ten, three).level == NO  # at most 3 allowed
    assert scoring.score(ten, four).level == NEI
    assert scoring.score(ten, four).not_enough_information == ("d2", "d3", "d4", "d5")
    four_and_concern = {**four, "d6": "1", "d7": "1"}
    assert scoring.score(ten, four_and_concern).level == POSSIBLE


def test_the_stored_form_keeps_decimals_exact(ten):
    stored = scoring.score(ten, ten_answers(d2="1")).as_json()
    assert stored["total"] == "1"
    assert stored["domains"]["area2"] == {"score": "1", "level": "no_concern", "enabled": True}
    assert stored["endorsed"] == ["d2"]


def test_decimal_weights_are_exact_where_floats_are_not():
    doc = _instrument([[Decimal("0.1")] * 3], total=(Decimal("0.3"), None))
    definition = parse(doc)
    answers = {"i0_0": "w", "i0_1": "w", "i0_2": "w"}
    assert 0.1 + 0.1 + 0.1 != 0.3  # the float trap the engine must not fall into
    assert scoring.score(definition, answers).level == POSSIBLE


# --------------------------------------------------------------------------- generated instruments

WEIGHTS = [Decimal(w) for w in ("0.25", "0.5", "1", "1.5", "2", "3")]


def _instrument(
    domains: list[list[Decimal]],
    *,
    total: tuple[Decimal | None, Decimal | None],
    domain_thresholds: list[tuple[Decimal | None, Decimal | None]] | None = None,
    nei_max: int | None = None,
    with_nei: bool = False,
) -> dict[str, Any]:
    """A Questionnaire: one group per domain, one question per weight. Each question's options:
    ``w`` (the weight), ``z`` (0) and, with ``with_nei``, ``u`` (not enough information)."""

    def scoring_ext(thresholds, method):
        subs = [{"url": "method", "valueCode": "sum"}] if method else []
        possible, clear = thresholds
        if possible is not None:
            subs.append({"url": "possibleConcernAt", "valueDecimal": float(possible)})
        if clear is not None:
            subs.append({"url": "clearConcernAt", "valueDecimal": float(clear)})
        return {"url": EXT_SCORING, "extension": subs}

    groups = []
    for d, weights in enumerate(domains):
        questions = []
        for q, weight in enumerate(weights):
            options = [
                {
                    "valueCoding": {"code": "w"},
                    "extension": [{"url": FHIR_ORDINAL_VALUE, "valueDecimal": float(weight)}],
                },
                {
                    "valueCoding": {"code": "z"},
                    "extension": [{"url": FHIR_ORDINAL_VALUE, "valueDecimal": 0}],
                },
            ]
            if with_nei:
                options.append(
                    {
                        "valueCoding": {"code": "u"},
                        "extension": [{"url": EXT_NOT_ENOUGH_INFORMATION, "valueBoolean": True}],
                    }
                )
            questions.append(
                {
                    "linkId": f"i{d}_{q}",
                    "type": "choice",
                    "text": f"Item {d}.{q}",
                    "answerOption": options,
                }
            )
        group = {"linkId": f"g{d}", "type": "group", "text": f"Domain {d}", "item": questions}
        if domain_thresholds and (
            domain_thresholds[d][0] is not None or domain_thresholds[d][1] is not None
        ):
            group["extension"] = [scoring_ext(domain_thresholds[d], method=False)]
        groups.append(group)
    root = scoring_ext(total, method=True)
    if nei_max is not None:
        root["extension"] += [
            {"url": "notEnoughInformationRule", "valueCode": "at-most"},
            {"url": "notEnoughInformationMax", "valueInteger": nei_max},
        ]
    return {
        "resourceType": "Questionnaire",
        "url": "https://example.org/fhir/Questionnaire/generated",
        "version": "1",
        "name": "Generated",
        "title": "Generated",
        "status": "active",
        "publisher": "tests",
        "copyright": "tests",
        "extension": [
            root,
            {
                "url": EXT_INFORMATION,
                "extension": [
                    {"url": "validated", "valueBoolean": False},
                    {"url": "citation", "valueString": "generated"},
                    {"url": "completedBy", "valueCode": "either"},
                    {"url": "caution", "valueString": "A screen is not proof."},
                ],
            },
        ],
        "item": groups,
    }


@st.composite
def thresholds(draw: Any, maximum: Decimal) -> tuple[Decimal | None, Decimal | None]:
    steps = [Decimal(n) / 4 for n in range(1, int(maximum * 4) + 1)]
    chosen = sorted(draw(st.lists(st.sampled_from(steps), min_size=1, max_size=2, unique=True)))
    if len(chosen) == 2:
        return chosen[0], chosen[1]
    return (chosen[0], None) if draw(st.booleans()) else (None, chosen[0])


@st.composite
def instruments(draw: Any, with_nei: bool = True) -> dict[str, Any]:
    domains = draw(
        st.lists(st.lists(st.sampled_from(WEIGHTS), min_size=1, max_size=4), min_size=1, max_size=4)
    )
    maximum = sum((sum(d, Decimal(0)) for d in domains), Decimal(0))
    total = draw(thresholds(maximum))
    per_domain = [
        draw(st.one_of(st.just((None, None)), thresholds(sum(d, Decimal(0))))) for d in domains
    ]
    nei_max = draw(st.one_of(st.none(), st.integers(0, 4))) if with_nei else None
    doc = _instrument(
        domains, total=total, domain_thresholds=per_domain, nei_max=nei_max, with_nei=with_nei
    )
    problems = validate(doc)
    assert problems == [], [str(p) for p in problems]
    return doc


@st.composite
def instrument_and_answers(draw: Any) -> tuple[Any, dict[str, str]]:
    definition = parse(draw(instruments()))
    answers = {
        item.link_id: draw(st.sampled_from([o.code for o in item.options]))
        for item in definition.questions
    }
    return definition, answers


@settings(max_examples=150, deadline=None)
@given(instrument_and_answers(), st.data())
def test_endorsing_one_more_indicator_never_lowers_the_level(case, data):
    definition, answers = case
    not_endorsed = [link_id for link_id, code in answers.items() if code == "z"]
    assume(not_endorsed)
    link_id = data.draw(st.sampled_from(not_endorsed))
    before = scoring.score(definition, answers)
    after = scoring.score(definition, {**answers, link_id: "w"})
    assert after.total > before.total
    assert rank(after.level) >= rank(before.level)
    assert set(after.endorsed) == set(before.endorsed) | {link_id}


@settings(max_examples=150, deadline=None)
@given(instrument_and_answers(), st.data())
def test_not_enough_information_never_hides_a_concern(case, data):
    definition, answers = case
    known = [link_id for link_id, code in answers.items() if code == "z"]
    assume(known)
    link_id = data.draw(st.sampled_from(known))
    before = scoring.score(definition, answers)
    after = scoring.score(definition, {**answers, link_id: "u"})
    assert after.total == before.total
    if before.level in (POSSIBLE, CLEAR):
        assert after.level == before.level


@settings(max_examples=150, deadline=None)
@given(instrument_and_answers())
def test_not_enough_information_follows_the_rule(case):
    definition, answers = case
    result = scoring.score(definition, answers)
    unknown = [link_id for link_id, code in answers.items() if code == "u"]
    known = scoring.score(definition, {k: ("z" if v == "u" else v) for k, v in answers.items()})
    assert result.not_enough_information == tuple(unknown)
    over_the_limit = definition.nei_max is not None and len(unknown) > definition.nei_max
    if over_the_limit and known.level == NO:
        assert result.level == NEI
    else:
        assert result.level == known.level


@settings(max_examples=100, deadline=None)
@given(
    weight=st.sampled_from(WEIGHTS),
    count=st.integers(2, 8),
    data=st.data(),
)
def test_thresholds_are_exact_at_their_boundaries(weight, count, data):
    possible_at = data.draw(st.integers(1, count - 1))
    clear_at = data.draw(st.integers(possible_at + 1, count))
    doc = _instrument([[weight] * count], total=(weight * possible_at, weight * clear_at))
    definition = parse(doc)

    def level(endorsed: int) -> str:
        answers = {f"i0_{q}": ("w" if q < endorsed else "z") for q in range(count)}
        return scoring.score(definition, answers).level

    assert level(possible_at - 1) == NO
    assert level(possible_at) == POSSIBLE
    assert level(clear_at - 1) == (POSSIBLE if clear_at - 1 >= possible_at else NO)
    assert level(clear_at) == CLEAR
    assert level(count) == CLEAR


@settings(max_examples=60, deadline=None)
@given(instruments(with_nei=False), st.data())
def test_a_domain_threshold_alone_decides_when_higher(doc, data):
    definition = parse(doc)
    answers = {item.link_id: "w" for item in definition.questions}
    result = scoring.score(definition, answers)
    levels = [scoring.level_for(definition.thresholds, result.total)]
    levels += [d.level for d in result.domains if d.level is not None]
    assert result.level == scoring.highest(levels)
