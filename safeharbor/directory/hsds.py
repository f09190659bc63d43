"""HSDS 3.0 objects <-> our models: the entity table and the public serialisers.

``ENTITIES`` says, for every HSDS object we keep, its model, CSV file, schema, scalar fields (in
the order of the official ``datapackage.json``), the foreign keys the datapackage declares, and
how it nests in the JSON form. The importer, the exporters and the HSDS API all use it.

The serialisers here are the only way a directory object leaves the server (exports, the HSDS
API): they are where a confidential location loses its address, coordinates and every other
detail that could place it (``public_location_fields``), and where our own columns become
attributes under our taxonomy (capacity, the confidential flag).
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from django.db import models

from . import taxonomy
from .models import (
    Accessibility,
    Address,
    Attribute,
    Capacity,
    Contact,
    CostOption,
    Funding,
    Language,
    Location,
    Organization,
    OrganizationIdentifier,
    Phone,
    Program,
    RequiredDocument,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)


@dataclass(frozen=True)
class Entity:
    name: str
    model: type[models.Model]
    csv: str
    fields: tuple[str, ...]
    # Foreign keys the datapackage declares: field -> entity. Checked for dangling references.
    refs: dict[str, str] = field(default_factory=dict)
    # HSDS field -> model attribute, where they differ.
    attnames: dict[str, str] = field(default_factory=dict)
    # Nested arrays: JSON key -> (child entity, the child's field that points back here).
    children: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Nested single objects: JSON key -> (entity, the field of *this* object holding its id).
    singles: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def schema(self) -> str:
        return f"{self.name}.json"

    def attname(self, hsds_field: str) -> str:
        return self.attnames.get(hsds_field, hsds_field)

    def required_refs(self) -> set[str]:
        """Reference fields our model cannot leave empty (the row cannot stand without them)."""
        required = set()
        for hsds_field in self.refs:
            model_field = cast(models.Field, self.model._meta.get_field(self.attname(hsds_field)))
            if not model_field.null:
                required.add(hsds_field)
        return required


_ATTRS = {"attributes": ("attribute", "link_id")}

ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            "taxonomy",
            Taxonomy,
            "taxonomies.csv",
            ("id", "name", "description", "uri", "version"),
        ),
        Entity(
            "taxonomy_term",
            TaxonomyTerm,
            "taxonomy_terms.csv",
            (
                "id",
                "code",
                "name",
                "description",
                "parent_id",
                "taxonomy",
                "language",
                "taxonomy_id",
                "term_uri",
            ),
            refs={"taxonomy_id": "taxonomy"},
            attnames={"taxonomy_id": "vocabulary_id"},
            singles={"taxonomy_detail": ("taxonomy", "taxonomy_id")},
        ),
        Entity(
            "organization",
            Organization,
            "organizations.csv",
            (
                "id",
                "name",
                "alternate_name",
                "description",
                "email",
                "website",
                "tax_status",
                "tax_id",
                "year_incorporated",
                "legal_status",
                "logo",
                "uri",
                "parent_organization_id",
            ),
            children={
                "funding": ("funding", "organization_id"),
                "contacts": ("contact", "organization_id"),
                "phones": ("phone", "organization_id"),
                "locations": ("location", "organization_id"),
                "programs": ("program", "organization_id"),
                "organization_identifiers": ("organization_identifier", "organization_id"),
                "services": ("service", "organization_id"),
                **_ATTRS,
            },
        ),
        Entity(
            "program",
            Program,
            "programs.csv",
            ("id", "organization_id", "name", "alternate_name", "description"),
            refs={"organization_id": "organization"},
            children=dict(_ATTRS),
        ),
        Entity(
            "service",
            Service,
            "services.csv",
            (
                "id",
                "organization_id",
                "program_id",
                "name",
                "alternate_name",
                "description",
                "url",
                "email",
                "status",
                "interpretation_services",
                "application_process",
                "fees_description",
                "wait_time",
                "fees",
                "accreditations",
                "eligibility_description",
                "minimum_age",
                "maximum_age",
                "assured_date",
                "assurer_email",
                "licenses",
                "alert",
                "last_modified",
            ),
            refs={"organization_id": "organization", "program_id": "program"},
            children={
                "phones": ("phone", "service_id"),
                "schedules": ("schedule", "service_id"),
                "service_areas": ("service_area", "service_id"),
                "service_at_locations": ("service_at_location", "service_id"),
                "languages": ("language", "service_id"),
                "funding": ("funding", "service_id"),
                "cost_options": ("cost_option", "service_id"),
                "required_documents": ("required_document", "service_id"),
                "contacts": ("contact", "service_id"),
                **_ATTRS,
            },
            singles={
                "organization": ("organization", "organization_id"),
                "program": ("program", "program_id"),
            },
        ),
        Entity(
            "location",
            Location,
            "locations.csv",
            (
                "id",
                "location_type",
                "url",
                "organization_id",
                "name",
                "alternate_name",
                "description",
                "transportation",
                "latitude",
                "longitude",
                "external_identifier",
                "external_identifier_type",
            ),
            refs={"organization_id": "organization"},
            children={
                "languages": ("language", "location_id"),
                "addresses": ("address", "location_id"),
                "contacts": ("contact", "location_id"),
                "accessibility": ("accessibility", "location_id"),
                "phones": ("phone", "location_id"),
                "schedules": ("schedule", "location_id"),
                **_ATTRS,
            },
        ),
        Entity(
            "service_at_location",
            ServiceAtLocation,
            "service_at_location.csv",
            ("id", "service_id", "location_id", "description"),
            refs={"service_id": "service", "location_id": "location"},
            children={
                "contacts": ("contact", "service_at_location_id"),
                "phones": ("phone", "service_at_location_id"),
                "schedules": ("schedule", "service_at_location_id"),
                **_ATTRS,
            },
            singles={
                "location": ("location", "location_id"),
                "service": ("service", "service_id"),
            },
        ),
        Entity(
            "contact",
            Contact,
            "contacts.csv",
            (
                "id",
                "organization_id",
                "service_id",
                "service_at_location_id",
                "location_id",
                "name",
                "title",
                "department",
                "email",
            ),
            refs={
                "location_id": "location",
                "organization_id": "organization",
                "service_id": "service",
                "service_at_location_id": "service_at_location",
            },
            children={"phones": ("phone", "contact_id"), **_ATTRS},
        ),
        Entity(
            "phone",
            Phone,
            "phones.csv",
            (
                "id",
                "location_id",
                "service_id",
                "organization_id",
                "contact_id",
                "service_at_location_id",
                "number",
                "extension",
                "type",
                "description",
            ),
            refs={
                "contact_id": "contact",
                "location_id": "location",
                "organization_id": "organization",
                "service_id": "service",
                "service_at_location_id": "service_at_location",
            },
            children={"languages": ("language", "phone_id"), **_ATTRS},
        ),
        Entity(
            "address",
            Address,
            "addresses.csv",
            (
                "id",
                "location_id",
                "attention",
                "address_1",
                "address_2",
                "city",
                "region",
                "state_province",
                "postal_code",
                "country",
                "address_type",
            ),
            refs={"location_id": "location"},
            children=dict(_ATTRS),
        ),
        Entity(
            "schedule",
            Schedule,
            "schedules.csv",
            (
                "id",
                "service_id",
                "location_id",
                "service_at_location_id",
                "valid_from",
                "valid_to",
                "dtstart",
                "timezone",
                "until",
                "count",
                "wkst",
                "freq",
                "interval",
                "byday",
                "byweekno",
                "bymonthday",
                "byyearday",
                "description",
                "opens_at",
                "closes_at",
                "schedule_link",
                "attending_type",
                "notes",
            ),
            refs={
                "location_id": "location",
                "service_id": "service",
                "service_at_location_id": "service_at_location",
            },
            children=dict(_ATTRS),
        ),
        Entity(
            "language",
            Language,
            "languages.csv",
            ("id", "service_id", "location_id", "phone_id", "name", "code", "note"),
            refs={"location_id": "location", "phone_id": "phone", "service_id": "service"},
            children=dict(_ATTRS),
        ),
        Entity(
            "service_area",
            ServiceArea,
            "service_areas.csv",
            ("id", "service_id", "name", "description", "extent", "extent_type", "uri"),
            refs={"service_id": "service"},
            children=dict(_ATTRS),
        ),
        Entity(
            "cost_option",
            CostOption,
            "cost_options.csv",
            (
                "id",
                "service_id",
                "valid_from",
                "valid_to",
                "option",
                "currency",
                "amount",
                "amount_description",
            ),
            refs={"service_id": "service"},
            children=dict(_ATTRS),
        ),
        Entity(
            "funding",
            Funding,
            "funding.csv",
            ("id", "organization_id", "service_id", "source"),
            refs={"organization_id": "organization", "service_id": "service"},
            children=dict(_ATTRS),
        ),
        Entity(
            "required_document",
            RequiredDocument,
            "required_documents.csv",
            ("id", "service_id", "document", "uri"),
            refs={"service_id": "service"},
            children=dict(_ATTRS),
        ),
        Entity(
            "accessibility",
            Accessibility,
            "accessibility.csv",
            ("id", "location_id", "description", "details", "url"),
            refs={"location_id": "location"},
            children=dict(_ATTRS),
        ),
        Entity(
            "organization_identifier",
            OrganizationIdentifier,
            "organization_identifiers.csv",
            ("id", "organization_id", "identifier_scheme", "identifier_type", "identifier"),
            refs={"organization_id": "organization"},
            children=dict(_ATTRS),
        ),
        Entity(
            "attribute",
            Attribute,
            "attributes.csv",
            ("id", "link_id", "taxonomy_term_id", "link_type", "link_entity", "value"),
            refs={"taxonomy_term_id": "taxonomy_term"},
            singles={"taxonomy_term": ("taxonomy_term", "taxonomy_term_id")},
        ),
    )
}
# Objects of HSDS 3.0 we do not keep (the importer says how many it left out).
NOT_KEPT = {"metadata": "metadata.csv", "meta_table_description": "meta_table_descriptions.csv"}
# The order rows are written in, so that every reference points at a row already there.
WRITE_ORDER = (
    "taxonomy",
    "taxonomy_term",
    "organization",
    "program",
    "service",
    "location",
    "service_at_location",
    "contact",
    "phone",
    "address",
    "schedule",
    "language",
    "service_area",
    "cost_option",
    "funding",
    "required_document",
    "accessibility",
    "organization_identifier",
    "attribute",
)
# What a location keeps when it is confidential: nothing that could place it.
PUBLIC_CONFIDENTIAL_LOCATION_FIELDS = ("id", "location_type", "organization_id", "name")


# --------------------------------------------------------------------------- values


def number(value: float | None) -> int | float | None:
    """HSDS numbers: whole numbers as integers (2011, not 2011.0)."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def hsds_value(value: Any) -> Any:
    """A model value as HSDS JSON has it; None for "leave the field out"."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, float | int):
        return number(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return value


def scalars(entity_name: str, obj: models.Model) -> dict[str, Any]:
    """The object's HSDS scalar fields that have a value, in HSDS order."""
    entity = ENTITIES[entity_name]
    names: Iterable[str] = entity.fields
    if isinstance(obj, Location) and obj.is_confidential:
        names = PUBLIC_CONFIDENTIAL_LOCATION_FIELDS
    result = {}
    for name in names:
        value = hsds_value(getattr(obj, entity.attname(name)))
        if value is not None:
            result[name] = value
    return result


