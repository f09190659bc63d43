"""An instrument as the scoring engine and the pages see it, parsed from its FHIR Questionnaire.

The Questionnaire JSON is the instrument (stored as imported, given back on export); this module
reads it into small frozen dataclasses. It assumes a document that ``validation.validate`` has
accepted. Pure Python: no database, no Django models.

Extensions read here (docs/screening.md describes each):

- ``http://hl7.org/fhir/StructureDefinition/ordinalValue`` (FHIR R4) or
  ``http://hl7.org/fhir/StructureDefinition/itemWeight`` (SDC / R5) on an ``answerOption``: the
  answer's weight. An option without one weighs 0.
- ``http://hl7.org/fhir/StructureDefinition/translation`` on ``_text``, ``_title``, ``_display``
  and ``_valueString``: the text in another language.
- Ours, under ``https://safeharbor.example/fhir/StructureDefinition/``: ``scoring`` (on the
  Questionnaire: method, thresholds, the not-enough-information rule; on a group: the domain's own
  thresholds), ``instrument-information`` (validation status and figures, citation, ages, who fills
  it in, the caution) and ``not-enough-information`` (marks the answer option that means "not
  enough information").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

FHIR_ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
FHIR_ITEM_WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"
FHIR_TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
WEIGHT_EXTENSIONS = (FHIR_ORDINAL_VALUE, FHIR_ITEM_WEIGHT)

# Our extensions. The base must never change once instruments carry it; see docs/screening.md.
EXTENSION_BASE = "https://safeharbor.example/fhir/StructureDefinition/"
EXT_SCORING = EXTENSION_BASE + "scoring"
EXT_INFORMATION = EXTENSION_BASE + "instrument-information"
EXT_NOT_ENOUGH_INFORMATION = EXTENSION_BASE + "not-enough-information"
EXT_SCREENING_CONTEXT = EXTENSION_BASE + "screening-context"
EXT_SCREENING_RESULT = EXTENSION_BASE + "screening-result"

BASE_LANGUAGE = "en"
NEI_SCORE_AS_ZERO = "score-as-zero"
NEI_AT_MOST = "at-most"


def extension(holder: dict[str, Any], url: str) -> dict[str, Any] | None:
    """The first extension with ``url`` on ``holder``, or None."""
    for ext in holder.get("extension", []):
        if isinstance(ext, dict) and ext.get("url") == url:
            return ext
    return None


def sub_values(ext: dict[str, Any] | None) -> dict[str, Any]:
    """A complex extension's sub-extensions as {url: value}; ``_valueString`` kept as ``url_``."""
    values: dict[str, Any] = {}
    for sub in (ext or {}).get("extension", []):
        for key, value in sub.items():
            if key.startswith("value"):
                values[sub["url"]] = value
            elif key == "_valueString":
                values[sub["url"] + "_"] = value
    return values


def translations(holder: dict[str, Any] | None) -> dict[str, str]:
    """{language: text} from a primitive's ``_element`` holding translation extensions."""
    result: dict[str, str] = {}
    for ext in (holder or {}).get("extension", []):
        if ext.get("url") != FHIR_TRANSLATION:
            continue
        parts = {sub.get("url"): sub for sub in ext.get("extension", [])}
        lang = parts.get("lang", {}).get("valueCode")
        content = parts.get("content", {}).get("valueString")
        if lang and content:
            result[lang] = content
    return result


@dataclass(frozen=True)
class Text:
    """A text in the base language (English) and its translations."""

    base: str
    translated: dict[str, str] = field(default_factory=dict)

    def in_language(self, language: str) -> str:
        return self.translated.get(language, self.base)

    @classmethod
    def of(cls, obj: dict[str, Any], key: str) -> Text:
        return cls(base=obj.get(key, ""), translated=translations(obj.get("_" + key)))


@dataclass(frozen=True)
class Thresholds:
    """Scores at which a concern level starts (inclusive); None where the level is not used."""

    possible: Decimal | None = None
    clear: Decimal | None = None

    @property
    def any(self) -> bool:
        return self.possible is not None or self.clear is not None


@dataclass(frozen=True)
class Option:
    code: str
    system: str
    display: Text
    weight: Decimal
    not_enough_information: bool


@dataclass(frozen=True)
class Condition:
    """One ``enableWhen``: ``question`` ``operator`` (``exists``, ``=``, ``!=``) an answer."""

    question: str
    operator: str
    answer_code: str | None = None
    answer_exists: bool | None = None


@dataclass(frozen=True)
class Item:
    """A question (``choice``) or a text shown without an answer (``display``)."""

    link_id: str
    kind: str  # "choice" or "display"
    text: Text
    prefix: str
    domain: str
    options: tuple[Option, ...]
    conditions: tuple[Condition, ...]
    enable_behavior: str

    def __post_init__(self) -> None:
        # Looked up for every answer of every screening scored: a dict, built once.
        object.__setattr__(self, "_by_code", {option.code: option for option in self.options})

    @property
    def is_question(self) -> bool:
        return self.kind == "choice"

    @property
    def is_scored(self) -> bool:
        return any(option.weight > 0 for option in self.options)

    def option(self, code: str) -> Option | None:
        found: Option | None = self.__dict__["_by_code"].get(code)
        return found


@dataclass(frozen=True)
class Domain:
    """A top-level group: one step of the form, scored on its own where it has thresholds."""

    link_id: str
    text: Text
    items: tuple[Item, ...]
    conditions: tuple[Condition, ...]
    enable_behavior: str
    thresholds: Thresholds


