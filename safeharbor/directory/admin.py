"""Admin for directory data (public data, not youth data): linking organisations to agencies,
correcting a location's confidential flag."""

from django.contrib import admin

from .models import Capacity, Location, Organization, Service, Taxonomy, TaxonomyTerm


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "agency"]
    search_fields = ["name"]
    autocomplete_fields = ["agency"]
    fields = ["name", "description", "agency"]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "is_confidential"]
    list_filter = ["is_confidential"]
    search_fields = ["name"]
    fields = ["name", "is_confidential", "arrangement_note"]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "status", "last_modified"]
    list_filter = ["status"]
    search_fields = ["name"]
    raw_id_fields = ["organization", "program"]
    exclude = ["search_text"]


admin.site.register(Capacity)
admin.site.register(Taxonomy)
admin.site.register(TaxonomyTerm)
