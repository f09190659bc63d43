"""Is this Questionnaire an instrument Safe Harbor can administer and score exactly?

Two passes, and every problem of both is reported (an import is all-or-nothing, so the person
loading a file should see the whole list at once):

1. Structure: the JSON Schema in ``schema/instrument.schema.json`` (validated with ``jsonschema``).
2. Rules that span items, which a schema cannot say: unique linkIds, ``enableWhen`` pointing at an
   earlier question and one of its answers, ordered and reachable thresholds, complete
   translations, and the rest listed in docs/screening.md.

Each ``Problem`` names the item (its linkId, or none for the Questionnaire itself) and the rule.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError

from .definition import (
    BASE_LANGUAGE,
    EXT_INFORMATION,
    EXT_NOT_ENOUGH_INFORMATION,
    EXT_SCORING,
    NEI_AT_MOST,
    WEIGHT_EXTENSIONS,
    Definition,
    Thresholds,
    all_texts,
    extension,
    parse,
    sub_values,
    translations,
)

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "instrument.schema.json"
SUPPORTED_OPERATORS = {"exists": "answerBoolean", "=": "answerCoding", "!=": "answerCoding"}
_DOMAIN_SCORING_FIELDS = {"possibleConcernAt", "clearConcernAt"}


@dataclass(frozen=True)
class Problem:
    """One reason an instrument is refused."""

    link_id: str | None
    rule: str
    message: str

    def __str__(self) -> str:
        where = f"Item '{self.link_id}'" if self.link_id else "The questionnaire"
        return f"{where}: {self.message} (rule: {self.rule})"


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


@cache
def _validator() -> Draft202012Validator:
    Draft202012Validator.check_schema(schema())
    return Draft202012Validator(schema())


def validate(document: Any) -> list[Problem]:
    """Every problem with ``document``; an empty list means it can be imported."""
    if not isinstance(document, dict):
        return [Problem(None, "schema:type", "The file must hold one JSON object.")]
    problems = [_from_schema_error(document, error) for error in _schema_errors(document)]
    if problems:
        # The rules below read the structure the schema guarantees; report the structure first.
        return problems
    return _semantic_problems(document)


def _schema_errors(document: dict[str, Any]) -> list[SchemaError]:
    return sorted(_validator().iter_errors(document), key=lambda e: list(map(str, e.path)))


def _path_text(path: list[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _link_id_at(document: dict[str, Any], path: list[Any]) -> str | None:
    """The linkId of the innermost item on ``path``."""
    node: Any = document
    link_id = None
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict) and isinstance(node.get("linkId"), str):
            link_id = node["linkId"]
    return link_id


def _from_schema_error(document: dict[str, Any], error: SchemaError) -> Problem:
    message = error.message
    path = list(error.absolute_path)
    if error.validator == "oneOf" and error.context:
        # One branch per kind of (sub-)extension, chosen by its url: report the failure of the
        # branch whose url matched, not "is not valid under any of the given schemas".
        relevant = [e for e in error.context if list(e.relative_path)[-1:] != ["url"]]
        if relevant:
            best = relevant[0]
            message = best.message
            path = path + list(best.relative_path)
        else:
            message = (
                f"{error.instance.get('url')!r} is not a known extension here"
                if isinstance(error.instance, dict)
                else message
            )
    if len(message) > 300:
        message = message[:297] + "..."
    return Problem(
        link_id=_link_id_at(document, path),
        rule=f"schema:{error.validator}",
        message=f"at {_path_text(path)}: {message}",
    )


# --------------------------------------------------------------------------- the semantic rules


def _semantic_problems(document: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    problems += _structure_problems(document)
    structure_ok = not problems
    problems += _unique_link_ids(document)
    problems += _item_problems(document)
    problems += _single_values(document)
    problems += _option_problems(document)
    problems += _enable_when_problems(document)
    problems += _information_problems(document)
    problems += _translation_problems(document)
    if structure_ok:
        # Thresholds are checked against the scores the parsed instrument can reach.
        problems += _scoring_problems(document, parse(document))
    return problems


def _walk(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    flat: list[dict[str, Any]] = []
    for item in items:
        flat.append(item)
        flat += _walk(item.get("item", []))
    return flat


def _unique_link_ids(document: dict[str, Any]) -> list[Problem]:
    counts = Counter(item["linkId"] for item in _walk(document["item"]))
    return [
        Problem(link_id, "unique-link-id", f"the linkId is used by {count} items.")
        for link_id, count in counts.items()
        if count > 1
    ]


def _structure_problems(document: dict[str, Any]) -> list[Problem]:
    """Domains: top-level groups of questions. The scoring checks need this shape."""
    problems = []
    for top in document["item"]:
        if top["type"] != "group":
            problems.append(
                Problem(
                    top["linkId"],
                    "top-level-group",
                    "every top-level item must be a group (a domain, shown as one step).",
                )
            )
            continue
        if not top.get("item"):
            problems.append(Problem(top["linkId"], "group-contents", "the group has no items."))
        for child in top.get("item", []):
            if child["type"] == "group" or child.get("item"):
                problems.append(
                    Problem(
                        child["linkId"],
                        "group-contents",
                        "groups hold questions and display texts only, not other groups.",
                    )
                )
    return problems


def _item_problems(document: dict[str, Any]) -> list[Problem]:
    problems = []
    for item in _walk(document["item"]):
        has_options = bool(item.get("answerOption"))
        if item["type"] == "choice" and not has_options:
            problems.append(
                Problem(item["linkId"], "question-options", "a choice item needs answerOption.")
            )
        if item["type"] != "choice" and has_options:
            problems.append(
                Problem(
                    item["linkId"],
                    "question-options",
                    f"a {item['type']} item cannot have answer options.",
                )
            )
        if "text" not in item and item["type"] != "group":
            problems.append(Problem(item["linkId"], "item-text", "the item has no text."))
        scoring = extension(item, EXT_SCORING)
        if scoring is not None:
            fields = {sub["url"] for sub in scoring.get("extension", [])}
            if item["type"] != "group" or not any(item is top for top in document["item"]):
                problems.append(
                    Problem(
                        item["linkId"],
                        "domain-scoring",
                        "only a top-level group (a domain) may carry the scoring extension.",
                    )
                )
            elif fields - _DOMAIN_SCORING_FIELDS:
                extra = ", ".join(sorted(fields - _DOMAIN_SCORING_FIELDS))
                problems.append(
                    Problem(
                        item["linkId"],
                        "domain-scoring",
                        "a domain's scoring extension holds only possibleConcernAt and "
                        f"clearConcernAt, not {extra}.",
                    )
                )
    return problems


def _single_values(document: dict[str, Any]) -> list[Problem]:
    """Each sub-extension of our complex extensions appears at most once."""
    problems = []
    holders: list[tuple[str | None, dict[str, Any]]] = [(None, document)]
    holders += [(item["linkId"], item) for item in _walk(document["item"])]
    for link_id, holder in holders:
        for url in (EXT_SCORING, EXT_INFORMATION):
            counts = Counter(
                sub["url"] for sub in (extension(holder, url) or {}).get("extension", [])
            )
            problems += [
                Problem(link_id, "single-value", f"{name!r} is given {count} times in {url}.")
                for name, count in counts.items()
                if count > 1
            ]
        url_counts = Counter(ext["url"] for ext in holder.get("extension", []))
        problems += [
            Problem(link_id, "single-value", f"the extension {url} is given {count} times.")
            for url, count in url_counts.items()
            if count > 1 and url in (EXT_SCORING, EXT_INFORMATION)
        ]
    return problems


def _option_problems(document: dict[str, Any]) -> list[Problem]:
    problems = []
    for item in _walk(document["item"]):
        options = item.get("answerOption", [])
        codes = Counter(option["valueCoding"]["code"] for option in options)
        problems += [
            Problem(
                item["linkId"],
                "unique-option-code",
                f"the answer code {code!r} is used by {count} options.",
            )
            for code, count in codes.items()
            if count > 1
        ]
        nei_options = 0
        for option in options:
            code = option["valueCoding"]["code"]
            weights = [extension(option, url) for url in WEIGHT_EXTENSIONS]
            present = [w for w in weights if w is not None]
            if len(present) > 1:
                problems.append(
                    Problem(
                        item["linkId"],
                        "one-weight",
                        f"the answer {code!r} has both ordinalValue and itemWeight; give one.",
                    )
                )
            if extension(option, EXT_NOT_ENOUGH_INFORMATION) is not None:
                nei_options += 1
                if any(Decimal(str(w["valueDecimal"])) != 0 for w in present):
                    problems.append(
                        Problem(
                            item["linkId"],
                            "not-enough-information-option",
                            f"the 'not enough information' answer {code!r} must weigh 0.",
                        )
                    )
        if nei_options > 1:
            problems.append(
                Problem(
                    item["linkId"],
                    "not-enough-information-option",
                    "an item has at most one 'not enough information' answer.",
                )
            )
    return problems


def _enable_when_problems(document: dict[str, Any]) -> list[Problem]:
    problems = []
    order = [item["linkId"] for item in _walk(document["item"])]
    by_id = {item["linkId"]: item for item in _walk(document["item"])}
    for position, link_id in enumerate(order):
        item = by_id[link_id]
        conditions = item.get("enableWhen", [])
        if len(conditions) > 1 and "enableBehavior" not in item:
            problems.append(
                Problem(
                    link_id,
                    "enable-behavior",
                    "with more than one enableWhen, say enableBehavior 'all' or 'any'.",
                )
            )
        for when in conditions:
            question = when["question"]
            target = by_id.get(question)
            if target is None:
                problems.append(
                    Problem(
                        link_id,
                        "enable-when-target",
                        f"enableWhen refers to {question!r}, which is not an item here.",
                    )
                )
                continue
            if target["type"] != "choice":
                problems.append(
                    Problem(
                        link_id,
                        "enable-when-target",
                        f"enableWhen refers to {question!r}, which is not a question.",
                    )
                )
                continue
            if order.index(question) >= position:
                problems.append(
                    Problem(
                        link_id,
                        "enable-when-order",
                        f"enableWhen refers to {question!r}, which does not come before this "
                        "item; skip logic may only depend on earlier questions.",
                    )
                )
            operator = when["operator"]
            expected = SUPPORTED_OPERATORS.get(operator)
            if expected is None:
                problems.append(
                    Problem(
                        link_id,
                        "enable-when-operator",
                        f"the operator {operator!r} is not supported; use exists, = or !=.",
                    )
                )
                continue
            if expected not in when:
                problems.append(
                    Problem(
                        link_id,
                        "enable-when-operator",
                        f"the operator {operator!r} needs {expected}.",
                    )
                )
                continue
            if expected == "answerCoding":
                code = when["answerCoding"]["code"]
                codes = {option["valueCoding"]["code"] for option in target["answerOption"]}
                if code not in codes:
                    problems.append(
                        Problem(
                            link_id,
                            "enable-when-answer",
                            f"enableWhen compares {question!r} with {code!r}, which is not one "
                            "of its answers.",
                        )
                    )
    return problems


def _information_problems(document: dict[str, Any]) -> list[Problem]:
    info = sub_values(extension(document, EXT_INFORMATION))
    problems = [
        Problem(None, "information-required", f"instrument-information needs {name!r}.")
        for name in ("validated", "citation", "completedBy", "caution")
        if name not in info
    ]
    figures = [
        name for name in ("sensitivity", "specificity", "validationPopulation") if name in info
    ]
    if info.get("validated") is True:
        missing = {"sensitivity", "specificity", "validationPopulation"} - set(figures)
        if missing:
            problems.append(
                Problem(
                    None,
                    "validated-figures",
                    "a validated instrument states its sensitivity, specificity and the "
                    f"population it was validated in; missing: {', '.join(sorted(missing))}.",
                )
            )
    elif info.get("validated") is False and figures:
        problems.append(
            Problem(
                None,
                "validated-figures",
                "an instrument marked not validated cannot carry validation figures "
                f"({', '.join(figures)}).",
            )
        )
    if "ageMin" in info and "ageMax" in info and info["ageMin"] > info["ageMax"]:
        problems.append(Problem(None, "age-range", "ageMin is greater than ageMax."))
    return problems


def _translation_problems(document: dict[str, Any]) -> list[Problem]:
    texts = all_texts(document)
    info_ext = extension(document, EXT_INFORMATION) or {}
    caution = next((s for s in info_ext.get("extension", []) if s.get("url") == "caution"), None)
    per_text: list[tuple[str | None, str, set[str]]] = [
        (link_id, key, set(translations(holder.get("_" + key)))) for link_id, holder, key in texts
    ]
    if caution is not None:
        per_text.append((None, "caution", set(translations(caution.get("_valueString")))))
    languages = set().union(*(langs for _l, _k, langs in per_text)) - {BASE_LANGUAGE}
    problems = []
    for language in sorted(languages):
        for link_id, key, langs in per_text:
            if language not in langs:
                problems.append(
                    Problem(
                        link_id,
                        "translation-complete",
                        f"the {key} has no {language!r} translation, while other texts do; "
                        "translate every text or none.",
                    )
                )
    return problems


def _check_thresholds(
    link_id: str | None, thresholds: Thresholds, maximum: Decimal
) -> list[Problem]:
    problems = []
    if (
        thresholds.possible is not None
        and thresholds.clear is not None
        and thresholds.possible >= thresholds.clear
    ):
        problems.append(
            Problem(
                link_id,
                "thresholds-ordered",
                f"possibleConcernAt ({thresholds.possible}) must be below clearConcernAt "
                f"({thresholds.clear}).",
            )
        )
    for name, value in (
        ("possibleConcernAt", thresholds.possible),
        ("clearConcernAt", thresholds.clear),
    ):
        if value is not None and value > maximum:
            problems.append(
                Problem(
                    link_id,
                    "threshold-reachable",
                    f"{name} is {value}, but the highest possible score is {maximum}.",
                )
            )
    return problems


def _scoring_problems(document: dict[str, Any], definition: Definition) -> list[Problem]:
    problems = []
    scoring = sub_values(extension(document, EXT_SCORING))
    if "method" not in scoring:
        problems.append(Problem(None, "scoring-method", "the scoring extension needs 'method'."))
    problems += _check_thresholds(None, definition.thresholds, definition.max_score())
    for domain in definition.domains:
        problems += _check_thresholds(
            domain.link_id, domain.thresholds, definition.max_score(domain)
        )
    if not definition.thresholds.any and not any(d.thresholds.any for d in definition.domains):
        problems.append(
            Problem(
                None,
                "has-thresholds",
                "no threshold: give possibleConcernAt or clearConcernAt for the instrument or a "
                "domain.",
            )
        )
    if not any(item.is_scored for item in definition.questions):
        problems.append(
            Problem(None, "has-weights", "no answer carries a weight above 0, so nothing scores.")
        )
    rule = scoring.get("notEnoughInformationRule")
    has_max = "notEnoughInformationMax" in scoring
    if rule == NEI_AT_MOST and not has_max:
        problems.append(
            Problem(
                None,
                "not-enough-information-rule",
                "the rule 'at-most' needs notEnoughInformationMax.",
            )
        )
    if has_max and rule != NEI_AT_MOST:
        problems.append(
            Problem(
                None,
                "not-enough-information-rule",
                "notEnoughInformationMax applies only with notEnoughInformationRule 'at-most'.",
            )
        )
    if rule == NEI_AT_MOST and not any(
        option.not_enough_information for item in definition.questions for option in item.options
    ):
        problems.append(
            Problem(
                None,
                "not-enough-information-rule",
                "the rule 'at-most' needs at least one 'not enough information' answer option.",
            )
        )
    return problems
