"""Safe Harbor's own published HSDS taxonomy: what HSDS 3.0 lacks, as terms.

URI: ``urn:x-safeharbor:hsds-taxonomy:1`` (term URIs append ``:<code>``). The taxonomy and its
terms are served by our HSDS API (``/api/hsds/taxonomies/``, ``/api/hsds/taxonomy_terms/``) and
described in ``docs/directory.md``. Every id is a UUID 5 of the URI, so the ids are the same in
every installation and in every export.

- Features of a service (attributes on a service): serves sexually exploited youth,
  trauma-informed, 24/7 crisis response, accepts minors without a guardian's consent.
- Genders a service is for (attributes on a service; none means everyone).
- Needs (children of the ``need`` term): what a youth is looking for.
- ``capacity`` (an attribute on a service; the value is JSON ``{"available", "maximum", "unit",
  "updated"}`` after the HSDS 3.1 draft's capacity object).
- ``confidential-location`` (an attribute on a location; the value is the "call to arrange"
  note). Its presence is what tells another system to keep the location's address private.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .choices import Gender
from .models import Taxonomy, TaxonomyTerm

URI = "urn:x-safeharbor:hsds-taxonomy:1"
TAXONOMY_ID = uuid.uuid5(uuid.NAMESPACE_URL, URI)
VERSION = "1"


def term_id(code: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{URI}:{code}")


@dataclass(frozen=True)
class Term:
    code: str
    name: str
    description: str
    parent: str = ""
    label: Promise | str = ""  # what our pages show (translated)

    @property
    def id(self) -> uuid.UUID:
        return term_id(self.code)


EXPLOITED_YOUTH = "serves-sexually-exploited-youth"
TRAUMA_INFORMED = "trauma-informed"
CRISIS_24_7 = "crisis-response-24-7"
MINORS_WITHOUT_CONSENT = "minors-without-guardian-consent"
CAPACITY = "capacity"
CONFIDENTIAL_LOCATION = "confidential-location"
NEED = "need"
GENDER = "gender"

FEATURES = (
    Term(
        EXPLOITED_YOUTH,
        "Serves sexually exploited youth",
        "The service is specialised in supporting children and youth who are sexually "
        "exploited or at risk of it.",
        label=_("Specialised in supporting exploited youth"),
    ),
    Term(
        TRAUMA_INFORMED,
        "Trauma-informed",
        "Staff are trained in and practise trauma-informed care.",
        label=_("Trauma-informed"),
    ),
    Term(
        CRISIS_24_7,
        "24/7 crisis response",
        "Answers a crisis at any hour, every day of the year.",
        label=_("24/7 crisis response"),
    ),
    Term(
        MINORS_WITHOUT_CONSENT,
        "Accepts minors without a guardian's consent",
        "Serves youth under 18 without a parent's or guardian's consent, as the law allows.",
        label=_("Serves minors without a guardian's consent"),
    ),
)
GENDERS = (
    Term(GENDER, "Gender served", "The genders a service is for; none means everyone."),
    Term(
        f"{GENDER}-{Gender.FEMALE}",
        "Girls and young women",
        "The service is for girls and young women.",
        GENDER,
        Gender.FEMALE.label,
    ),
    Term(
        f"{GENDER}-{Gender.MALE}",
        "Boys and young men",
        "The service is for boys and young men.",
        GENDER,
        Gender.MALE.label,
    ),
    Term(
        f"{GENDER}-{Gender.NONBINARY}",
        "Transgender and nonbinary youth",
        "The service is for transgender and nonbinary youth.",
        GENDER,
        Gender.NONBINARY.label,
    ),
)
NEEDS = (
    Term(NEED, "Need", "What a young person is looking for."),
    Term("need-shelter", "Shelter", "A safe place to stay tonight or longer.", NEED, _("Shelter")),
    Term(
        "need-housing",
        "Housing",
        "Transitional or longer-term housing.",
        NEED,
        _("Housing"),
    ),
    Term(
        "need-crisis",
        "Crisis support",
        "Immediate help in a crisis.",
        NEED,
        _("Crisis support"),
    ),
    Term(
        "need-counseling",
        "Counseling",
        "Counseling and therapy.",
        NEED,
        _("Counseling"),
    ),
    Term(
        "need-medical",
        "Medical care",
        "Health care, sexual health and clinics.",
        NEED,
        _("Medical care"),
    ),
    Term("need-legal", "Legal help", "Legal advice and advocacy.", NEED, _("Legal help")),
    Term("need-food", "Food", "Meals and groceries.", NEED, _("Food")),
    Term(
        "need-education",
        "Education",
        "School enrolment, tutoring and education support.",
        NEED,
        _("Education"),
    ),
    Term(
        "need-employment",
        "Jobs and training",
        "Job training and employment support.",
        NEED,
        _("Jobs and training"),
    ),
    Term(
        "need-substance-use",
        "Substance use support",
        "Support with drug and alcohol use.",
        NEED,
        _("Substance use support"),
    ),
    Term(
        "need-mentoring",
        "Mentoring",
        "Survivor mentors and peer support.",
        NEED,
        _("Mentoring"),
    ),
    Term(
        "need-case-management",
        "Case management",
        "Someone to help coordinate services.",
        NEED,
        _("Case management"),
    ),
)
OTHER = (
    Term(
        CAPACITY,
        "Current capacity",
        'How much of the service is free now. The attribute value is JSON: {"available": '
        'integer, "maximum": integer or null, "unit": text, "updated": date-time}, after the '
        "HSDS 3.1 draft's capacity object.",
    ),
    Term(
        CONFIDENTIAL_LOCATION,
        "Confidential location",
        "The location's address must never be published (a safe house or shelter). The "
        "attribute value says how to arrange a visit.",
    ),
)
TERMS = FEATURES + GENDERS + NEEDS + OTHER
BY_CODE = {t.code: t for t in TERMS}
NEED_TERMS = tuple(t for t in NEEDS if t.parent == NEED)
GENDER_TERMS = tuple(t for t in GENDERS if t.parent == GENDER)


def term_uri(code: str) -> str:
    return f"{URI}:{code}"


@transaction.atomic
def ensure_taxonomy() -> None:
    """Create or refresh our taxonomy and its terms (idempotent; ids never change)."""
    Taxonomy.objects.update_or_create(
        id=TAXONOMY_ID,
        defaults={
            "name": "Safe Harbor",
            "description": "Safe Harbor's terms for what HSDS 3.0 lacks: services for sexually "
            "exploited youth, their features, capacity and confidential locations.",
            "uri": URI,
            "version": VERSION,
        },
    )
    for term in TERMS:
        TaxonomyTerm.objects.update_or_create(
            id=term.id,
            defaults={
                "code": term.code,
                "name": term.name,
                "description": term.description,
                "parent_id": term_id(term.parent) if term.parent else None,
                "taxonomy": "Safe Harbor",
                "language": "en",
                "vocabulary_id": TAXONOMY_ID,
                "term_uri": term_uri(term.code),
            },
        )