# --------------------------------------------------------------------------- our attributes


def capacity_attribute(capacity: Capacity) -> dict[str, Any]:
    """Capacity as an attribute of its service (our taxonomy's ``capacity`` term)."""
    value = {
        "available": capacity.available,
        "maximum": capacity.maximum,
        "unit": capacity.unit,
        "updated": capacity.updated.isoformat(),
    }
    if capacity.description:
        value["description"] = capacity.description
    return {
        "id": str(capacity.pk),
        "link_id": str(capacity.service_id),
        "taxonomy_term_id": str(taxonomy.term_id(taxonomy.CAPACITY)),
        "link_entity": "service",
        "value": json.dumps(value, sort_keys=True),
    }


def confidential_attribute(location: Location) -> dict[str, Any]:
    """The confidential flag of a location, with its "call to arrange" note as the value."""
    result = {
        "id": str(uuid.uuid5(location.pk, taxonomy.CONFIDENTIAL_LOCATION)),
        "link_id": str(location.pk),
        "taxonomy_term_id": str(taxonomy.term_id(taxonomy.CONFIDENTIAL_LOCATION)),
        "link_entity": "location",
    }
    if location.arrangement_note:
        result["value"] = location.arrangement_note
    return result


# --------------------------------------------------------------------------- nested objects


