"""Break-glass access: a logged, time-limited emergency look at a record one may not see."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from safeharbor.core.models import TimeStampedModel


class BreakGlassAccess(TimeStampedModel):
    """Opened with a reason; expires on its own; reviewed by a supervisor of the user's agency."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="break_glass"
    )
    youth = models.ForeignKey("youth.Youth", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=500)
    opened_at = models.DateTimeField(_("opened"))
    expires_at = models.DateTimeField(_("expires"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=500, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["user", "youth", "expires_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("opened_at")),
                name="break_glass_expires_after_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.youth_id} ({self.opened_at:%Y-%m-%d %H:%M})"