@dataclass(frozen=True)
class Information:
    validated: bool
    sensitivity: Decimal | None
    specificity: Decimal | None
    validation_population: str
    citation: str
    age_min: int | None
    age_max: int | None
    completed_by: str
    caution: Text


@dataclass(frozen=True)
class Definition:
    """Everything the engine and the pages need from one instrument version."""

    url: str
    version: str
    name: str
    title: Text
    publisher: str
    copyright: str
    domains: tuple[Domain, ...]
    thresholds: Thresholds
    nei_rule: str
    nei_max: int | None
    information: Information
    languages: tuple[str, ...]

    @property
    def canonical(self) -> str:
        return f"{self.url}|{self.version}"

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(item for domain in self.domains for item in domain.items)

    @property
    def questions(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.is_question)

    def item(self, link_id: str) -> Item | None:
        return self._by_link_id().get(link_id)

    def domain_of(self, link_id: str) -> Domain | None:
        return next((d for d in self.domains if d.link_id == link_id), None)

    def _by_link_id(self) -> dict[str, Item]:
        cached: dict[str, Item] | None = self.__dict__.get("_index")
        if cached is None:
            cached = {item.link_id: item for item in self.items}
            object.__setattr__(self, "_index", cached)
        return cached

    def max_score(self, domain: Domain | None = None) -> Decimal:
        items = domain.items if domain else self.items
        return sum(
            (max((o.weight for o in item.options), default=Decimal(0)) for item in items),
            Decimal(0),
        )


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value))


def _thresholds(holder: dict[str, Any]) -> Thresholds:
    values = sub_values(extension(holder, EXT_SCORING))
    possible = values.get("possibleConcernAt")
    clear = values.get("clearConcernAt")
    return Thresholds(
        possible=_decimal(possible) if possible is not None else None,
        clear=_decimal(clear) if clear is not None else None,
    )


def _conditions(obj: dict[str, Any]) -> tuple[Condition, ...]:
    return tuple(
        Condition(
            question=when["question"],
            operator=when["operator"],
            answer_code=(when.get("answerCoding") or {}).get("code"),
            answer_exists=when.get("answerBoolean"),
        )
        for when in obj.get("enableWhen", [])
    )


def _option(raw: dict[str, Any]) -> Option:
    weight = Decimal(0)
    for url in WEIGHT_EXTENSIONS:
        ext = extension(raw, url)
        if ext is not None:
            weight = _decimal(ext["valueDecimal"])
    coding = raw["valueCoding"]
    return Option(
        code=coding["code"],
        system=coding.get("system", ""),
        display=Text.of(coding, "display") if "display" in coding else Text(coding["code"]),
        weight=weight,
        not_enough_information=extension(raw, EXT_NOT_ENOUGH_INFORMATION) is not None,
    )


def _item(raw: dict[str, Any], domain: str) -> Item:
    return Item(
        link_id=raw["linkId"],
        kind=raw["type"],
        text=Text.of(raw, "text"),
        prefix=raw.get("prefix", ""),
        domain=domain,
        options=tuple(_option(option) for option in raw.get("answerOption", [])),
        conditions=_conditions(raw),
        enable_behavior=raw.get("enableBehavior", "all"),
    )


def all_texts(document: dict[str, Any]) -> list[tuple[str | None, dict[str, Any], str]]:
    """Every translatable text: (linkId or None, the object holding it, the key)."""
    found: list[tuple[str | None, dict[str, Any], str]] = [(None, document, "title")]

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            if "text" in item:
                found.append((item["linkId"], item, "text"))
            for option in item.get("answerOption", []):
                coding = option.get("valueCoding", {})
                if "display" in coding:
                    found.append((item["linkId"], coding, "display"))
            walk(item.get("item", []))

    walk(document.get("item", []))
    return found


def languages_of(document: dict[str, Any]) -> tuple[str, ...]:
    """English, then every language that the title carries a translation for."""
    others = sorted(translations(document.get("_title")))
    return (BASE_LANGUAGE, *[lang for lang in others if lang != BASE_LANGUAGE])


def parse(document: dict[str, Any]) -> Definition:
    """Read a validated Questionnaire into a ``Definition``."""
    domains = []
    for group in document["item"]:
        domains.append(
            Domain(
                link_id=group["linkId"],
                text=Text.of(group, "text"),
                items=tuple(_item(child, group["linkId"]) for child in group.get("item", [])),
                conditions=_conditions(group),
                enable_behavior=group.get("enableBehavior", "all"),
                thresholds=_thresholds(group),
            )
        )
    scoring = sub_values(extension(document, EXT_SCORING))
    info = sub_values(extension(document, EXT_INFORMATION))
    return Definition(
        url=document["url"],
        version=document["version"],
        name=document["name"],
        title=Text.of(document, "title"),
        publisher=document.get("publisher", ""),
        copyright=document.get("copyright", ""),
        domains=tuple(domains),
        thresholds=_thresholds(document),
        nei_rule=scoring.get("notEnoughInformationRule", NEI_SCORE_AS_ZERO),
        nei_max=scoring.get("notEnoughInformationMax"),
        information=Information(
            validated=bool(info.get("validated")),
            sensitivity=_decimal(info["sensitivity"]) if "sensitivity" in info else None,
            specificity=_decimal(info["specificity"]) if "specificity" in info else None,
            validation_population=info.get("validationPopulation", ""),
            citation=info.get("citation", ""),
            age_min=info.get("ageMin"),
            age_max=info.get("ageMax"),
            completed_by=info.get("completedBy", "either"),
            caution=Text(info.get("caution", ""), translations(info.get("caution_"))),
        ),
        languages=languages_of(document),
    )