def term_object(term: TaxonomyTerm) -> dict[str, Any]:
    result = scalars("taxonomy_term", term)
    if term.vocabulary is not None:
        result["taxonomy_detail"] = scalars("taxonomy", term.vocabulary)
    return result


def attribute_objects(attributes: Iterable[Attribute]) -> list[dict[str, Any]]:
    result = []
    for attribute in attributes:
        item = scalars("attribute", attribute)
        item["taxonomy_term"] = term_object(attribute.taxonomy_term)
        result.append(item)
    return result


def _our_term(code: str) -> dict[str, Any]:
    term = taxonomy.BY_CODE[code]
    return {
        "id": str(term.id),
        "code": term.code,
        "name": term.name,
        "description": term.description,
        "taxonomy": "Safe Harbor",
        "language": "en",
        "taxonomy_id": str(taxonomy.TAXONOMY_ID),
        "term_uri": taxonomy.term_uri(term.code),
    }


def _with_term(attribute: dict[str, Any], code: str) -> dict[str, Any]:
    return {**attribute, "taxonomy_term": _our_term(code)}


def phone_object(phone: Phone) -> dict[str, Any]:
    result = scalars("phone", phone)
    result["languages"] = [scalars("language", x) for x in phone.languages.all()]
    return result


def contact_object(contact: Contact) -> dict[str, Any]:
    result = scalars("contact", contact)
    result["phones"] = [phone_object(p) for p in contact.phones.all()]
    return result


