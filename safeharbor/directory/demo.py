"""A synthetic California resource directory, for the demo and the benchmarks.

Services of realistic kinds (shelters, drop-in centres, clinics, counselling, legal help, crisis
lines...) at real California ZIP code centroids (the ``zipcodes`` package, offline), with
schedules, languages, costs, age eligibility, genders served, our taxonomy's features and, for
residential services, capacity. Some shelters are confidential locations. Organisation names,
street addresses and phone numbers (555.01xx) are fictional. Deterministic for a seed.

The generator produces HSDS 3.0 service objects (the JSON import form), so the demo and the
benchmark load through the real importer.
"""

from __future__ import annotations

import datetime
import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from safeharbor.core import clock
from safeharbor.core.demo import people

from . import importer, search, taxonomy
from .choices import Gender

STREETS = (
    "Oak",
    "Maple",
    "Cedar",
    "Mission",
    "Harbor",
    "Sunset",
    "Valley",
    "Pine",
    "Lincoln",
    "Canyon",
    "Orchard",
    "Vista",
    "Willow",
    "Juniper",
    "Sierra",
)
STREET_KINDS = ("St", "Ave", "Blvd", "Way", "Rd", "Ln")
ORG_WORDS = (
    "Harborlight",
    "Bright Path",
    "Open Door",
    "Safe Passage",
    "New Dawn",
    "Golden Bridge",
    "Northstar",
    "Wildflower",
    "Cornerstone",
    "Lantern",
    "Redwood",
    "Tidewater",
    "Sunrise",
    "Keystone",
    "Compass Rose",
    "Riverbend",
)
ORG_KINDS = (
    "Youth Services",
    "Family Center",
    "Community Alliance",
    "Youth Network",
    "Health Collective",
    "Advocacy Project",
)
OTHER_LANGUAGES = (("zh", "Chinese"), ("vi", "Vietnamese"), ("tl", "Tagalog"), ("ko", "Korean"))
WEEKDAYS = "MO,TU,WE,TH,FR"
ALL_DAYS = "MO,TU,WE,TH,FR,SA,SU"


@dataclass(frozen=True)
class Kind:
    name: str
    description: str
    needs: tuple[str, ...]
    features: dict[str, float]  # our feature term -> probability
    ages: tuple[int | None, int | None]
    free: float
    hours: str  # "24/7", "weekdays", "evenings", "weekend"
    capacity_unit: str = ""
    confidential: float = 0.0
    genders: tuple[str, ...] = ()


