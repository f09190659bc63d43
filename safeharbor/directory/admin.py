"""Admin for directory data (public data, not youth data): linking organisations to agencies,
correcting a location's confidential flag. Every save and delete here rebuilds the search rows
of the services it touches (``index.py``), so search never shows what the admin changed away
(a location made confidential drops out of distance searches at once)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from . import index
from .models import Capacity, Location, Organization, Service, Taxonomy, TaxonomyTerm


class ReindexingAdmin(admin.ModelAdmin):
    """Rebuilds the search rows of the services an object bears on, after a save or delete."""

    def services_of(self, objects: list[Any]) -> list[uuid.UUID]:
        raise NotImplementedError

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            index.rebuild(self.services_of([obj]))

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            affected = self.services_of([obj])
            super().delete_model(request, obj)
            index.rebuild(affected)  # rows of deleted services are forgotten

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Model]) -> None:
        with transaction.atomic():
            affected = self.services_of(list(queryset))
            super().delete_queryset(request, queryset)
            index.rebuild(affected)


@admin.register(Organization)
class OrganizationAdmin(ReindexingAdmin):
    list_display = ["name", "agency"]
    search_fields = ["name"]
    autocomplete_fields = ["agency"]
    fields = ["name", "description", "agency"]

    def services_of(self, objects: list[Any]) -> list[uuid.UUID]:
        return index.services_of_organizations(o.pk for o in objects)


@admin.register(Location)
class LocationAdmin(ReindexingAdmin):
    list_display = ["name", "is_confidential"]
    list_filter = ["is_confidential"]
    search_fields = ["name"]
    fields = ["name", "is_confidential", "arrangement_note"]

    def services_of(self, objects: list[Any]) -> list[uuid.UUID]:
        return index.services_at_locations(o.pk for o in objects)


@admin.register(Service)
class ServiceAdmin(ReindexingAdmin):
    list_display = ["name", "organization", "status", "last_modified"]
    list_filter = ["status"]
    search_fields = ["name"]
    raw_id_fields = ["organization", "program"]

    def services_of(self, objects: list[Any]) -> list[uuid.UUID]:
        return [o.pk for o in objects]


@admin.register(Capacity)
class CapacityAdmin(ReindexingAdmin):
    def services_of(self, objects: list[Any]) -> list[uuid.UUID]:
        return [o.service_id for o in objects]


@admin.register(TaxonomyTerm)
class TaxonomyTermAdmin(ReindexingAdmin):
    def services_of(self, objects: list[Any]) -> list[uuid.UUID]:
        return index.services_with_terms(o.pk for o in objects)


admin.site.register(Taxonomy)
