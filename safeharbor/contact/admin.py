"""Only the agency rules are administered here; nothing about a youth is registered."""

from django.contrib import admin

from .models import ContactRule


@admin.register(ContactRule)
class ContactRuleAdmin(admin.ModelAdmin):
    list_display = ["agency", "lost_contact_days", "stabilisation_hours", "location_attempt_days"]