KINDS = (
    Kind(
        "Youth Emergency Shelter",
        "Short-term emergency shelter for youth who have run away or have nowhere safe to "
        "stay. Beds, meals, showers and a caring adult, with help to plan the next step.",
        ("need-shelter", "need-crisis", "need-food"),
        {
            taxonomy.EXPLOITED_YOUTH: 0.5,
            taxonomy.TRAUMA_INFORMED: 0.8,
            taxonomy.CRISIS_24_7: 0.9,
            taxonomy.MINORS_WITHOUT_CONSENT: 0.6,
        },
        (12, 17),
        0.95,
        "24/7",
        "beds",
        0.35,
    ),
    Kind(
        "Safe House for Exploited Youth",
        "A specialised residential program for children and youth who have been sexually "
        "exploited or trafficked: safety, survivor mentors, therapy and school support.",
        ("need-shelter", "need-housing", "need-counseling", "need-mentoring"),
        {
            taxonomy.EXPLOITED_YOUTH: 1.0,
            taxonomy.TRAUMA_INFORMED: 1.0,
            taxonomy.CRISIS_24_7: 0.7,
            taxonomy.MINORS_WITHOUT_CONSENT: 0.3,
        },
        (11, 17),
        1.0,
        "24/7",
        "beds",
        1.0,
        (Gender.FEMALE,),
    ),
    Kind(
        "Drop-in Center",
        "A drop-in centre for youth: hot meals, laundry, showers, phone charging, case "
        "management and referrals, no appointment needed.",
        ("need-food", "need-case-management"),
        {taxonomy.TRAUMA_INFORMED: 0.6, taxonomy.EXPLOITED_YOUTH: 0.3},
        (12, 24),
        1.0,
        "weekdays",
    ),
    Kind(
        "Trauma Counseling",
        "Individual and group counseling with therapists trained in trauma-focused "
        "cognitive behavioural therapy for children, youth and families.",
        ("need-counseling",),
        {taxonomy.TRAUMA_INFORMED: 1.0, taxonomy.EXPLOITED_YOUTH: 0.4},
        (5, 24),
        0.6,
        "weekdays",
    ),
    Kind(
        "Teen Health Clinic",
        "Confidential health care for teens: sexual and reproductive health, testing, "
        "vaccines and mental health screening. Minors can consent to their own care.",
        ("need-medical",),
        {taxonomy.MINORS_WITHOUT_CONSENT: 0.9, taxonomy.TRAUMA_INFORMED: 0.5},
        (12, 21),
        0.8,
        "weekdays",
    ),
    Kind(
        "Youth Legal Advocacy",
        "Free legal advice and advocacy for youth: vacating records, immigration relief "
        "for survivors (T and U visas), juvenile court and school discipline.",
        ("need-legal",),
        {taxonomy.EXPLOITED_YOUTH: 0.5, taxonomy.TRAUMA_INFORMED: 0.5},
        (12, 25),
        1.0,
        "weekdays",
    ),
    Kind(
        "Crisis Line",
        "A crisis line answered by trained counselors at any hour: talk, text or chat. "
        "Safety planning and connection to emergency shelter.",
        ("need-crisis", "need-counseling"),
        {taxonomy.CRISIS_24_7: 1.0, taxonomy.TRAUMA_INFORMED: 0.7, taxonomy.EXPLOITED_YOUTH: 0.3},
        (None, None),
        1.0,
        "24/7",
    ),
    Kind(
        "Transitional Housing",
        "Transitional housing for young adults leaving foster care or homelessness, with "
        "life-skills coaching, education and job support for up to 24 months.",
        ("need-housing", "need-case-management"),
        {taxonomy.TRAUMA_INFORMED: 0.7, taxonomy.EXPLOITED_YOUTH: 0.3},
        (18, 24),
        0.7,
        "weekdays",
        "apartments",
        0.2,
    ),
    Kind(
        "Survivor Mentoring",
        "Survivor-led mentoring and peer support groups for youth who have experienced "
        "commercial sexual exploitation.",
        ("need-mentoring", "need-case-management"),
        {taxonomy.EXPLOITED_YOUTH: 1.0, taxonomy.TRAUMA_INFORMED: 1.0},
        (12, 24),
        1.0,
        "evenings",
    ),
    Kind(
        "Substance Use Program",
        "Outpatient substance use treatment and harm reduction for adolescents, with "
        "family sessions and relapse prevention.",
        ("need-substance-use", "need-counseling"),
        {taxonomy.TRAUMA_INFORMED: 0.6},
        (12, 21),
        0.5,
        "weekdays",
    ),
    Kind(
        "Job Training",
        "Paid job training, internships and résumé help for youth and young adults.",
        ("need-employment", "need-education"),
        {},
        (16, 24),
        1.0,
        "weekdays",
    ),
    Kind(
        "Tutoring and School Support",
        "Tutoring, credit recovery and help enrolling in school, for youth who have missed school.",
        ("need-education",),
        {taxonomy.TRAUMA_INFORMED: 0.3},
        (6, 18),
        1.0,
        "evenings",
    ),
)


def _zip_places() -> list[dict[str, Any]]:
    import zipcodes

    # The demo's fictional youth have invented family names; a town of the same name (Ferndale)
    # would read as a person's name at rest, so such towns are left out of the demo directory.
    invented = {
        first + second
        for first in people._FAMILY_FIRST  # noqa: SLF001
        for second in people._FAMILY_SECOND  # noqa: SLF001
    }
    return [
        z
        for z in zipcodes.filter_by(state="CA")
        if z.get("active")
        and z.get("lat")
        and z.get("zip_code_type") == "STANDARD"
        and z["city"].title() not in invented
    ]


