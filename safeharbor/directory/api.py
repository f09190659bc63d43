"""The HSDS 3.0 API (``/api/hsds/``): public, read-only, no authentication, no cookies.

Paths, parameters and response shapes are those of the official ``schema/openapi.json``; the
bodies come from the public serialisers in ``hsds.py`` (so a confidential location's address
and coordinates are never served), and tests validate every response against the official
schemas. It is a separate API from ``/api/v1/``, with its own specification, so it is left out
of our OpenAPI document (``exclude=True``).

Lists are pages: ``total_items``, ``total_pages``, ``page_number``, ``size``, ``first_page``,
``last_page``, ``empty``, ``contents``; ``page`` (from 1) and ``per_page`` (1-100, default 50).
Filters of ``/services`` and ``/service_at_locations``: ``search`` (full text, typo-tolerant),
``taxonomy_term_id``, ``organization_id``, ``modified_after`` (ISO date-time), ``postcode``
(services at a location with that postal code) and ``proximity`` (metres from the postcode's
centroid; needs ``postcode``; nearest first). A malformed parameter is a 400 ``{"detail": ...}``.
"""

from __future__ import annotations

import datetime
import math
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import hsds, schemas, search
from .models import Organization, ServiceAtLocation, Taxonomy, TaxonomyTerm

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100
METRES_PER_MILE = 1609.344