def location_object(location: Location, attributes: dict[uuid.UUID, list[Attribute]]) -> Any:
    """A location with its nested objects; a confidential one with nothing that places it."""
    result = scalars("location", location)
    result["languages"] = [scalars("language", x) for x in location.languages.all()]
    result["phones"] = [phone_object(p) for p in location.phones.all()]
    result["schedules"] = [scalars("schedule", x) for x in location.schedules.all()]
    result["contacts"] = [contact_object(c) for c in location.contacts.all()]
    own = attribute_objects(attributes.get(location.pk, []))
    if location.is_confidential:
        result["addresses"] = []
        result["accessibility"] = []
        own.append(_with_term(confidential_attribute(location), taxonomy.CONFIDENTIAL_LOCATION))
    else:
        result["addresses"] = [scalars("address", a) for a in location.addresses.all()]
        result["accessibility"] = [
            scalars("accessibility", a) for a in location.accessibility.all()
        ]
    result["attributes"] = own
    return result


def organization_object(organization: Organization) -> dict[str, Any]:
    return scalars("organization", organization)


def service_list_item(service: Service) -> dict[str, Any]:
    """One item of ``GET /services``: the one-to-one fields (compiled/service_list.json)."""
    result = scalars("service", service)
    result["organization"] = organization_object(service.organization)
    if service.program is not None:
        result["program"] = scalars("program", service.program)
    return result


