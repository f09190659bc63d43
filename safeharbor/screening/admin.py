"""Instruments in the admin, read-only: they are loaded by the import page or command, never
edited (screenings are scored against them). Screenings are youth data and have no admin."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Instrument


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin[Instrument]):
    list_display = ("title", "version", "url", "validated", "status", "agency", "created_at")
    list_filter = ("validated", "status")
    search_fields = ("title", "url")
    readonly_fields = [f.name for f in Instrument._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