def _one(request: Request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise ValidationError({"detail": f"Give {name} at most once."})
    return values[0] if values else None


def _integer(request: Request, name: str, default: int, low: int, high: int) -> int:
    text = _one(request, name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValidationError({"detail": f"{name} must be a whole number."}) from None
    if not low <= value <= high:
        raise ValidationError({"detail": f"{name} must be between {low} and {high}."})
    return value


def _uuid(request: Request, name: str) -> uuid.UUID | None:
    text = _one(request, name)
    if not text:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        raise ValidationError({"detail": f"{name} must be a UUID."}) from None


def _datetime(request: Request, name: str) -> datetime.datetime | None:
    text = _one(request, name)
    if not text:
        return None
    try:
        value = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError({"detail": f"{name} must be an ISO 8601 date-time."}) from None
    return timezone.make_aware(value, datetime.UTC) if timezone.is_naive(value) else value


def _paging(request: Request) -> tuple[int, int]:
    return (
        _integer(request, "page", 1, 1, 1_000_000),
        _integer(request, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE),
    )


def page_body(contents: Sequence[Any], total: int, page: int, per_page: int) -> dict[str, Any]:
    """The HSDS Page wrapper (components.schemas.Page of the official OpenAPI)."""
    pages = math.ceil(total / per_page) if total else 0
    return {
        "total_items": total,
        "total_pages": pages,
        "page_number": page,
        "size": len(contents),
        "first_page": page == 1,
        "last_page": page >= pages,
        "empty": not contents,
        "contents": list(contents),
    }


def _criteria(request: Request) -> search.Criteria:
    postcode = (_one(request, "postcode") or "").strip()
    proximity = _one(request, "proximity")
    near = None
    radius = search.DEFAULT_RADIUS_MILES
    if proximity:
        try:
            metres = float(proximity)
        except ValueError:
            raise ValidationError({"detail": "proximity must be a number of metres."}) from None
        if not postcode:
            raise ValidationError({"detail": "proximity needs a postcode."})
        if not 0 < metres <= search.MAX_RADIUS_MILES * METRES_PER_MILE:
            raise ValidationError({"detail": "proximity must be a positive number of metres."})
        near = search.zip_centroid(postcode)
        if near is None:
            raise ValidationError({"detail": "postcode must be a 5-digit US ZIP code."})
        radius = metres / METRES_PER_MILE
    return search.Criteria(
        text=_one(request, "search") or "",
        need=_uuid(request, "taxonomy_term_id"),
        organization_id=_uuid(request, "organization_id"),
        modified_after=_datetime(request, "modified_after"),
        postcode="" if near else postcode,
        near=near,
        radius_miles=radius,
        active_only=False,
    )


class HsdsView(APIView):
    """Public and read-only: no authentication, so no session and no CSRF cookie."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]
    # Throttled per client address by the project's default throttle (API_USER_RATE).


@extend_schema(exclude=True)
class RootView(HsdsView):
    def get(self, request: Request) -> Response:
        return Response(
            {
                "version": schemas.HSDS_VERSION,
                "profile": "https://docs.openreferral.org/en/v3.0/",
                "openapi_url": schemas.OPENAPI_URL,
            }
        )


def _full(queryset: QuerySet[Any]) -> QuerySet[Any]:
    return queryset.prefetch_related(*hsds.SERVICE_FULL_PREFETCH)


@extend_schema(exclude=True)
class ServiceListView(HsdsView):
    def get(self, request: Request) -> Response:
        page, per_page = _paging(request)
        full = (_one(request, "full") or "").lower() == "true"
        results = search.search_services(
            _criteria(request), page=page, per_page=per_page, prepare=_full if full else None
        )
        services = [hit.service for hit in results.hits]
        if full:
            contents = hsds.full_services(services)
        else:
            contents = [hsds.service_list_item(s) for s in services]
        return Response(page_body(contents, results.total, page, per_page))


@extend_schema(exclude=True)
class ServiceDetailView(HsdsView):
    def get(self, request: Request, service_id: str) -> Response:
        from .selectors import service_get

        try:
            service = service_get(service_id=uuid.UUID(service_id), public=False)
        except (ValueError, Http404):
            raise NotFound("No such service.") from None
        return Response(hsds.full_services([service])[0])


@extend_schema(exclude=True)
class OrganizationListView(HsdsView):
    def get(self, request: Request) -> Response:
        page, per_page = _paging(request)
        queryset = Organization.objects.order_by("name", "pk")
        text = _one(request, "search")
        if text:
            queryset = queryset.filter(name__icontains=text)
        total = queryset.count()
        rows = queryset[(page - 1) * per_page : page * per_page]
        contents = [hsds.organization_object(o) for o in rows]
        return Response(page_body(contents, total, page, per_page))


@extend_schema(exclude=True)
class ServiceAtLocationListView(HsdsView):
    def get(self, request: Request) -> Response:
        page, per_page = _paging(request)
        criteria = _criteria(request)
        services, _words, _fixed = search.filtered(criteria)
        queryset = ServiceAtLocation.objects.filter(service__in=services)
        offset = (page - 1) * per_page
        related = ("service", "location")
        if criteria.near is not None:
            ranked = _sal_by_distance(queryset, criteria.near, criteria.radius_miles)
            total = len(ranked)
            window = [pk for pk, _d in ranked[offset : offset + per_page]]
            by_id = ServiceAtLocation.objects.select_related(*related).in_bulk(window)
            rows = [by_id[pk] for pk in window]
        else:
            total = queryset.count()
            rows = list(
                queryset.select_related(*related).order_by("pk")[offset : offset + per_page]
            )
        contents = [hsds.service_at_location_list_item(r) for r in rows]
        return Response(page_body(contents, total, page, per_page))


def _sal_by_distance(
    queryset: QuerySet[ServiceAtLocation], point: tuple[float, float], miles: float
) -> list[tuple[uuid.UUID, float]]:
    south, north, west, east = search.bounding_box(point, miles)
    rows = queryset.filter(
        location__is_confidential=False,
        location__latitude__range=(south, north),
        location__longitude__range=(west, east),
    ).values_list("pk", "location__latitude", "location__longitude")
    ranked = []
    for pk, lat, lon in rows:
        if lat is None or lon is None:  # excluded by the box; says so to the type checker
            continue
        distance = search.haversine_miles(point, (lat, lon))
        if distance <= miles:
            ranked.append((pk, distance))
    return sorted(ranked, key=lambda item: (item[1], item[0]))


def _simple_list(
    queryset: QuerySet[Any], serialise: Callable[[Any], dict[str, Any]]
) -> Callable[[Request], Response]:
    def view(request: Request) -> Response:
        page, per_page = _paging(request)
        text = _one(request, "search")
        rows = queryset.all()
        if text:
            rows = rows.filter(name__icontains=text)
        total = rows.count()
        contents = [serialise(o) for o in rows[(page - 1) * per_page : page * per_page]]
        return Response(page_body(contents, total, page, per_page))

    return view


@extend_schema(exclude=True)
class TaxonomyListView(HsdsView):
    def get(self, request: Request) -> Response:
        return _simple_list(
            Taxonomy.objects.order_by("name", "pk"), lambda t: hsds.scalars("taxonomy", t)
        )(request)


@extend_schema(exclude=True)
class TaxonomyTermListView(HsdsView):
    def get(self, request: Request) -> Response:
        queryset = TaxonomyTerm.objects.select_related("vocabulary").order_by("name", "pk")
        taxonomy_id = _uuid(request, "taxonomy_id")
        if taxonomy_id:
            queryset = queryset.filter(vocabulary_id=taxonomy_id)
        parent_id = _uuid(request, "parent_id")
        if parent_id:
            queryset = queryset.filter(parent_id=parent_id)
        if (_one(request, "top_only") or "").lower() == "true":
            queryset = queryset.filter(parent_id__isnull=True)
        return _simple_list(queryset, hsds.term_object)(request)
