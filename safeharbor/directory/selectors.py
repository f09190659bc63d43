"""Reads of the directory. Directory data is public (never youth data), so these take no
access-policy check, except who may edit a service."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from safeharbor.accounts.choices import Role
from safeharbor.core import clock

from . import hsds
from .models import Attribute, Location, Service


def can_edit_service(user: Any, service: Service) -> bool:
    """An administrator of the agency the service's organisation is linked to."""
    if not getattr(user, "is_authenticated", False):
        return False
    agency_id = service.organization.agency_id
    return (
        agency_id is not None
        and user.role == Role.AGENCY_ADMIN
        and user.agency_id_or_none == agency_id
    )


def service_get(*, service_id: uuid.UUID, public: bool = True) -> Service:
    """One service with everything its page shows; 404 when missing (or, publicly, inactive)."""
    queryset = Service.objects.select_related(
        "organization", "program", "capacity"
    ).prefetch_related(*hsds.SERVICE_FULL_PREFETCH)
    if public:
        queryset = queryset.filter(status="active")
    try:
        return queryset.get(pk=service_id)
    except Service.DoesNotExist:
        raise Http404 from None


def service_attributes(service: Service) -> list[Attribute]:
    return list(
        Attribute.objects.filter(link_entity="service", link_id=service.pk)
        .select_related("taxonomy_term")
        .order_by("taxonomy_term__name")
    )


def services_editable_by(user: Any) -> QuerySet[Service]:
    """The services an agency administrator keeps up to date."""
    if getattr(user, "role", None) != Role.AGENCY_ADMIN or user.agency_id_or_none is None:
        return Service.objects.none()
    return (
        Service.objects.filter(organization__agency_id=user.agency_id_or_none)
        .select_related("organization", "capacity")
        .order_by("name", "pk")
    )


def last_updated(service: Service) -> datetime.datetime:
    """When the service was last updated: HSDS last_modified, else when we last saved it."""
    return service.last_modified or service.updated_at


def days_since_update(service: Service, today: datetime.date | None = None) -> int:
    today = today or clock.today()
    return max(0, (today - last_updated(service).date()).days)


def public_locations(service: Service) -> list[tuple[Location, list[Any]]]:
    """Each location of the service with the addresses that may be shown (none for a
    confidential location)."""
    result = []
    for sal in service.service_at_locations.all():
        location = sal.location
        addresses = [] if location.is_confidential else list(location.addresses.all())
        result.append((location, addresses))
    return result
