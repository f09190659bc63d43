"""The scoring engine: from an instrument's definition and the answers, to a concern level.

Pure and exact: no database, no clock, decimal arithmetic (weights and thresholds are
``Decimal``), the same answers always give the same result. The rule (docs/screening.md):

1. Skip logic first. A domain or question is enabled when its ``enableWhen`` conditions hold
   (``enableBehavior`` all/any), judged on the answers to *enabled* earlier questions only. An
   unanswered question makes ``=`` and ``!=`` false and ``exists false`` true. Answers to disabled
   questions are ignored.
2. Additive scores. A question scores the weight of its chosen answer (0 without one, and 0 for
   "not enough information"); a domain scores the sum of its enabled questions; the total is the
   sum of the enabled domains.
3. Thresholds, inclusive: a score at or above ``clearConcernAt`` is a clear concern, else at or
   above ``possibleConcernAt`` a possible concern, else no concern. The instrument's level is the
   highest of the total's level and each domain's level (for domains that have thresholds).
4. Not enough information. With the rule ``at-most`` and N = ``notEnoughInformationMax``: when more
   than N enabled questions are answered "not enough information" and the level is "no concern",
   the result is "not enough information" instead. Unknown answers can never lower a possible
   or clear concern; they only stop a "no concern" conclusion they cannot support. With the rule
   ``score-as-zero`` (the default) they simply score 0.

With weights of 0 or more, endorsing one more indicator never lowers the level (as long as the
changed answer does not switch other questions off through skip logic).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .choices import LEVEL_RANK, ConcernLevel
from .definition import NEI_AT_MOST, Condition, Definition, Thresholds

NOT_ENOUGH_INFORMATION = ConcernLevel.NOT_ENOUGH_INFORMATION


@dataclass(frozen=True)
class DomainScore:
    link_id: str
    enabled: bool
    score: Decimal
    level: str | None  # None when the domain has no thresholds of its own


@dataclass(frozen=True)
class Result:
    """What a set of answers comes to."""

    level: str
    total: Decimal
    domains: tuple[DomainScore, ...]
    endorsed: tuple[str, ...]  # linkIds whose answer weighs more than 0, in order
    not_enough_information: tuple[str, ...]  # linkIds answered "not enough information"
    unanswered: tuple[str, ...]  # enabled questions without an answer, in order

    @property
    def complete(self) -> bool:
        return not self.unanswered

    def as_json(self) -> dict[str, Any]:
        """The stored form (``Screening.score``): decimals as strings, so nothing is rounded."""
        return {
            "total": str(self.total),
            "domains": {
                d.link_id: {"score": str(d.score), "level": d.level, "enabled": d.enabled}
                for d in self.domains
            },
            "endorsed": list(self.endorsed),
            "not_enough_information": list(self.not_enough_information),
        }


class AnswerError(ValueError):
    """An answer the instrument cannot take; ``problems`` name each item."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems  # (linkId, message)
        super().__init__("; ".join(message for _link_id, message in problems))


def level_for(thresholds: Thresholds, score: Decimal) -> str:
    if thresholds.clear is not None and score >= thresholds.clear:
        return str(ConcernLevel.CLEAR_CONCERN)
    if thresholds.possible is not None and score >= thresholds.possible:
        return str(ConcernLevel.POSSIBLE_CONCERN)
    return str(ConcernLevel.NO_CONCERN)


def highest(levels: list[str]) -> str:
    return max(levels, key=lambda level: LEVEL_RANK[ConcernLevel(level)])


def _holds(condition: Condition, given: Mapping[str, str]) -> bool:
    answer = given.get(condition.question)
    if condition.operator == "exists":
        return (answer is not None) == bool(condition.answer_exists)
    if answer is None:
        return False
    if condition.operator == "=":
        return answer == condition.answer_code
    return answer != condition.answer_code  # "!=" (validation allows no other operator)


def _enabled(conditions: tuple[Condition, ...], behavior: str, given: Mapping[str, str]) -> bool:
    if not conditions:
        return True
    results = (_holds(condition, given) for condition in conditions)
    return any(results) if behavior == "any" else all(results)


def enabled_link_ids(definition: Definition, answers: Mapping[str, str]) -> set[str]:
    """The linkIds of the domains and items that are on, given these answers."""
    on: set[str] = set()
    given: dict[str, str] = {}
    for domain in definition.domains:
        if not _enabled(domain.conditions, domain.enable_behavior, given):
            continue
        on.add(domain.link_id)
        for item in domain.items:
            if not _enabled(item.conditions, item.enable_behavior, given):
                continue
            on.add(item.link_id)
            if item.kind == "choice" and item.link_id in answers:
                given[item.link_id] = answers[item.link_id]
    return on


def answer_problems(definition: Definition, answers: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(linkId, message) for every answer that is not one of its question's options."""
    problems = []
    for link_id, code in answers.items():
        item = definition.item(link_id)
        if item is None or not item.is_question:
            problems.append((link_id, f"'{link_id}' is not a question of this instrument."))
            continue
        if not isinstance(code, str) or item.option(code) is None:
            allowed = ", ".join(option.code for option in item.options)
            problems.append(
                (
                    link_id,
                    f"The answer {code!r} to question '{link_id}' ({item.text.base}) is not one "
                    f"of its options ({allowed}).",
                )
            )
    return problems


def check_answers(definition: Definition, answers: Mapping[str, Any]) -> None:
    problems = answer_problems(definition, answers)
    if problems:
        raise AnswerError(problems)


def score(definition: Definition, answers: Mapping[str, str]) -> Result:
    """Score ``answers`` ({linkId: answer code}); they must have passed ``check_answers``."""
    on = enabled_link_ids(definition, answers)
    domains = []
    levels = []
    endorsed: list[str] = []
    unknown: list[str] = []
    unanswered: list[str] = []
    total = Decimal(0)
    for domain in definition.domains:
        domain_score = Decimal(0)
        enabled = domain.link_id in on
        if enabled:
            for item in domain.items:
                if item.kind != "choice" or item.link_id not in on:
                    continue
                code = answers.get(item.link_id)
                option = item.option(code) if code is not None else None
                if option is None:
                    unanswered.append(item.link_id)
                    continue
                if option.not_enough_information:
                    unknown.append(item.link_id)
                elif option.weight > 0:
                    endorsed.append(item.link_id)
                    domain_score += option.weight
        level = level_for(domain.thresholds, domain_score) if domain.thresholds.any else None
        if level is not None:
            levels.append(level)
        domains.append(DomainScore(domain.link_id, enabled, domain_score, level))
        total += domain_score
    levels.append(level_for(definition.thresholds, total))
    result_level = highest(levels)
    if (
        definition.nei_rule == NEI_AT_MOST
        and definition.nei_max is not None
        and len(unknown) > definition.nei_max
        and result_level == ConcernLevel.NO_CONCERN
    ):
        result_level = str(NOT_ENOUGH_INFORMATION)
    return Result(
        level=result_level,
        total=total,
        domains=tuple(domains),
        endorsed=tuple(endorsed),
        not_enough_information=tuple(unknown),
        unanswered=tuple(unanswered),
    )


def enabled_answers(definition: Definition, answers: Mapping[str, str]) -> dict[str, str]:
    """Only the answers to enabled questions: what a screening keeps."""
    on = enabled_link_ids(definition, answers)
    return {link_id: code for link_id, code in answers.items() if link_id in on}
