from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only viewer: the trail cannot be changed from here (nor anywhere else)."""

    list_display = ["seq", "at", "actor_label", "action", "object_type", "object_id", "category"]
    list_filter = ["action"]
    search_fields = ["actor_label", "object_id"]
    ordering = ["-seq"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