class DirectoryGenerator:
    """Deterministic HSDS service objects for a seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311  (fictional demo data, not security)
        self.places = _zip_places()
        self.organizations: list[dict[str, Any]] = []
        self.now = clock.now().replace(minute=0, second=0, microsecond=0)

    def _id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _organization(self, place: dict[str, Any]) -> dict[str, Any]:
        if self.organizations and self.rng.random() < 0.7:
            return self.rng.choice(self.organizations[-50:])
        city = place["city"].title()
        name = f"{self.rng.choice(ORG_WORDS)} {self.rng.choice(ORG_KINDS)} of {city}"
        org = {
            "id": self._id(),
            "name": name,
            "description": f"A community organisation serving youth and families in "
            f"{place['county']}.",
            "email": "info@example.org",
            "website": "https://example.org",
        }
        self.organizations.append(org)
        return org

    def _schedules(self, kind: Kind, service_id: str) -> list[dict[str, Any]]:
        if kind.hours == "24/7":
            days, opens, closes = ALL_DAYS, "00:00:00", "23:59:59"
        elif kind.hours == "evenings":
            days, opens, closes = "MO,TU,WE,TH", "16:00:00", "20:00:00"
        else:
            opening = self.rng.choice(("08:00:00", "09:00:00", "10:00:00"))
            days, opens, closes = WEEKDAYS, opening, self.rng.choice(("17:00:00", "18:00:00"))
        return [
            {
                "id": self._id(),
                "service_id": service_id,
                "freq": "WEEKLY",
                "wkst": "MO",
                "byday": days,
                "opens_at": opens,
                "closes_at": closes,
                "description": "Open around the clock, every day."
                if kind.hours == "24/7"
                else f"Open {days.replace(',', ', ')} {opens[:5]}-{closes[:5]}.",
            }
        ]

    def service(self) -> dict[str, Any]:
        rng = self.rng
        kind = rng.choice(KINDS)
        place = rng.choice(self.places)
        org = self._organization(place)
        service_id, location_id = self._id(), self._id()
        lat = round(float(place["lat"]) + rng.uniform(-0.03, 0.03), 6)
        lon = round(float(place["long"]) + rng.uniform(-0.03, 0.03), 6)
        area = (place.get("area_codes") or ["559"])[0]
        confidential = rng.random() < kind.confidential
        location: dict[str, Any] = {
            "id": location_id,
            "location_type": "physical",
            "organization_id": org["id"],
            "name": f"{org['name'].split(' of ')[0]} {place['city'].title()}",
            "latitude": lat,
            "longitude": lon,
            "addresses": [
                {
                    "id": self._id(),
                    "location_id": location_id,
                    "address_1": f"{rng.randint(100, 9899)} {rng.choice(STREETS)} "
                    f"{rng.choice(STREET_KINDS)}",
                    "city": place["city"].title(),
                    "region": place["county"],
                    "state_province": "CA",
                    "postal_code": place["zip_code"],
                    "country": "US",
                    "address_type": "physical",
                }
            ],
        }
        attributes: list[dict[str, Any]] = []

        def attribute(link_id: str, entity: str, code: str, value: str = "") -> None:
            item = {
                "id": self._id(),
                "link_id": link_id,
                "link_entity": entity,
                "taxonomy_term_id": str(taxonomy.term_id(code)),
            }
            if value:
                item["value"] = value
            attributes.append(item)

        for need in kind.needs:
            attribute(service_id, "service", need)
        for code, probability in kind.features.items():
            if rng.random() < probability:
                attribute(service_id, "service", code)
        genders = kind.genders or ((rng.choice(list(Gender)),) if rng.random() < 0.1 else ())
        for gender in genders:
            attribute(service_id, "service", f"{taxonomy.GENDER}-{gender}")
        if confidential:
            location["attributes"] = [
                {
                    "id": self._id(),
                    "link_id": location_id,
                    "link_entity": "location",
                    "taxonomy_term_id": str(taxonomy.term_id(taxonomy.CONFIDENTIAL_LOCATION)),
                    "value": "Confidential location. Call the 24-hour line to arrange intake; "
                    "staff will meet you at a safe place.",
                }
            ]
        if kind.capacity_unit:
            maximum = rng.choice((6, 8, 12, 16, 24))
            updated = self.now - datetime.timedelta(hours=rng.randint(1, 24 * 20))
            value = {
                "available": rng.choice((0, 0, 1, 2, 3, maximum // 2)),
                "maximum": maximum,
                "unit": kind.capacity_unit,
                "updated": updated.isoformat(),
            }
            attribute(service_id, "service", taxonomy.CAPACITY, json.dumps(value, sort_keys=True))
        low, high = kind.ages
        languages = [{"id": self._id(), "service_id": service_id, "name": "English", "code": "en"}]
        if rng.random() < 0.6:
            languages.append(
                {"id": self._id(), "service_id": service_id, "name": "Spanish", "code": "es"}
            )
        if rng.random() < 0.1:
            code, name = rng.choice(OTHER_LANGUAGES)
            languages.append(
                {"id": self._id(), "service_id": service_id, "name": name, "code": code}
            )
        free = rng.random() < kind.free
        modified = self.now - datetime.timedelta(
            days=rng.randint(0, 400), minutes=rng.randint(0, 1440)
        )
        service: dict[str, Any] = {
            "id": service_id,
            "organization_id": org["id"],
            "name": f"{place['city'].title()} {kind.name}",
            "description": kind.description,
            "status": "active" if rng.random() < 0.97 else "temporarily closed",
            "eligibility_description": (
                f"Youth aged {low} to {high}." if low is not None else "Anyone, any age."
            ),
            "fees_description": "Free." if free else "Sliding scale; no one is turned away.",
            "last_modified": modified.astimezone(datetime.UTC).isoformat(),
            "organization": org,
            "phones": [
                {
                    "id": self._id(),
                    "service_id": service_id,
                    # 555-01xx is the fictional range; dotted, so that no directory number
                    # reads as a (dashed) demo youth's phone in the at-rest leak checks.
                    "number": f"{area}.555.01{rng.randint(0, 99):02d}",
                    "type": "voice",
                }
            ],
            "schedules": self._schedules(kind, service_id),
            "languages": languages,
            "cost_options": [
                {
                    "id": self._id(),
                    "service_id": service_id,
                    "option": "Free" if free else "Sliding scale",
                    "amount": 0 if free else rng.choice((10, 20, 40)),
                    "currency": "USD",
                }
            ],
            "service_areas": [
                {"id": self._id(), "service_id": service_id, "name": place["county"]}
            ],
            "service_at_locations": [
                {
                    "id": self._id(),
                    "service_id": service_id,
                    "location_id": location_id,
                    "location": location,
                }
            ],
            "attributes": attributes,
        }
        if low is not None:
            service["minimum_age"] = low
        if high is not None:
            service["maximum_age"] = high
        return service

    def services(self, count: int) -> Iterator[dict[str, Any]]:
        for _ in range(count):
            yield self.service()


def generate(*, seed: int, count: int) -> list[dict[str, Any]]:
    return list(DirectoryGenerator(seed).services(count))


def as_source(services: list[dict[str, Any]], name: str = "services.json") -> importer.Source:
    return importer.Source(name, json.dumps({"contents": services}).encode())


def seed_directory(
    *, seed: int = 7, services: int = 300, agencies: dict[str, Any] | None = None
) -> int:
    """Load a synthetic directory through the importer; link the demo's shelter and child
    welfare agencies to an organisation each, so their administrators can keep it up to date.
    Returns how many services were loaded."""
    from .models import Organization
    from .services import directory_import

    generated = generate(seed=seed, count=services)
    report = directory_import(
        actor=None, actor_label="seed_demo", json_sources=[(as_source(generated), "service")]
    )
    if not report.ok:
        raise RuntimeError("The generated directory did not import: " + str(report.errors[0]))
    for key, agency in (agencies or {}).items():
        if key not in ("shelter", "child_welfare"):
            continue
        organization = Organization.objects.filter(agency__isnull=True).order_by("name").first()
        if organization is not None:
            organization.name = agency.name
            organization.agency = agency
            organization.save(update_fields=["name", "agency", "updated_at"])
            search.reindex(organization.services.values_list("pk", flat=True))
    return report.services