def service_full(service: Service, attributes: dict[uuid.UUID, list[Attribute]]) -> Any:
    """A fully nested service (compiled/service.json), as ``GET /services/{id}`` and the JSON
    export give it. ``attributes`` maps object ids to their attributes (one query for all)."""
    result = service_list_item(service)
    result["phones"] = [phone_object(p) for p in service.phones.all()]
    result["schedules"] = [scalars("schedule", x) for x in service.schedules.all()]
    result["service_areas"] = [scalars("service_area", x) for x in service.service_areas.all()]
    result["languages"] = [scalars("language", x) for x in service.languages.all()]
    result["funding"] = [scalars("funding", x) for x in service.funding.all()]
    result["cost_options"] = [scalars("cost_option", x) for x in service.cost_options.all()]
    result["required_documents"] = [
        scalars("required_document", x) for x in service.required_documents.all()
    ]
    result["contacts"] = [contact_object(c) for c in service.contacts.all()]
    sals = []
    for sal in service.service_at_locations.all():
        item = scalars("service_at_location", sal)
        item["contacts"] = [contact_object(c) for c in sal.contacts.all()]
        item["phones"] = [phone_object(p) for p in sal.phones.all()]
        item["schedules"] = [scalars("schedule", x) for x in sal.schedules.all()]
        item["attributes"] = attribute_objects(attributes.get(sal.pk, []))
        item["location"] = location_object(sal.location, attributes)
        sals.append(item)
    result["service_at_locations"] = sals
    own = attribute_objects(attributes.get(service.pk, []))
    capacity = getattr(service, "capacity", None)
    if capacity is not None:
        own.append(_with_term(capacity_attribute(capacity), taxonomy.CAPACITY))
    result["attributes"] = own
    return result


def service_at_location_list_item(sal: ServiceAtLocation) -> dict[str, Any]:
    """One item of ``GET /service_at_locations`` (compiled/service_at_location_list.json)."""
    result = scalars("service_at_location", sal)
    result["location"] = scalars("location", sal.location)
    result["service"] = scalars("service", sal.service)
    return result


# Prefetches for service_full: one query per relation, whatever the page size.
SERVICE_FULL_PREFETCH = (
    "phones__languages",
    "schedules",
    "service_areas",
    "languages",
    "funding",
    "cost_options",
    "required_documents",
    "contacts__phones__languages",
    "service_at_locations__contacts__phones__languages",
    "service_at_locations__phones__languages",
    "service_at_locations__schedules",
    "service_at_locations__location__languages",
    "service_at_locations__location__phones__languages",
    "service_at_locations__location__schedules",
    "service_at_locations__location__contacts__phones__languages",
    "service_at_locations__location__addresses",
    "service_at_locations__location__accessibility",
)


def attributes_by_link(link_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[Attribute]]:
    """The attributes of many objects, in one query (with their terms and taxonomies)."""
    ids = list(link_ids)
    result: dict[uuid.UUID, list[Attribute]] = {}
    if not ids:
        return result
    rows = (
        Attribute.objects.filter(link_id__in=ids)
        .select_related("taxonomy_term__vocabulary")
        .order_by("link_id", "id")
    )
    for attribute in rows:
        result.setdefault(attribute.link_id, []).append(attribute)
    return result


def full_services(services: Iterable[Service]) -> list[dict[str, Any]]:
    """Fully nested services for an already prefetched list."""
    services = list(services)
    ids: list[uuid.UUID] = []
    for service in services:
        ids.append(service.pk)
        for sal in service.service_at_locations.all():
            ids += [sal.pk, sal.location_id]
    attributes = attributes_by_link(ids)
    return [service_full(s, attributes) for s in services]
